"""Watch-lists: each chat's watches, the posts they matched after scoring, and the matches whose
alert is still to be claimed. Persists and reads plain data; never matches text or sends.

An alert about a match is claimed in ``alert_claims`` (kind ``watch``) before it is sent, as
spike and spreading alerts are: a match is pending while no claim names it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from config.errors import RiftwatchError
from store.edges import read_mark, write_mark
from store.models import from_iso, to_iso, utc_now

WATCH_KINDS = ("phrase", "regex", "target", "channel")
ALERT_KIND = "watch"  # alert_claims.kind of every watch alert
WATCH_STREAM = "watches"  # extraction_marks stream: the last scores rowid the watches read
KEEP_MATCHES = timedelta(days=30)  # older matches and their claims are dropped


class WatchRefused(RiftwatchError):
    """A watch the chat may not add (one too many, or one it already has); nothing changed."""


@dataclass(frozen=True)
class WatchRule:
    """What a watch looks for, as stored: kind, subject and filters."""

    kind: str
    subject: str
    excludes: tuple[str, ...] = ()
    stances: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredWatch:
    """One chat's watch as stored; ``number`` is its place in the chat's list (from 1)."""

    id: int
    chat_id: int
    rule: WatchRule
    cooldown: timedelta
    created_at: datetime
    number: int = 0


def match_subject(watch_id: int, item_id: int) -> str:
    """The ``alert_claims`` subject of one match: a post alerted once per watch."""
    return f"{watch_id}:{item_id}"


def cooldown_subject(watch_id: int) -> str:
    """The ``alert_claims`` subject that holds a watch's cooldown."""
    return f"cooldown:{watch_id}"


_WATCH_COLUMNS = "id, chat_id, kind, subject, excludes, stances, cooldown_seconds, created_at"


def _watch(row: Sequence[Any], number: int = 0) -> StoredWatch:
    return StoredWatch(
        id=int(row[0]), chat_id=int(row[1]),
        rule=WatchRule(row[2], row[3], tuple(json.loads(row[4])), tuple(json.loads(row[5]))),
        cooldown=timedelta(seconds=int(row[6])), created_at=from_iso(row[7]) or utc_now(),
        number=number)


def chat_watches(db: sqlite_utils.Database, chat_id: int) -> list[StoredWatch]:
    """A chat's watches, oldest first, numbered as ``/watches`` shows them."""
    rows = db.execute(f"SELECT {_WATCH_COLUMNS} FROM watches WHERE chat_id = ? ORDER BY id",
                      [chat_id]).fetchall()
    return [_watch(row, number) for number, row in enumerate(rows, start=1)]


def all_watches(db: sqlite_utils.Database) -> list[StoredWatch]:
    return [_watch(row) for row in db.execute(
        f"SELECT {_WATCH_COLUMNS} FROM watches ORDER BY id").fetchall()]


def add_watch(
    db: sqlite_utils.Database, chat_id: int, rule: WatchRule, cooldown: timedelta,
    max_per_chat: int, now: datetime | None = None,
) -> StoredWatch:
    """Add a watch to a chat's list; WatchRefused when the chat has ``max_per_chat`` already
    or the same watch (kind, subject and filters), in which case nothing changes."""
    with db.conn:
        db.execute("BEGIN IMMEDIATE")  # count and insert as one step against a second writer
        held = chat_watches(db, chat_id)
        if any(watch.rule == rule for watch in held):
            raise WatchRefused("This chat already has that watch; /watches lists them")
        if len(held) >= max_per_chat:
            raise WatchRefused(f"This chat has {len(held)} watches, the most it may have; "
                               "/unwatch N removes one")
        cursor = db.execute(
            "INSERT INTO watches (chat_id, kind, subject, excludes, stances, cooldown_seconds, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [chat_id, rule.kind, rule.subject, json.dumps(list(rule.excludes), ensure_ascii=False),
             json.dumps(list(rule.stances)), int(cooldown.total_seconds()),
             to_iso(now or utc_now())])
    added = next(watch for watch in chat_watches(db, chat_id) if watch.id == cursor.lastrowid)
    return added


def remove_watch(db: sqlite_utils.Database, chat_id: int, number: int) -> StoredWatch | None:
    """Remove the chat's watch numbered ``number`` in its list, its matches and its claims;
    None when there is no such number."""
    watches = chat_watches(db, chat_id)
    if not 1 <= number <= len(watches):
        return None
    watch = watches[number - 1]
    with db.conn:
        db.execute("DELETE FROM watches WHERE id = ?", [watch.id])  # matches cascade
        db.execute("DELETE FROM alert_claims WHERE chat_id = ? AND kind = ? AND "
                   "(subject = ? OR subject LIKE ?)",
                   [chat_id, ALERT_KIND, cooldown_subject(watch.id), f"{watch.id}:%"])
    return watch


# ---------------------------------------------------------------- posts the watches read


@dataclass(frozen=True)
class WatchedPost:
    """A stored post with the score a watch reads (None fields: not scored)."""

    item_id: int
    feed: str
    url: str | None
    text: str
    published_at: datetime | None
    fetched_at: datetime | None
    stance: str | None = None
    targets: tuple[str, ...] = ()
    evidence: str | None = None


_POST_COLUMNS = ("i.id, f.name, i.url, COALESCE(NULLIF(i.text, ''), i.title, ''), "
                 "i.published_at, i.fetched_at, s.stance, s.targets, s.evidence")


def _post(row: Sequence[Any]) -> WatchedPost:
    return WatchedPost(item_id=int(row[0]), feed=row[1], url=row[2], text=row[3] or "",
                       published_at=from_iso(row[4]), fetched_at=from_iso(row[5]),
                       stance=row[6], targets=tuple(json.loads(row[7] or "[]")),
                       evidence=row[8])


def scored_after(db: sqlite_utils.Database, mark: int, limit: int
                 ) -> tuple[list[WatchedPost], int]:
    """Posts scored after the scores row ``mark`` (a rowid), at most ``limit``; and the rowid
    to read after next time (``mark`` when nothing is new)."""
    rows = db.execute(
        f"SELECT s.rowid, {_POST_COLUMNS} FROM scores s JOIN items i ON i.id = s.item_id "
        "JOIN feeds f ON f.id = i.feed_id WHERE s.rowid > ? ORDER BY s.rowid LIMIT ?",
        [mark, limit]).fetchall()
    return [_post(row[1:]) for row in rows], (int(rows[-1][0]) if rows else mark)


def posts_between(db: sqlite_utils.Database, since: datetime, until: datetime
                  ) -> list[WatchedPost]:
    """Posts published in [since, until), newest first, each with its newest score."""
    return [_post(row) for row in db.execute(
        f"SELECT {_POST_COLUMNS} FROM items i JOIN feeds f ON f.id = i.feed_id "
        "LEFT JOIN scores s ON s.rowid = (SELECT MAX(rowid) FROM scores WHERE item_id = i.id) "
        "WHERE i.published_at >= ? AND i.published_at < ? "
        "ORDER BY i.published_at DESC, i.id DESC", [to_iso(since), to_iso(until)]).fetchall()]


# ---------------------------------------------------------------- matches and pending alerts


@dataclass(frozen=True)
class Match:
    """One watch matching one post, with the sentence that shows it."""

    watch_id: int
    item_id: int
    evidence: str


def watch_mark(db: sqlite_utils.Database) -> int:
    """The last scores rowid the watches have read (0 before the first scan)."""
    return read_mark(db, WATCH_STREAM)


def last_score_rowid(db: sqlite_utils.Database) -> int:
    return int(db.execute("SELECT COALESCE(MAX(rowid), 0) FROM scores").fetchone()[0])


def record_matches(db: sqlite_utils.Database, matches: Sequence[Match], mark: int,
                   now: datetime | None = None) -> int:
    """Store new matches and advance the watches' mark in one transaction (a crash repeats the
    batch, which stores nothing twice); drop matches and claims older than ``KEEP_MATCHES``.
    Returns how many matches were new."""
    moment = now or utc_now()
    stamp, expired = to_iso(moment), to_iso(moment - KEEP_MATCHES)
    with db.conn:
        cursor = db.conn.executemany(
            "INSERT OR IGNORE INTO watch_matches (watch_id, item_id, evidence, matched_at) "
            "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM watches WHERE id = ?)",
            [(m.watch_id, m.item_id, m.evidence, stamp, m.watch_id) for m in matches])
        write_mark(db, WATCH_STREAM, mark)
        db.execute("DELETE FROM watch_matches WHERE matched_at < ?", [expired])
        db.execute("DELETE FROM alert_claims WHERE kind = ? AND alerted_at < ? "
                   "AND subject NOT LIKE 'cooldown:%'", [ALERT_KIND, expired])
    return cursor.rowcount


@dataclass(frozen=True)
class PendingMatch:
    """A match whose alert no claim names yet, with what the alert shows."""

    watch: StoredWatch
    item_id: int
    feed: str
    feed_title: str | None
    url: str | None
    published_at: datetime | None
    stance: str | None
    evidence: str


def pending_matches(db: sqlite_utils.Database, limit: int = 5000) -> list[PendingMatch]:
    """Matches not yet claimed for their watch's chat, by watch, then oldest post first."""
    rows = db.execute(
        f"""SELECT {", ".join(f"w.{c.strip()}" for c in _WATCH_COLUMNS.split(","))},
               m.item_id, f.name, f.title, i.url, i.published_at, s.stance, m.evidence
        FROM watch_matches m JOIN watches w ON w.id = m.watch_id
        JOIN items i ON i.id = m.item_id JOIN feeds f ON f.id = i.feed_id
        LEFT JOIN scores s ON s.rowid = (SELECT MAX(rowid) FROM scores WHERE item_id = i.id)
        WHERE NOT EXISTS (SELECT 1 FROM alert_claims a WHERE a.chat_id = w.chat_id
                          AND a.kind = ? AND a.subject = m.watch_id || ':' || m.item_id)
        ORDER BY w.id, i.published_at, m.item_id LIMIT ?""", [ALERT_KIND, limit]).fetchall()
    return [PendingMatch(watch=_watch(row[:8]), item_id=int(row[8]), feed=row[9],
                         feed_title=row[10], url=row[11], published_at=from_iso(row[12]),
                         stance=row[13], evidence=row[14]) for row in rows]
