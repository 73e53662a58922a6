"""Compose a digest for a time window from stored items and scores; never renders or fetches.

Counts are aggregated in SQL (json_each over the themes each score carries), so a
window over 100k stored items composes in well under a second with the items indexes.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import sqlite_utils

from classifiers.baseline import is_spike, lift_against_baseline
from config import RiftwatchError, Settings
from config.echo import quote_input
from config.themes import Taxonomy
from digest.changes import compose_changes
from digest.model import (
    STANCES,
    ChannelRow,
    DailyShare,
    Digest,
    FeedHealth,
    NewTarget,
    PostRef,
    Rift,
    StanceMix,
    ThemeRow,
    trim_quote,
)
from digest.spreading import compose_spreading
from digest.view_speed import fastest_by_views
from store.feeds import list_feeds
from store.models import from_iso, to_iso, utc_now
from store.scores import stance_probability_sql, theme_present_sql
from store.targets import first_attacked_between, target_display_name

DIGEST_WINDOW = timedelta(hours=24)  # what /summary covers by default and spike alerts check
LONGEST_WINDOW_DAYS = 3650  # ten years: longer is a typo, and would overflow datetime
_WINDOW_RE = re.compile(r"^\s*([0-9]{1,20})\s*([mhdw])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class WindowError(RiftwatchError, ValueError):
    """Text that is not a window (``--since``, ``/summary``); ``str()`` says what would be."""


def parse_window(text: str) -> timedelta:
    """'90m', '6h', '24h', '7d', '2w' → timedelta; WindowError with a readable message."""
    match = _WINDOW_RE.match(text)
    if not match or int(match.group(1)) == 0:
        raise WindowError(f"{quote_input(text)} is not a window; use a number and m, h, d or w, "
                          "e.g. 24h or 7d")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if seconds > LONGEST_WINDOW_DAYS * _UNIT_SECONDS["d"]:
        raise WindowError(f"{match.group(1)}{match.group(2)} is too long a window; "
                          f"the longest is {LONGEST_WINDOW_DAYS}d")
    return timedelta(seconds=seconds)


def latest_model_version(db: sqlite_utils.Database) -> str | None:
    row = db.execute("SELECT model_version FROM scores ORDER BY scored_at DESC LIMIT 1").fetchone()
    return row[0] if row else None


class _Window:
    """The SQL filter for one slice: a role, a time range, an optional channel."""

    def __init__(self, role: str, since: datetime, until: datetime, channel: str | None) -> None:
        self.where = "f.role = ? AND i.published_at >= ? AND i.published_at < ?"
        self.params: list[Any] = [role, to_iso(since), to_iso(until)]
        if channel is not None:
            self.where += " AND f.name = ?"
            self.params.append(channel)


_FROM_SCORED = (
    "FROM items i JOIN feeds f ON f.id = i.feed_id "
    "JOIN scores s ON s.item_id = i.id AND s.model_version = ?"
)


def _theme_columns(themes: list[str]) -> tuple[str, list[Any]]:
    columns = [f'SUM({theme_present_sql()}) AS "t_{name}"' for name in themes]
    return ", ".join(columns), list(themes)


def _slice_counts(
    db: sqlite_utils.Database, model_version: str, window: _Window, themes: list[str]
) -> dict[str, int]:
    """Total scored posts, per-stance counts and per-theme counts for one slice."""
    theme_sql, theme_params = _theme_columns(themes)
    stance_sql = ", ".join(f"SUM(s.stance = '{stance}') AS \"s_{stance}\"" for stance in STANCES)
    sql = f"SELECT COUNT(*) AS total, {stance_sql}, {theme_sql} {_FROM_SCORED} WHERE {window.where}"
    cursor = db.execute(sql, [*theme_params, model_version, *window.params])
    names = [column[0] for column in cursor.description]
    return {name: int(value or 0) for name, value in zip(names, cursor.fetchone(), strict=True)}


def _shares(counts: dict[str, int]) -> dict[str, float]:
    total = counts["total"]
    return {stance: (counts[f"s_{stance}"] / total if total else 0.0) for stance in STANCES}


def _stance_mix(now: dict[str, int], base: dict[str, int], news: dict[str, int]) -> StanceMix:
    return StanceMix(
        counts={stance: now[f"s_{stance}"] for stance in STANCES},
        shares=_shares(now),
        baseline_shares=_shares(base),
        news_shares=_shares(news),
        total=now["total"],
        baseline_total=base["total"],
        news_total=news["total"],
    )


def _theme_rows(
    taxonomy: Taxonomy, settings: Settings, now: dict[str, int], base: dict[str, int],
    news: dict[str, int], only: str | None,
) -> list[ThemeRow]:
    rows = []
    for theme in taxonomy.themes:
        if only is not None and theme.name != only:
            continue
        key = f"t_{theme.name}"
        own = lift_against_baseline(now[key], now["total"], base[key], base["total"])
        against_news = lift_against_baseline(now[key], now["total"], news[key], news["total"])
        rows.append(ThemeRow(
            theme=theme.name, label=theme.label, count=own.count, total=own.total,
            share=own.share, baseline_count=own.reference_count,
            baseline_total=own.reference_total, baseline_share=own.reference_share,
            news_count=against_news.reference_count, news_total=against_news.reference_total,
            news_share=against_news.reference_share, lift=own.lift, z=own.z,
            p_value=own.p_value, news_lift=against_news.lift,
            spike=is_spike(own, settings.spike_lift, settings.spike_z, settings.spike_min_count),
        ))
    return sorted(rows, key=lambda row: (row.spike, row.lift * (row.count > 0)), reverse=True)


def _post_ref(row: dict[str, Any], text_field: str = "evidence", theme: str | None = None
              ) -> PostRef:
    return PostRef(
        item_id=row["id"], feed_name=row["feed_name"], feed_title=row["feed_title"],
        url=row["url"], published_at=from_iso(row["published_at"]),
        quote=trim_quote(row.get(text_field) or row.get("text")), stance=row.get("stance"),
        stance_probability=row.get("stance_probability"), theme=theme,
        theme_probability=row.get("theme_probability") if theme is not None else None,
        language=row.get("language"), edited=int(row.get("version") or 1) > 1,
        deleted=row.get("deleted_at") is not None,
    )


_POST_COLUMNS = (
    "i.id, i.url, i.published_at, i.text, i.version, i.deleted_at, f.name AS feed_name, "
    f"f.title AS feed_title, s.stance, {stance_probability_sql('s')} AS stance_probability, "
    "s.evidence, s.language"
)


def _top_posts(
    db: sqlite_utils.Database, model_version: str, window: _Window, themes: list[str],
    per_theme: int,
) -> dict[str, list[PostRef]]:
    top: dict[str, list[PostRef]] = {}
    for theme in themes:
        sql = (
            f"SELECT {_POST_COLUMNS}, json_extract(s.themes, ?) AS theme_probability "
            f"{_FROM_SCORED} WHERE {window.where} AND {theme_present_sql()} "
            "ORDER BY theme_probability DESC, i.published_at DESC LIMIT ?"
        )
        path = f'$."{theme}"'
        rows = db.query(sql, [path, model_version, *window.params, theme, per_theme])
        top[theme] = [_post_ref(row, theme=theme) for row in rows]
    return top


def _rifts(
    db: sqlite_utils.Database, model_version: str, window: _Window, taxonomy: Taxonomy,
    evidence_per_rift: int,
) -> list[Rift]:
    sql = (
        f"SELECT {_POST_COLUMNS}, s.targets {_FROM_SCORED} "
        f"WHERE {window.where} AND s.targets != '[]' ORDER BY s.p_critical DESC"
    )
    labels = {target.name: target.label for target in taxonomy.targets}
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    titles: dict[str, str | None] = {}
    for row in db.query(sql, [model_version, *window.params]):
        titles[row["feed_name"]] = row["feed_title"]
        for target in json.loads(row["targets"]):
            grouped[(row["feed_name"], target)].append(row)
    rifts = [
        Rift(source=source, source_title=titles[source], target=target,
             target_label=labels.get(target, target), count=len(rows),
             evidence=[_post_ref(row) for row in rows[:evidence_per_rift]])
        for (source, target), rows in grouped.items()
    ]
    return sorted(rifts, key=lambda rift: rift.count, reverse=True)


def _channel_rows(
    db: sqlite_utils.Database, model_version: str | None, since: datetime, until: datetime,
    themes: list[str], channel: str | None,
) -> list[ChannelRow]:
    theme_sql, theme_params = _theme_columns(themes)
    stance_sql = ", ".join(f"SUM(s.stance = '{stance}') AS \"s_{stance}\"" for stance in STANCES)
    sql = (
        f"SELECT f.name, f.title, f.role, COUNT(i.id) AS posts, MAX(i.published_at) AS last, "
        f"{stance_sql}, {theme_sql} FROM items i JOIN feeds f ON f.id = i.feed_id "
        "LEFT JOIN scores s ON s.item_id = i.id AND s.model_version = ? "
        "WHERE i.published_at >= ? AND i.published_at < ?"
        + (" AND f.name = ?" if channel else "")
        + " GROUP BY f.id ORDER BY f.role, posts DESC, f.name"
    )
    params = [*theme_params, model_version, to_iso(since), to_iso(until)]
    rows = []
    for row in db.query(sql, params + ([channel] if channel else [])):
        theme_counts = Counter({name: int(row[f"t_{name}"] or 0) for name in themes})
        top = theme_counts.most_common(1)
        rows.append(ChannelRow(
            feed_name=row["name"], title=row["title"], role=row["role"], posts=row["posts"],
            stance_counts={stance: int(row[f"s_{stance}"] or 0) for stance in STANCES},
            top_theme=top[0][0] if top and top[0][1] > 0 else None,
            last_post_at=from_iso(row["last"]),
        ))
    return rows


def _newest_posts(
    db: sqlite_utils.Database, since: datetime, until: datetime, channel: str | None,
    per_channel: int,
) -> list[PostRef]:
    sql = (
        "SELECT * FROM (SELECT i.id, i.url, i.published_at, i.text, i.version, i.deleted_at, "
        "f.name AS feed_name, "
        "f.title AS feed_title, ROW_NUMBER() OVER (PARTITION BY i.feed_id "
        "ORDER BY i.published_at DESC, i.id DESC) AS rank FROM items i "
        "JOIN feeds f ON f.id = i.feed_id WHERE i.published_at >= ? AND i.published_at < ?"
        + (" AND f.name = ?" if channel else "")
        + ") WHERE rank <= ? ORDER BY published_at DESC"
    )
    params = [to_iso(since), to_iso(until)] + ([channel] if channel else []) + [per_channel]
    return [_post_ref(row, text_field="text") for row in db.query(sql, params)]


_FAILING_SINCE = (
    "SELECT l.feed_id, MIN(l.finished_at) FROM fetch_log l JOIN feeds f ON f.id = l.feed_id "
    "WHERE l.status = 'error' AND l.finished_at > COALESCE(f.last_success_at, '') "
    "GROUP BY l.feed_id"
)


def _health(db: sqlite_utils.Database, since: datetime, until: datetime) -> list[FeedHealth]:
    counts = dict(db.execute(
        "SELECT feed_id, COUNT(*) FROM items WHERE published_at >= ? AND published_at < ? "
        "GROUP BY feed_id", [to_iso(since), to_iso(until)]).fetchall())
    first_failures = dict(db.execute(_FAILING_SINCE).fetchall())
    return [
        FeedHealth(name=feed.name, role=feed.role, kind=feed.kind, enabled=feed.enabled,
                   last_success_at=feed.last_success_at, last_error=feed.last_error,
                   error_count=feed.error_count, next_retry_at=feed.next_retry_at,
                   items_in_window=int(counts.get(feed.id, 0)),
                   failing_since=((first_failures.get(feed.id) or feed.last_error_at)
                                  if feed.error_count else None))
        for feed in list_feeds(db)
    ]


def _post_counts(db: sqlite_utils.Database, model_version: str | None, since: datetime,
                 until: datetime, channel: str | None) -> tuple[dict[str, int], int]:
    """Posts per role and how many of them are scored, under one filter, in one query."""
    sql = ("SELECT f.role, COUNT(*), COUNT(s.item_id) FROM items i "
           "JOIN feeds f ON f.id = i.feed_id "
           "LEFT JOIN scores s ON s.item_id = i.id AND s.model_version = ? "
           "WHERE i.published_at >= ? AND i.published_at < ?"
           + (" AND f.name = ?" if channel else "") + " GROUP BY f.role")
    params = [model_version, to_iso(since), to_iso(until)] + ([channel] if channel else [])
    rows = db.execute(sql, params).fetchall()
    return {role: int(count) for role, count, _ in rows}, sum(int(row[2]) for row in rows)


def _subject_role(db: sqlite_utils.Database, channel: str | None) -> str:
    """Whose posts the stance and theme figures describe: the channel's role, else bloggers."""
    if channel is None:
        return "blogger"
    row = db.execute("SELECT role FROM feeds WHERE name = ?", [channel]).fetchone()
    return str(row[0]) if row is not None else "blogger"


def compose_digest(
    db: sqlite_utils.Database, settings: Settings, taxonomy: Taxonomy, since: datetime,
    until: datetime, channel: str | None = None, theme: str | None = None,
    model_version: str | None = None,
) -> Digest:
    """Everything a digest says about [since, until), optionally for one channel or theme."""
    if theme is not None and theme not in taxonomy.theme_names():
        raise ValueError(f"unknown theme {theme!r}; themes: {', '.join(taxonomy.theme_names())}")
    version = model_version or latest_model_version(db)
    themes = taxonomy.theme_names()
    by_role, scored = _post_counts(db, version, since, until, channel)
    role = _subject_role(db, channel)
    digest = Digest(
        since=since, until=until, generated_at=utc_now(), model_version=version,
        total_items=sum(by_role.values()), items_by_role=by_role, scored_items=scored,
        baseline_days=settings.baseline_days, stance=None, themes=[], rifts=[], top_posts={},
        channels=_channel_rows(db, version, since, until, themes, channel),
        newest=_newest_posts(db, since, until, channel, settings.digest_newest_per_channel),
        health=_health(db, since, until),
        channel_filter=channel, theme_filter=theme, subject_role=role,
    )
    if version is None:
        return digest
    window = _Window(role, since, until, channel)
    baseline = _Window(role, since - timedelta(days=settings.baseline_days), since, channel)
    news = _Window("news", since, until, None)
    now_counts = _slice_counts(db, version, window, themes)
    base_counts = _slice_counts(db, version, baseline, themes)
    news_counts = _slice_counts(db, version, news, themes)
    digest.stance = _stance_mix(now_counts, base_counts, news_counts)
    digest.themes = _theme_rows(taxonomy, settings, now_counts, base_counts, news_counts, theme)
    shown = [row.theme for row in digest.themes if row.spike] or [
        row.theme for row in digest.themes if row.count > 0][:3]
    digest.top_posts = _top_posts(db, version, window, shown, settings.digest_posts_per_theme)
    digest.rifts = _rifts(db, version, window, taxonomy, settings.digest_rift_evidence)
    digest.spreading = compose_spreading(db, settings, since, until, version)
    digest.new_targets = _new_targets(db, version, since, until, taxonomy)
    digest.changes = compose_changes(db, since, until, version)
    digest.fastest_by_views = fastest_by_views(db, settings, since, until, version)
    return digest


def _new_targets(db: sqlite_utils.Database, model_version: str, since: datetime,
                 until: datetime, taxonomy: Taxonomy) -> list[NewTarget]:
    """Targets first attacked in [since, until) by any watched feed, listed or not."""
    labels = {target.name: target.label for target in taxonomy.targets}
    return [NewTarget(tally.target, labels.get(tally.target, target_display_name(tally.target)),
                      tally.unlisted, tally.posts, tally.channels)
            for tally in first_attacked_between(db, model_version, since, until)]


def theme_daily_shares(
    db: sqlite_utils.Database, theme: str, days: int, until: datetime | None = None,
    model_version: str | None = None,
) -> list[DailyShare]:
    """Per UTC day over the last ``days`` days: the theme's share among bloggers and news."""
    end = until or utc_now()
    first = (end - timedelta(days=days - 1)).date()
    version = model_version or latest_model_version(db)
    sql = (
        f"SELECT substr(i.published_at, 1, 10) AS day, f.role, COUNT(*) AS total, "
        f"SUM({theme_present_sql()}) AS hits {_FROM_SCORED} "
        "WHERE i.published_at >= ? AND i.published_at < ? GROUP BY day, f.role"
    )
    params = [theme, version, f"{first.isoformat()}T00:00:00Z", to_iso(end)]
    counts: dict[tuple[str, str], tuple[int, int]] = {
        (row["day"], row["role"]): (int(row["hits"] or 0), int(row["total"]))
        for row in db.query(sql, params)
    }
    return [_daily_share(first + timedelta(days=offset), counts) for offset in range(days)]


def _daily_share(day: date, counts: dict[tuple[str, str], tuple[int, int]]) -> DailyShare:
    blog_hits, blog_total = counts.get((day.isoformat(), "blogger"), (0, 0))
    news_hits, news_total = counts.get((day.isoformat(), "news"), (0, 0))
    return DailyShare(
        day=day, blogger_count=blog_hits, blogger_total=blog_total,
        blogger_share=blog_hits / blog_total if blog_total else 0.0,
        news_count=news_hits, news_total=news_total,
        news_share=news_hits / news_total if news_total else 0.0,
    )
