"""Save parsed items (insert new, update views and edits of known ones) and read them back.

An edit (changed text or title) keeps the earlier text as a version and queues the item for
rescoring, and every view count seen is sampled, in the same transaction (``store.item_history``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from store.item_history import record_edit, record_view_samples
from store.models import Item, from_iso, to_iso, utc_now

_UPDATABLE = ("text", "title", "views", "edited", "link_preview", "media")
_READ_BACK = ("id", "key", *_UPDATABLE, "version", "fetched_at")
_EDITS = ("text", "title")


@dataclass(frozen=True)
class SaveResult:
    new: int
    updated: int
    edited: int = 0  # of the updated, those whose text or title changed


def _item_row(item: Item, feed_id: int, now: str) -> dict[str, Any]:
    return {
        "key": item.key,
        "feed_id": feed_id,
        "post_id": item.post_id,
        "url": item.url,
        "guid": item.guid,
        "title": item.title,
        "text": item.text,
        "author": item.author,
        "language": item.language,
        "published_at": to_iso(item.published_at),
        "views": item.views,
        "forwarded_from": item.forwarded_from,
        "forwarded_url": item.forwarded_url,
        "links": json.dumps(item.links) if item.links else None,
        "link_preview": item.link_preview,
        "media": json.dumps(item.media) if item.media else None,
        "edited": int(item.edited),
        "fetched_at": now,
        "updated_at": now,
    }


def _existing_rows(db: sqlite_utils.Database, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        marks = ",".join("?" * len(chunk))
        cursor = db.execute(
            f"SELECT {', '.join(_READ_BACK)} FROM items WHERE key IN ({marks})", chunk
        )
        columns = [description[0] for description in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(columns, values, strict=True))
            found[row["key"]] = row
    return found


def known_keys(db: sqlite_utils.Database, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` the store already holds (for importers that must not overwrite)."""
    return set(_existing_rows(db, list(keys)))


def count_items(db: sqlite_utils.Database) -> int:
    """How many items the store holds."""
    return int(db.execute("SELECT COUNT(*) FROM items").fetchone()[0])


def _changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    changed = {name: new[name] for name in _UPDATABLE
               if new[name] is not None and new[name] != old[name]}
    if any(name in changed for name in _EDITS):
        changed["edited"] = 1
    return changed


def save_items(
    db: sqlite_utils.Database, feed_id: int, items: Iterable[Item], now: datetime | None = None
) -> SaveResult:
    """Insert unseen items and update changed ones, in one transaction; never duplicates.

    A changed text or title is an edit: the earlier one is kept as a version, the item's
    version and ``changed_at`` move on, and its scores go so the new text is scored.
    """
    moment = now or utc_now()
    stamp = to_iso(moment) or ""
    rows: dict[str, dict[str, Any]] = {}
    for item in items:
        rows[item.key] = _item_row(item, feed_id, stamp)
    if not rows:
        return SaveResult(0, 0)
    with db.conn:
        existing = _existing_rows(db, list(rows))
        fresh = [row for key, row in rows.items() if key not in existing]
        if fresh:
            db.table("items").insert_all(fresh, ignore=True, batch_size=500)
        updated = edited = 0
        sampled = [row["key"] for row in fresh]
        for key, old in existing.items():
            changes = _changes(old, rows[key])
            if not changes:
                continue
            if any(name in changes for name in _EDITS):
                record_edit(db, old, stamp)
                changes.update(version=int(old["version"]) + 1, changed_at=stamp)
                edited += 1
            if "views" in changes:
                sampled.append(key)
            changes["updated_at"] = stamp
            db.table("items").update(old["id"], changes)
            updated += 1
        ids = {key: int(old["id"]) for key, old in existing.items()}
        record_view_samples(db, _views_seen(db, rows, sampled, ids), moment)
    return SaveResult(new=len(fresh), updated=updated, edited=edited)


def _views_seen(db: sqlite_utils.Database, rows: dict[str, dict[str, Any]], keys: list[str],
                ids: dict[str, int]) -> list[tuple[int, datetime, int]]:
    """(item id, published at, views) of the ``keys`` rows that carry both; ``ids`` holds the
    ids already known, the others (just inserted) are looked up."""
    counted = [key for key in keys if rows[key]["views"] is not None
               and rows[key]["published_at"] is not None]
    unknown = [key for key in counted if key not in ids]
    for start in range(0, len(unknown), 500):
        chunk = unknown[start:start + 500]
        marks = ",".join("?" * len(chunk))
        ids.update((str(key), int(item_id)) for item_id, key in db.execute(
            f"SELECT id, key FROM items WHERE key IN ({marks})", chunk))
    return [(ids[key], published, int(rows[key]["views"])) for key in counted
            if (published := from_iso(rows[key]["published_at"])) is not None]


def items_since(
    db: sqlite_utils.Database, since: datetime, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Items published in [since, until), newest first, joined with their feed's name and role."""
    sql = (
        "SELECT items.*, feeds.name AS feed_name, feeds.role AS role, feeds.title AS feed_title, "
        "feeds.kind AS feed_kind FROM items JOIN feeds ON feeds.id = items.feed_id "
        "WHERE items.published_at >= ?"
    )
    params: list[Any] = [to_iso(since)]
    if until is not None:
        sql += " AND items.published_at < ?"
        params.append(to_iso(until))
    sql += " ORDER BY items.published_at DESC, items.id DESC"
    return list(db.query(sql, params))
