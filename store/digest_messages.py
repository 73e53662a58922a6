"""Which posts each message the bot sent quoted, and those posts as the model last saw them.

Lets a ``/label`` reply find its post; persists and reads only, never decides who may label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from store.models import from_iso, to_iso, utc_now
from store.scores import stance_probability_sql

KEEP_FOR = timedelta(days=90)  # older mappings are dropped when new ones are written


@dataclass(frozen=True)
class QuotedPost:
    """A stored post with the newest score it has (None fields when it was never scored)."""

    item_id: int
    feed: str
    text: str
    published_at: datetime | None
    model_version: str | None
    stance: str | None
    probability: float | None


def record_digest_message(
    db: sqlite_utils.Database, chat_id: int, message_id: int, item_ids: Sequence[int],
    now: datetime | None = None,
) -> None:
    """Remember that message ``message_id`` in ``chat_id`` quoted ``item_ids`` (in order).

    Ids with no stored item are skipped; mappings older than ``KEEP_FOR`` are dropped.
    """
    moment = now or utc_now()
    stamp = to_iso(moment)
    with db.conn:
        db.conn.executemany(
            "INSERT OR IGNORE INTO digest_messages (chat_id, message_id, item_id, position, "
            "sent_at) SELECT ?, ?, id, ?, ? FROM items WHERE id = ?",
            [(chat_id, message_id, position, stamp, item_id)
             for position, item_id in enumerate(item_ids)],
        )
        db.execute("DELETE FROM digest_messages WHERE sent_at < ?", [to_iso(moment - KEEP_FOR)])


def items_in_message(db: sqlite_utils.Database, chat_id: int, message_id: int) -> list[int]:
    """The item ids a sent message quoted, in the order it quoted them ([] if none known)."""
    return [int(row[0]) for row in db.execute(
        "SELECT item_id FROM digest_messages WHERE chat_id = ? AND message_id = ? "
        "ORDER BY position", [chat_id, message_id]).fetchall()]


_POST_SQL = f"""
SELECT i.id, f.name AS feed, i.text, i.published_at, s.model_version, s.stance,
       {stance_probability_sql("s")} AS probability
FROM items i JOIN feeds f ON f.id = i.feed_id
LEFT JOIN scores s ON s.item_id = i.id AND s.scored_at = (
    SELECT MAX(scored_at) FROM scores WHERE item_id = i.id)
WHERE i.id = ?
"""


def quoted_post(db: sqlite_utils.Database, item_id: int) -> QuotedPost | None:
    """A stored post with its newest score (the one a digest showed), or None if not stored."""
    row = db.execute(_POST_SQL, [item_id]).fetchone()
    if row is None:
        return None
    return QuotedPost(item_id=int(row[0]), feed=row[1], text=row[2] or "",
                      published_at=from_iso(row[3]), model_version=row[4], stance=row[5],
                      probability=row[6])
