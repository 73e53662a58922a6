"""Amplification edges as stored: evidence rows in, per-window aggregates and marks out.

Persists and reads; never decides what an edge is (``amplification.edge_extraction``
does). One row
of ``edge_evidence`` per (kind, source, target, item): writing the same evidence twice is a
no-op, so an edge's count is the number of distinct items behind it, however often it is
extracted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from store.models import to_iso

EDGE_KINDS = ("forward", "mention", "quote", "attack")
SPREAD_KINDS = ("forward", "mention", "quote")  # a channel passing another's post on


@dataclass(frozen=True)
class EdgeEvidence:
    """One item that makes ``source`` → ``target`` an edge of ``kind``.

    ``ref_key`` is the item key of the post it passes on (a forward's original, a quoted or
    linked post) when known; ``seen_at`` is the item's publication time.
    """

    kind: str
    source: str
    target: str
    item_id: int
    seen_at: str
    ref_key: str | None = None


@dataclass(frozen=True)
class Edge:
    """All evidence for one (source, target, kind) in a window."""

    source: str
    target: str
    kind: str
    count: int
    first_seen: str
    last_seen: str
    items: list[int]


def feed_directory(db: sqlite_utils.Database) -> list[tuple[str, str | None, str | None]]:
    """(name, channel, title) of every feed, for landing a reference on a feed's name."""
    return [(name, channel, title) for name, channel, title in
            db.execute("SELECT name, channel, title FROM feeds").fetchall()]


_ITEM_COLUMNS = ("i.id, i.key, i.feed_id, i.text, i.published_at, i.forwarded_from, "
                 "i.forwarded_url, i.links, f.name AS feed_name, f.channel AS feed_channel")


def items_after(db: sqlite_utils.Database, after: int, size: int) -> list[dict[str, Any]]:
    """Up to ``size`` dated items with id above ``after``, by id, with their feed's name and
    channel: what edge extraction reads for forwards, mentions and quotes."""
    return list(db.query(
        f"SELECT {_ITEM_COLUMNS} FROM items i JOIN feeds f ON f.id = i.feed_id "
        "WHERE i.id > ? AND i.published_at IS NOT NULL ORDER BY i.id LIMIT ?", [after, size]))


def scores_after(db: sqlite_utils.Database, after: int, size: int) -> list[dict[str, Any]]:
    """Up to ``size`` scores with rowid above ``after`` (as ``score_row``), by rowid, with the
    item's id, targets, publication time and feed name: what edge extraction reads for attacks."""
    return list(db.query(
        "SELECT s.rowid AS score_row, s.item_id, s.targets, i.published_at, "
        "f.name AS feed_name FROM scores s JOIN items i ON i.id = s.item_id "
        "JOIN feeds f ON f.id = i.feed_id WHERE s.rowid > ? ORDER BY s.rowid LIMIT ?",
        [after, size]))


def item_keys_and_feeds(db: sqlite_utils.Database, ids: Sequence[int]
                        ) -> dict[int, tuple[str, str]]:
    """Item id → (item key, feed name) for the items ``ids`` names."""
    marks = ",".join("?" * len(ids))
    return {row[0]: (row[1], row[2]) for row in db.execute(
        f"SELECT i.id, i.key, f.name FROM items i JOIN feeds f ON f.id = i.feed_id "
        f"WHERE i.id IN ({marks})", list(ids))}


def read_mark(db: sqlite_utils.Database, stream: str) -> int:
    """The last id ``stream`` has extracted (0 before the first run)."""
    row = db.execute("SELECT last_id FROM extraction_marks WHERE stream = ?", [stream]).fetchone()
    return int(row[0]) if row else 0


def write_mark(db: sqlite_utils.Database, stream: str, last_id: int) -> None:
    """Advance ``stream``'s mark; call inside the transaction that stored its evidence."""
    db.execute("INSERT INTO extraction_marks (stream, last_id) VALUES (?, ?) "
               "ON CONFLICT(stream) DO UPDATE SET last_id = excluded.last_id", [stream, last_id])


def insert_evidence(db: sqlite_utils.Database, rows: Iterable[EdgeEvidence]) -> int:
    """Store evidence rows not stored yet; return how many were new."""
    cursor = db.conn.executemany(
        "INSERT OR IGNORE INTO edge_evidence (kind, source, target, item_id, ref_key, seen_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(row.kind, row.source, row.target, row.item_id, row.ref_key, row.seen_at)
         for row in rows],
    )
    return max(cursor.rowcount, 0)


def _window_filter(since: datetime, until: datetime, kinds: Sequence[str]
                   ) -> tuple[str, list[str]]:
    marks = ",".join("?" * len(kinds))
    params = [to_iso(since) or "", to_iso(until) or "", *kinds]
    return f"seen_at >= ? AND seen_at < ? AND kind IN ({marks})", params


def edges_between(db: sqlite_utils.Database, since: datetime, until: datetime,
                  kinds: Sequence[str] = EDGE_KINDS) -> list[Edge]:
    """Edges whose evidence was published in [since, until), busiest first."""
    where, params = _window_filter(since, until, kinds)
    sql = ("SELECT source, target, kind, COUNT(*), MIN(seen_at), MAX(seen_at), "
           f"group_concat(item_id, ' ') FROM edge_evidence WHERE {where} "
           "GROUP BY kind, source, target ORDER BY COUNT(*) DESC, source, target, kind")
    return [Edge(source, target, kind, int(count), first, last,
                 sorted(int(item) for item in items.split()))
            for source, target, kind, count, first, last, items in db.execute(sql, params)]


def evidence_between(db: sqlite_utils.Database, since: datetime, until: datetime,
                     kinds: Sequence[str] = EDGE_KINDS) -> list[EdgeEvidence]:
    """Every evidence row published in [since, until), oldest first."""
    where, params = _window_filter(since, until, kinds)
    sql = ("SELECT kind, source, target, item_id, seen_at, ref_key FROM edge_evidence "
           f"WHERE {where} ORDER BY seen_at, item_id")
    return [EdgeEvidence(*row) for row in db.execute(sql, params)]


def spread_parent_keys(db: sqlite_utils.Database, item_ids: set[int]) -> dict[int, str]:
    """For those of ``item_ids`` that are themselves pick-ups (a forward, mention or quote),
    the key of the post each passed on (its earliest evidence's)."""
    if not item_ids:
        return {}
    ordered = sorted(item_ids)
    marks = ",".join("?" * len(ordered))
    kinds = ",".join(f"'{kind}'" for kind in SPREAD_KINDS)
    sql = (f"SELECT item_id, ref_key FROM edge_evidence WHERE item_id IN ({marks}) "
           f"AND kind IN ({kinds}) AND ref_key IS NOT NULL ORDER BY seen_at")
    parents: dict[int, str] = {}
    for item_id, ref_key in db.execute(sql, ordered):
        parents.setdefault(int(item_id), str(ref_key))
    return parents


def spread_pair_counts(db: sqlite_utils.Database, since: datetime, until: datetime
                       ) -> dict[tuple[str, str], int]:
    """(source, target) → pick-ups (forwards, mentions, quotes) published in [since, until)."""
    kinds = ",".join(f"'{kind}'" for kind in SPREAD_KINDS)
    sql = ("SELECT source, target, COUNT(*) FROM edge_evidence WHERE seen_at >= ? "
           f"AND seen_at < ? AND kind IN ({kinds}) GROUP BY source, target")
    return {(source, target): int(count) for source, target, count in
            db.execute(sql, [to_iso(since), to_iso(until)])}


def save_signatures(db: sqlite_utils.Database,
                    rows: Iterable[tuple[int, int, str, bytes]]) -> None:
    """Store (item id, feed id, published at, MinHash signature bytes) rows."""
    db.conn.executemany(
        "INSERT OR REPLACE INTO item_signatures (item_id, feed_id, published_at, signature) "
        "VALUES (?, ?, ?, ?)", list(rows))


def signatures_between(db: sqlite_utils.Database, since: str, until: str
                       ) -> list[tuple[int, int, str, bytes]]:
    """Stored signatures of items published in [since, until]."""
    return [tuple(row) for row in db.execute(
        "SELECT item_id, feed_id, published_at, signature FROM item_signatures "
        "WHERE published_at >= ? AND published_at <= ?", [since, until])]
