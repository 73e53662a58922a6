"""Compose a digest for a time window from stored items and scores; never renders or fetches.

The store counts in SQL (``store.posts``: json_each over the themes each score carries), so
a window over 100k stored items composes in well under a second with the items indexes.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlite_utils

from classifiers.baseline import is_spike, lift_against_baseline
from config import RiftwatchError, Settings
from config.echo import quote_input
from config.themes import STANCE_NAMES, Taxonomy
from digest.changes import compose_changes
from digest.discovery import discover_channels
from digest.model import (
    ChannelRow,
    DailyShare,
    Digest,
    FeedHealth,
    NewTarget,
    PostRef,
    Rift,
    StanceMix,
    ThemeRow,
    post_ref_from_row,
)
from digest.spreading import compose_spreading
from digest.storylines import compose_storylines
from digest.view_speed import fastest_by_views
from store.feeds import failing_since, feed_role, list_feeds
from store.models import from_iso, utc_now
from store.posts import (
    PostSlice,
    StanceThemeCounts,
    channel_tallies,
    newest_posts_per_channel,
    posts_per_feed,
    posts_per_role,
    posts_with_targets,
    stance_theme_counts,
    theme_counts_per_day,
    top_posts_with_theme,
)
from store.scores import latest_model_version
from store.targets import first_attacked_between, target_display_name

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


def _shares(counts: StanceThemeCounts) -> dict[str, float]:
    total = counts.total
    return {stance: (counts.stances[stance] / total if total else 0.0) for stance in STANCE_NAMES}


def _stance_mix(now: StanceThemeCounts, base: StanceThemeCounts, news: StanceThemeCounts
                ) -> StanceMix:
    return StanceMix(
        counts={stance: now.stances[stance] for stance in STANCE_NAMES},
        shares=_shares(now),
        baseline_shares=_shares(base),
        news_shares=_shares(news),
        total=now.total,
        baseline_total=base.total,
        news_total=news.total,
    )


def _theme_rows(
    taxonomy: Taxonomy, settings: Settings, now: StanceThemeCounts, base: StanceThemeCounts,
    news: StanceThemeCounts, only: str | None,
) -> list[ThemeRow]:
    rows = []
    for theme in taxonomy.themes:
        if only is not None and theme.name != only:
            continue
        count = now.themes[theme.name]
        own = lift_against_baseline(count, now.total, base.themes[theme.name], base.total)
        against_news = lift_against_baseline(count, now.total, news.themes[theme.name],
                                             news.total)
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


def _top_posts(
    db: sqlite_utils.Database, model_version: str, window: PostSlice, themes: list[str],
    per_theme: int,
) -> dict[str, list[PostRef]]:
    return {theme: [post_ref_from_row(row, theme=theme) for row in
                    top_posts_with_theme(db, model_version, window, theme, per_theme)]
            for theme in themes}


def _rifts(
    db: sqlite_utils.Database, model_version: str, window: PostSlice, taxonomy: Taxonomy,
    evidence_per_rift: int,
) -> list[Rift]:
    labels = {target.name: target.label for target in taxonomy.targets}
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    titles: dict[str, str | None] = {}
    for row in posts_with_targets(db, model_version, window):
        titles[row["feed_name"]] = row["feed_title"]
        for target in json.loads(row["targets"]):
            grouped[(row["feed_name"], target)].append(row)
    rifts = [
        Rift(source=source, source_title=titles[source], target=target,
             target_label=labels.get(target, target), count=len(rows),
             evidence=[post_ref_from_row(row) for row in rows[:evidence_per_rift]])
        for (source, target), rows in grouped.items()
    ]
    return sorted(rifts, key=lambda rift: rift.count, reverse=True)


def _channel_rows(
    db: sqlite_utils.Database, model_version: str | None, since: datetime, until: datetime,
    themes: list[str], channel: str | None,
) -> list[ChannelRow]:
    rows = []
    for tally in channel_tallies(db, model_version, since, until, themes, channel):
        top = Counter(tally.themes).most_common(1)
        rows.append(ChannelRow(
            feed_name=tally.name, title=tally.title, role=tally.role, posts=tally.posts,
            stance_counts={stance: tally.stances[stance] for stance in STANCE_NAMES},
            top_theme=top[0][0] if top and top[0][1] > 0 else None,
            last_post_at=from_iso(tally.last_published_at),
        ))
    return rows


def _newest_posts(
    db: sqlite_utils.Database, since: datetime, until: datetime, channel: str | None,
    per_channel: int,
) -> list[PostRef]:
    return [post_ref_from_row(row, text_field="text")
            for row in newest_posts_per_channel(db, since, until, channel, per_channel)]


def _health(db: sqlite_utils.Database, since: datetime, until: datetime) -> list[FeedHealth]:
    counts = posts_per_feed(db, since, until)
    first_failures = failing_since(db)
    return [
        FeedHealth(name=feed.name, role=feed.role, kind=feed.kind, enabled=feed.enabled,
                   last_success_at=feed.last_success_at, last_error=feed.last_error,
                   error_count=feed.error_count, next_retry_at=feed.next_retry_at,
                   items_in_window=int(counts.get(feed.id, 0)),
                   failing_since=((first_failures.get(feed.id) or feed.last_error_at)
                                  if feed.error_count else None))
        for feed in list_feeds(db)
    ]


def _subject_role(db: sqlite_utils.Database, channel: str | None) -> str:
    """Whose posts the stance and theme figures describe: the channel's role, else bloggers."""
    role = feed_role(db, channel) if channel is not None else None
    return role if role is not None else "blogger"


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
    role_counts = posts_per_role(db, version, since, until, channel)
    by_role, scored = role_counts.posts, role_counts.scored
    role = _subject_role(db, channel)
    digest = Digest(
        since=since, until=until, generated_at=utc_now(), model_version=version,
        total_items=sum(by_role.values()), items_by_role=by_role, scored_items=scored,
        baseline_days=settings.baseline_days, stance=None, themes=[], rifts=[], top_posts={},
        channels=_channel_rows(db, version, since, until, themes, channel),
        newest=_newest_posts(db, since, until, channel, settings.digest_newest_per_channel),
        health=_health(db, since, until),
        channel_filter=channel, theme_filter=theme, subject_role=role,
        unwatched=discover_channels(db, since, until, version) if channel is None else [],
    )
    if version is None:
        return digest
    window = PostSlice(role, since, until, channel)
    baseline = PostSlice(role, since - timedelta(days=settings.baseline_days), since, channel)
    news = PostSlice("news", since, until, None)
    now_counts = stance_theme_counts(db, version, window, themes)
    base_counts = stance_theme_counts(db, version, baseline, themes)
    news_counts = stance_theme_counts(db, version, news, themes)
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
    if channel is None:
        digest.storylines = compose_storylines(db, settings, since, until, version, role)
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
    counts = theme_counts_per_day(db, version, theme, datetime.combine(first, time(), UTC), end)
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
