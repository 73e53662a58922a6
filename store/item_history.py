"""What happens to a post after it is first stored: its earlier texts, its deletion as covering
t.me fetches see it, and the view count each fetch showed; pruned by a retention setting.

Writes only inside the fetch's own transaction (``store.items.save_items`` calls it) or from
``record_coverage``; reads back plain rows for the digest. Never fetches or classifies.

Deletion rule: a t.me/s page covers the ids from its lowest post up to its highest (a head
page, with no ``?before=``, covers everything above its lowest post too, since it shows the
newest posts). A stored post of that channel inside the covered range that the page does not
show is *missed*; a post shown again is no longer missed. A post is recorded deleted at its
``DELETION_MISSES``-th consecutive covering miss, so one page served short (a cache, a
hiccup) is never a deletion; a page that scrolled past a post does not cover it and so says
nothing about it. RSS items are never called deleted: a feed drops entries as it pleases.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from store.models import to_iso
from store.scores import stance_probability_sql

DELETION_MISSES = 2  # consecutive covering fetches that miss a post before it is deleted
VIEWS_TRACKED_HOURS = 72  # view counts are sampled while a post is younger than this
FIRST_BUCKET_MINUTES = 30  # age buckets double from here (see ``age_bucket``)


@dataclass(frozen=True)
class ItemVersion:
    """One earlier text of an item, with the stance it had while it was the latest."""

    item_id: int
    version: int
    title: str | None
    text: str
    seen_at: str
    replaced_at: str
    stance: str | None
    p_critical: float | None


def record_edit(db: sqlite_utils.Database, old: dict[str, Any], stamp: str) -> None:
    """Keep ``old`` (an items row: id, title, text, version, fetched_at) as an earlier version
    and drop the item's scores, so the scoring step rescores its new text.

    Called inside the transaction that writes the new text, so a crash keeps both or neither.
    """
    item_id = int(old["id"])
    score = db.execute("SELECT model_version, stance, p_critical FROM scores WHERE item_id = ? "
                       "ORDER BY scored_at DESC LIMIT 1", [item_id]).fetchone()
    previous = db.execute("SELECT MAX(replaced_at) FROM item_versions WHERE item_id = ?",
                          [item_id]).fetchone()[0]
    db.execute(
        "INSERT OR REPLACE INTO item_versions (item_id, version, title, text, seen_at, "
        "replaced_at, model_version, stance, p_critical) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [item_id, int(old["version"]), old["title"], old["text"] or "",
         previous or old["fetched_at"], stamp, *(score or (None, None, None))])
    db.execute("DELETE FROM scores WHERE item_id = ?", [item_id])


def age_bucket(published_at: datetime, seen_at: datetime) -> int:
    """Which doubling of a post's age ``seen_at`` falls in: 0 under 30 minutes, then 1 for
    30-60 minutes, 2 for 1-2 hours … (a post keeps one view sample per bucket)."""
    minutes = (seen_at - published_at).total_seconds() / 60
    return max(0, int(math.log2(minutes / FIRST_BUCKET_MINUTES)) + 1) \
        if minutes >= FIRST_BUCKET_MINUTES else 0


def record_view_samples(db: sqlite_utils.Database, seen: Sequence[tuple[int, datetime, int]],
                        now: datetime) -> None:
    """Keep the view counts ``seen`` at ``now`` as (item id, published at, views): the latest
    count in each age bucket of posts younger than ``VIEWS_TRACKED_HOURS``."""
    stamp, oldest = to_iso(now), now - timedelta(hours=VIEWS_TRACKED_HOURS)
    db.conn.executemany(
        "INSERT OR REPLACE INTO view_samples (item_id, age_bucket, seen_at, views) "
        "VALUES (?, ?, ?, ?)",
        [(item_id, age_bucket(published, now), stamp, views) for item_id, published, views
         in seen if published >= oldest])


def record_coverage(db: sqlite_utils.Database, feed_id: int, shown: Sequence[int],
                    high: int | None, now: datetime) -> list[int]:
    """Apply one t.me page of ``feed_id`` showing post ids ``shown``: the page covers
    ``min(shown)``..``high`` (``None``: no upper end, a head page). Returns the ids of the
    items this fetch recorded as deleted (see the module's rule)."""
    if not shown:
        return []
    stamp = to_iso(now)
    low, top = min(shown), high if high is not None else 2**62
    marks = ",".join("?" * len(shown))
    covered = f"feed_id = ? AND post_id BETWEEN ? AND ? AND post_id NOT IN ({marks})"
    params = [feed_id, low, top, *shown]
    with db.conn:
        db.execute(f"UPDATE items SET missed_fetches = 0, deleted_at = NULL WHERE feed_id = ? "
                   f"AND post_id IN ({marks}) AND (missed_fetches > 0 OR deleted_at IS NOT NULL)",
                   [feed_id, *shown])
        missed = db.execute(
            "UPDATE items SET missed_fetches = missed_fetches + 1, deleted_at = CASE WHEN "
            "missed_fetches + 1 >= ? THEN ? END, changed_at = CASE WHEN missed_fetches + 1 >= ? "
            f"THEN ? ELSE changed_at END WHERE {covered} AND deleted_at IS NULL "
            "RETURNING id, deleted_at",
            [DELETION_MISSES, stamp, DELETION_MISSES, stamp, *params]).fetchall()
    return [int(item_id) for item_id, deleted_at in missed if deleted_at is not None]


def critical_posts_with_views(db: sqlite_utils.Database, since: datetime, until: datetime,
                              model_version: str) -> list[dict[str, Any]]:
    """Post rows (with feed, score and stance probability) of the critical posts published in
    [since, until) under ``model_version`` whose views the store has seen."""
    return list(db.query(
        "SELECT i.id, i.feed_id, i.url, i.published_at, i.text, i.version, i.deleted_at, "
        f"f.name AS feed_name, f.title AS feed_title, s.stance, {stance_probability_sql('s')} "
        "AS stance_probability, s.evidence, s.language FROM items i "
        "JOIN feeds f ON f.id = i.feed_id "
        "JOIN scores s ON s.item_id = i.id AND s.model_version = ? "
        "WHERE s.stance = 'critical' AND i.views IS NOT NULL "
        "AND i.published_at >= ? AND i.published_at < ?",
        [model_version, to_iso(since), to_iso(until)]))


def earlier_versions_sql(alias: str = "i") -> str:
    """SQL for a JSON list of the item's kept earlier versions, oldest first (NULL if none):
    each with version, title, text, seen_at, replaced_at and the stance it had."""
    return (f"CASE WHEN {alias}.version > 1 THEN (SELECT json_group_array(json_object("
            "'version', v.version, 'title', v.title, 'text', v.text, 'seen_at', v.seen_at, "
            "'replaced_at', v.replaced_at, 'stance', v.stance)) FROM (SELECT * FROM "
            f"item_versions WHERE item_id = {alias}.id ORDER BY version) v) END")


def prune_history(db: sqlite_utils.Database, before: datetime) -> tuple[int, int]:
    """Drop earlier versions replaced, and view samples taken, before ``before``; return how
    many of each."""
    stamp = to_iso(before)
    with db.conn:
        versions = db.execute("DELETE FROM item_versions WHERE replaced_at < ?", [stamp]).rowcount
        samples = db.execute("DELETE FROM view_samples WHERE seen_at < ?", [stamp]).rowcount
    return int(versions), int(samples)


def versions_of(db: sqlite_utils.Database, item_ids: Sequence[int]) -> dict[int, list[ItemVersion]]:
    """The kept earlier versions of each item, oldest first."""
    found: dict[int, list[ItemVersion]] = {}
    ordered = sorted(set(item_ids))
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.query(
                "SELECT item_id, version, title, text, seen_at, replaced_at, stance, p_critical "
                f"FROM item_versions WHERE item_id IN ({marks}) ORDER BY item_id, version", chunk):
            found.setdefault(int(row["item_id"]), []).append(ItemVersion(**row))
    return found


def changed_between(db: sqlite_utils.Database, since: datetime, until: datetime,
                    model_version: str | None) -> list[dict[str, Any]]:
    """Items deleted or edited in [since, until), newest change first, with the feed's name and
    the current model's stance (NULL while the new text awaits scoring)."""
    return list(db.query(
        "SELECT i.id, i.url, i.published_at, i.title, i.text, i.version, i.deleted_at, "
        "i.changed_at, f.name AS feed_name, f.title AS feed_title, s.stance, s.p_critical "
        "FROM items i JOIN feeds f ON f.id = i.feed_id "
        "LEFT JOIN scores s ON s.item_id = i.id AND s.model_version = ? "
        "WHERE i.changed_at >= ? AND i.changed_at < ? "
        "ORDER BY i.changed_at DESC, i.id DESC", [model_version, to_iso(since), to_iso(until)]))


def latest_view_sample(db: sqlite_utils.Database, item_id: int, until: datetime
                       ) -> tuple[int, str, int] | None:
    """(age bucket, seen_at, views) of the item's last view sample before ``until``."""
    row = db.execute("SELECT age_bucket, seen_at, views FROM view_samples WHERE item_id = ? "
                     "AND seen_at < ? ORDER BY seen_at DESC LIMIT 1",
                     [item_id, to_iso(until)]).fetchone()
    return (int(row[0]), str(row[1]), int(row[2])) if row else None


def samples_in_bucket(db: sqlite_utils.Database, feed_id: int, bucket: int,
                      published_since: datetime, until: datetime
                      ) -> list[tuple[int, str, str, int]]:
    """(item id, published_at, seen_at, views) of the age-``bucket`` samples, taken before
    ``until``, of ``feed_id``'s posts published since ``published_since``."""
    return [(int(a), str(b), str(c), int(d)) for a, b, c, d in db.execute(
        "SELECT i.id, i.published_at, v.seen_at, v.views FROM items i "
        "JOIN view_samples v ON v.item_id = i.id AND v.age_bucket = ? "
        "WHERE i.feed_id = ? AND i.published_at >= ? AND v.seen_at < ?",
        [bucket, feed_id, to_iso(published_since), to_iso(until)])]
