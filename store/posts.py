"""Posts read back for a time window: items joined with their feed and, where scored, the score
of one model, counted per role, stance, theme, channel and day, or listed as rows.

Reads only; monitors write items and the classifier writes scores. Post rows are dicts with
``id``, ``url``, ``published_at``, ``text``, ``feed_name``, ``feed_title`` and, where a score
is joined, ``stance``, ``stance_probability``, ``evidence`` and ``language``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from config.themes import STANCE_NAMES
from store.item_history import earlier_versions_sql
from store.models import to_iso
from store.post_vectors import SCORED_TEXT_SQL
from store.scores import stance_probability_sql, theme_present_sql

_FROM_SCORED = (
    "FROM items i JOIN feeds f ON f.id = i.feed_id "
    "JOIN scores s ON s.item_id = i.id AND s.model_version = ?"
)
_POST_COLUMNS = (
    "i.id, i.url, i.published_at, i.text, i.version, i.deleted_at, f.name AS feed_name, "
    f"f.title AS feed_title, s.stance, {stance_probability_sql('s')} AS stance_probability, "
    "s.evidence, s.language"
)


@dataclass(frozen=True)
class PostSlice:
    """The posts of one feed role published in [since, until), of one channel if given."""

    role: str
    since: datetime
    until: datetime
    channel: str | None = None


def _slice_filter(posts: PostSlice) -> tuple[str, list[Any]]:
    where = "f.role = ? AND i.published_at >= ? AND i.published_at < ?"
    params: list[Any] = [posts.role, to_iso(posts.since), to_iso(posts.until)]
    if posts.channel is not None:
        where += " AND f.name = ?"
        params.append(posts.channel)
    return where, params


@dataclass(frozen=True)
class StanceThemeCounts:
    """Scored posts of a slice: how many, how many per stance, how many carry each theme."""

    total: int
    stances: dict[str, int]
    themes: dict[str, int]


def _count_columns(themes: Sequence[str]) -> tuple[str, list[Any]]:
    """SQL columns ``s_<stance>`` and ``t_<theme>`` counting scored rows, with their params."""
    stance_sql = [f"SUM(s.stance = '{stance}') AS \"s_{stance}\"" for stance in STANCE_NAMES]
    theme_sql = [f'SUM({theme_present_sql()}) AS "t_{name}"' for name in themes]
    return ", ".join([*stance_sql, *theme_sql]), list(themes)


def _split_counts(row: dict[str, Any], themes: Sequence[str]
                  ) -> tuple[dict[str, int], dict[str, int]]:
    return ({stance: int(row[f"s_{stance}"] or 0) for stance in STANCE_NAMES},
            {name: int(row[f"t_{name}"] or 0) for name in themes})


def stance_theme_counts(db: sqlite_utils.Database, model_version: str, posts: PostSlice,
                        themes: Sequence[str]) -> StanceThemeCounts:
    """How many posts of the slice ``model_version`` scored, per stance and per theme."""
    where, params = _slice_filter(posts)
    columns, theme_params = _count_columns(themes)
    sql = f"SELECT COUNT(*) AS total, {columns} {_FROM_SCORED} WHERE {where}"
    row = next(db.query(sql, [*theme_params, model_version, *params]))
    stances, theme_counts = _split_counts(row, themes)
    return StanceThemeCounts(int(row["total"] or 0), stances, theme_counts)


def top_posts_with_theme(db: sqlite_utils.Database, model_version: str, posts: PostSlice,
                         theme: str, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` post rows of the slice carrying ``theme``, each with its
    ``theme_probability``: likeliest first, then newest."""
    where, params = _slice_filter(posts)
    sql = (
        f"SELECT {_POST_COLUMNS}, json_extract(s.themes, ?) AS theme_probability "
        f"{_FROM_SCORED} WHERE {where} AND {theme_present_sql()} "
        "ORDER BY theme_probability DESC, i.published_at DESC LIMIT ?"
    )
    return list(db.query(sql, [f'$."{theme}"', model_version, *params, theme, limit]))


def posts_with_targets(db: sqlite_utils.Database, model_version: str, posts: PostSlice
                       ) -> list[dict[str, Any]]:
    """Post rows of the slice that attack someone, each with ``targets`` (a JSON list), the
    likeliest critical first."""
    where, params = _slice_filter(posts)
    sql = (
        f"SELECT {_POST_COLUMNS}, s.targets {_FROM_SCORED} "
        f"WHERE {where} AND s.targets != '[]' ORDER BY s.p_critical DESC"
    )
    return list(db.query(sql, [model_version, *params]))


def critical_posts_with_vectors(db: sqlite_utils.Database, model_version: str,
                                posts: PostSlice) -> list[dict[str, Any]]:
    """The slice's critical post rows, oldest first, each with its ``scored_text`` (what was
    embedded), ``feed_id`` and its stored vector's ``space`` and ``vector`` (NULL: none)."""
    where, params = _slice_filter(posts)
    sql = (
        f"SELECT {_POST_COLUMNS}, {SCORED_TEXT_SQL} AS scored_text, i.feed_id, v.space, "
        f"v.vector {_FROM_SCORED} LEFT JOIN post_vectors v ON v.item_id = i.id "
        f"WHERE {where} AND s.stance = 'critical' ORDER BY i.published_at, i.id"
    )
    return list(db.query(sql, [model_version, *params]))


@dataclass(frozen=True)
class ChannelTally:
    """One feed's posts in a window: all of them, the newest's time, and per stance and theme
    the ones ``model_version`` scored."""

    name: str
    title: str | None
    role: str
    posts: int
    last_published_at: str | None
    stances: dict[str, int]
    themes: dict[str, int]


def channel_tallies(db: sqlite_utils.Database, model_version: str | None, since: datetime,
                    until: datetime, themes: Sequence[str] = (), channel: str | None = None
                    ) -> list[ChannelTally]:
    """Every feed (or only ``channel``) with posts in [since, until), by role, then busiest
    first, then by name."""
    columns, theme_params = _count_columns(themes)
    sql = (
        f"SELECT f.name, f.title, f.role, COUNT(i.id) AS posts, MAX(i.published_at) AS last, "
        f"{columns} FROM items i JOIN feeds f ON f.id = i.feed_id "
        "LEFT JOIN scores s ON s.item_id = i.id AND s.model_version = ? "
        "WHERE i.published_at >= ? AND i.published_at < ?"
        + (" AND f.name = ?" if channel else "")
        + " GROUP BY f.id ORDER BY f.role, posts DESC, f.name"
    )
    params = [*theme_params, model_version, to_iso(since), to_iso(until)]
    return [ChannelTally(row["name"], row["title"], row["role"], row["posts"], row["last"],
                         *_split_counts(row, themes))
            for row in db.query(sql, params + ([channel] if channel else []))]


@dataclass(frozen=True)
class RoleCounts:
    """Posts per feed role in a window, and how many of them all ``model_version`` scored."""

    posts: dict[str, int]
    scored: int


def posts_per_role(db: sqlite_utils.Database, model_version: str | None, since: datetime,
                   until: datetime, channel: str | None = None) -> RoleCounts:
    """Posts published in [since, until) (of ``channel`` if given) per role, and how many are
    scored, in one query."""
    sql = ("SELECT f.role, COUNT(*), COUNT(s.item_id) FROM items i "
           "JOIN feeds f ON f.id = i.feed_id "
           "LEFT JOIN scores s ON s.item_id = i.id AND s.model_version = ? "
           "WHERE i.published_at >= ? AND i.published_at < ?"
           + (" AND f.name = ?" if channel else "") + " GROUP BY f.role")
    params = [model_version, to_iso(since), to_iso(until)] + ([channel] if channel else [])
    rows = db.execute(sql, params).fetchall()
    return RoleCounts({role: int(count) for role, count, _ in rows},
                      sum(int(row[2]) for row in rows))


def posts_per_feed(db: sqlite_utils.Database, since: datetime, until: datetime
                   ) -> dict[int, int]:
    """Feed id → posts published in [since, until), for feeds with any."""
    return {int(feed_id): int(count) for feed_id, count in db.execute(
        "SELECT feed_id, COUNT(*) FROM items WHERE published_at >= ? AND published_at < ? "
        "GROUP BY feed_id", [to_iso(since), to_iso(until)]).fetchall()}


def newest_posts_per_channel(db: sqlite_utils.Database, since: datetime, until: datetime,
                             channel: str | None, per_channel: int) -> list[dict[str, Any]]:
    """Each feed's (or only ``channel``'s) ``per_channel`` newest post rows of [since, until),
    without scores, newest first."""
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
    return list(db.query(sql, params))


def theme_counts_per_day(db: sqlite_utils.Database, model_version: str | None, theme: str,
                         since: datetime, until: datetime
                         ) -> dict[tuple[str, str], tuple[int, int]]:
    """(UTC day 'YYYY-MM-DD', role) → (scored posts carrying ``theme``, scored posts), over
    posts published in [since, until)."""
    sql = (
        f"SELECT substr(i.published_at, 1, 10) AS day, f.role, COUNT(*) AS total, "
        f"SUM({theme_present_sql()}) AS hits {_FROM_SCORED} "
        "WHERE i.published_at >= ? AND i.published_at < ? GROUP BY day, f.role"
    )
    params = [theme, model_version, to_iso(since), to_iso(until)]
    return {(row["day"], row["role"]): (int(row["hits"] or 0), int(row["total"]))
            for row in db.query(sql, params)}


def posts_by_key(db: sqlite_utils.Database, keys: set[str], model_version: str | None
                 ) -> dict[str, dict[str, Any]]:
    """Item key → post row (with ``key``, and the score of ``model_version`` where there is
    one) for each of ``keys`` the store holds."""
    found: dict[str, dict[str, Any]] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        marks = ",".join("?" * len(chunk))
        sql = (f"SELECT i.key, {_POST_COLUMNS} FROM items i JOIN feeds f ON f.id = i.feed_id "
               "LEFT JOIN scores s ON s.item_id = i.id AND s.model_version = ? "
               f"WHERE i.key IN ({marks})")
        for row in db.query(sql, [model_version, *chunk]):
            found[row["key"]] = row
    return found


def post_urls(db: sqlite_utils.Database, item_ids: set[int]) -> dict[int, str | None]:
    """Item id → its url, for each of ``item_ids`` the store holds."""
    ordered = sorted(item_ids)
    if not ordered:
        return {}
    marks = ",".join("?" * len(ordered))
    return {int(item_id): url for item_id, url in
            db.execute(f"SELECT id, url FROM items WHERE id IN ({marks})", ordered)}


_EXPORT_SQL = (
    "SELECT i.id, i.key, f.name AS feed, f.title AS feed_title, f.role, f.channel, i.post_id, "
    "i.url, i.published_at, i.title, i.text, i.author, i.language, i.views, i.forwarded_from, "
    "i.edited, i.version, i.deleted_at, {versions} AS earlier_versions{score_select} "
    "FROM items i JOIN feeds f ON f.id = i.feed_id{score_join} "
    "WHERE i.published_at >= ?{channel_filter} ORDER BY i.published_at, i.id"
)
_EXPORT_SCORE_SELECT = (
    ", s.model_version, s.stance, s.p_supportive, s.p_critical, s.p_alarmed, s.p_neutral, "
    "s.themes, s.themes_present, s.targets, s.evidence, s.language AS score_language"
)
_EXPORT_SCORE_JOIN = " LEFT JOIN scores s ON s.item_id = i.id AND s.model_version = ?"


def posts_for_export(db: sqlite_utils.Database, since: datetime, channel: str | None = None,
                     *, with_scores: bool = False, model_version: str | None = None
                     ) -> Iterator[dict[str, Any]]:
    """Every item published since ``since`` (of ``channel`` if given), oldest first, streamed:
    its columns and its feed's (``feed``, ``feed_title``, ``role``, ``channel``) and, with
    ``with_scores``, the score columns of ``model_version`` (None where it has not scored it;
    the score's language as ``score_language``)."""
    sql = _EXPORT_SQL.format(
        versions=earlier_versions_sql("i"),
        score_select=_EXPORT_SCORE_SELECT if with_scores else "",
        score_join=_EXPORT_SCORE_JOIN if with_scores else "",
        channel_filter=" AND f.name = ?" if channel else "",
    )
    params: list[Any] = [model_version] if with_scores else []
    params.append(to_iso(since))
    if channel:
        params.append(channel)
    yield from db.query(sql, params)
