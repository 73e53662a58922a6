"""The admin /status report: scheduler jobs, scoring queue, subscribers, database size, model.

Reads counts from the store; never changes anything.
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from config import Settings
from digest.compose import latest_model_version
from digest.telegram_html import escape
from store.subscribers import count_subscribers


def _database_bytes(db_path: Path) -> int:
    return sum(Path(f"{db_path}{suffix}").stat().st_size
               for suffix in ("", "-wal") if Path(f"{db_path}{suffix}").exists())


def render_status(
    db: sqlite_utils.Database, db_path: Path, settings: Settings, jobs: list[str]
) -> str:
    """One Telegram HTML status text."""
    items = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    version = latest_model_version(db)
    unscored = db.execute(
        "SELECT COUNT(*) FROM items WHERE id NOT IN "
        "(SELECT item_id FROM scores WHERE model_version = ?)", [version or ""]).fetchone()[0]
    feeds = db.execute(
        "SELECT SUM(enabled), SUM(enabled = 0), SUM(error_count > 0) FROM feeds WHERE removed = 0"
    ).fetchone()
    subscribers = count_subscribers(db)
    model = version or "none yet"
    if settings.model is not None:
        model += f" (configured: {settings.model})"
    lines = [
        "<b>riftwatch status</b>",
        f"Feeds: {feeds[0] or 0} active, {feeds[1] or 0} paused, {feeds[2] or 0} failing",
        f"Items: {items} stored, {unscored} waiting to be scored",
        "Subscribers: " + ", ".join(f"{count} {mode}" for mode, count in subscribers.items()),
        f"Database: {_database_bytes(db_path) / 1e6:.1f} MB ({escape(db_path.name)})",
        f"Model: {escape(model)}",
        "Jobs:" if jobs else "Jobs: none scheduled",
        *(f"• {escape(job)}" for job in jobs),
    ]
    return "\n".join(lines)
