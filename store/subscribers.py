"""Digest subscribers and the record of digests sent: rows in, rows out.

Persists and reads plain data; never sends messages or decides who is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from store.models import from_iso, to_iso, utc_now

MODES = ("daily", "hourly", "spikes", "spreading")


@dataclass(frozen=True)
class Subscriber:
    """One chat's subscription as stored."""

    chat_id: int
    chat_type: str | None
    mode: str
    daily_time: str | None
    timezone: str
    active: bool
    inactive_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Subscriber:
        return cls(
            chat_id=int(row["chat_id"]),
            chat_type=row.get("chat_type"),
            mode=row["mode"],
            daily_time=row.get("daily_time"),
            timezone=row.get("timezone") or "UTC",
            active=bool(row["active"]),
            inactive_reason=row.get("inactive_reason"),
            created_at=from_iso(row["created_at"]) or utc_now(),
            updated_at=from_iso(row["updated_at"]) or utc_now(),
        )


def subscribe(
    db: sqlite_utils.Database, chat_id: int, mode: str, *, chat_type: str | None = None,
    daily_time: str | None = None, timezone: str = "UTC", now: datetime | None = None,
) -> Subscriber:
    """Create or replace a chat's subscription (and re-activate it)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    stamp = to_iso(now or utc_now())
    with db.conn:
        db.execute(
            """INSERT INTO subscribers (chat_id, chat_type, mode, daily_time, timezone, active,
                   inactive_reason, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, 1, NULL, ?, ?)
               ON CONFLICT(chat_id) DO UPDATE SET chat_type = excluded.chat_type,
                   mode = excluded.mode, daily_time = excluded.daily_time,
                   timezone = excluded.timezone, active = 1, inactive_reason = NULL,
                   updated_at = excluded.updated_at""",
            [chat_id, chat_type, mode, daily_time, timezone, stamp, stamp],
        )
    found = get_subscriber(db, chat_id)
    assert found is not None
    return found


def get_subscriber(db: sqlite_utils.Database, chat_id: int) -> Subscriber | None:
    rows = list(db.table("subscribers").rows_where("chat_id = ?", [chat_id]))
    return Subscriber.from_row(rows[0]) if rows else None


def deactivate(
    db: sqlite_utils.Database, chat_id: int, reason: str, now: datetime | None = None
) -> bool:
    """Mark a subscription inactive (unsubscribed, blocked the bot…); False if there was none."""
    with db.conn:
        cursor = db.execute(
            "UPDATE subscribers SET active = 0, inactive_reason = ?, updated_at = ? "
            "WHERE chat_id = ? AND active = 1",
            [reason, to_iso(now or utc_now()), chat_id],
        )
    return cursor.rowcount > 0


def active_subscribers(db: sqlite_utils.Database, mode: str | None = None) -> list[Subscriber]:
    where, params = "active = 1", []
    if mode is not None:
        where += " AND mode = ?"
        params.append(mode)
    return [Subscriber.from_row(row)
            for row in db.table("subscribers").rows_where(where, params, order_by="chat_id")]


def count_subscribers(db: sqlite_utils.Database) -> dict[str, int]:
    """Active subscribers per mode, plus ``inactive``."""
    counts = {mode: 0 for mode in MODES} | {"inactive": 0}
    for mode, active, number in db.execute(
        "SELECT mode, active, COUNT(*) FROM subscribers GROUP BY mode, active"
    ).fetchall():
        counts[mode if active else "inactive"] += number
    return counts


def claim_delivery(
    db: sqlite_utils.Database, chat_id: int, window_key: str, now: datetime | None = None
) -> bool:
    """Record (chat, window) as sent *before* sending; False if it was already claimed.

    The primary key makes this atomic across processes, so two senders never both win.
    """
    with db.conn:
        cursor = db.execute(
            "INSERT OR IGNORE INTO digests_sent (chat_id, window_key, sent_at) VALUES (?, ?, ?)",
            [chat_id, window_key, to_iso(now or utc_now())],
        )
    return cursor.rowcount == 1


def release_delivery(db: sqlite_utils.Database, chat_id: int, window_key: str) -> None:
    """Undo a claim whose send failed before anything reached the chat, so it is retried."""
    with db.conn:
        db.execute("DELETE FROM digests_sent WHERE chat_id = ? AND window_key = ?",
                   [chat_id, window_key])


def delivered_chats(db: sqlite_utils.Database, window_key: str) -> set[int]:
    return {int(row[0]) for row in db.execute(
        "SELECT chat_id FROM digests_sent WHERE window_key = ?", [window_key]).fetchall()}


def deliveries(db: sqlite_utils.Database, chat_id: int | None = None) -> list[dict[str, Any]]:
    """Rows of digests_sent, oldest first (all chats, or one)."""
    where, params = (None, []) if chat_id is None else ("chat_id = ?", [chat_id])
    return list(db.table("digests_sent").rows_where(where, params, order_by="sent_at, window_key"))


def claim_alert(
    db: sqlite_utils.Database, chat_id: int, kind: str, subject: str,
    cooldown: timedelta | None, now: datetime | None = None,
) -> bool:
    """Record an alert of ``kind`` about ``subject`` (a theme, a post) to ``chat_id`` *before*
    sending it; False while the last one is younger than ``cooldown`` (None: ever sent).

    One atomic upsert in ``alert_claims``, so two senders never both win and a restart
    respects every claim made before it.
    """
    moment = now or utc_now()
    # With no cooldown the update's condition is never true: a claim, once made, stands.
    expired = to_iso(moment - cooldown) if cooldown is not None else ""
    with db.conn:
        cursor = db.execute(
            "INSERT INTO alert_claims (chat_id, kind, subject, alerted_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(chat_id, kind, subject) DO UPDATE SET alerted_at = excluded.alerted_at "
            "WHERE alert_claims.alerted_at <= ?",
            [chat_id, kind, subject, to_iso(moment), expired],
        )
    return cursor.rowcount == 1


def release_alert(db: sqlite_utils.Database, chat_id: int, kind: str, subject: str) -> None:
    """Undo a claim whose alert certainly never reached the chat, so the next tick retries it.

    The claim only won because no alert was within the cooldown, so forgetting it is exact.
    """
    with db.conn:
        db.execute("DELETE FROM alert_claims WHERE chat_id = ? AND kind = ? AND subject = ?",
                   [chat_id, kind, subject])
