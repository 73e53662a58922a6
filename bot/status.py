"""The admin /status report: scheduler jobs, scoring queue, subscribers, database size, model.

Reads counts from the store; never changes anything.
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from config import Settings
from digest.telegram_html import escape
from store.feeds import count_feeds
from store.items import count_items
from store.scores import count_unscored_items, latest_model_version
from store.subscribers import count_subscribers


def _database_bytes(db_path: Path) -> int:
    return sum(Path(f"{db_path}{suffix}").stat().st_size
               for suffix in ("", "-wal") if Path(f"{db_path}{suffix}").exists())


def render_status(
    db: sqlite_utils.Database, db_path: Path, settings: Settings, jobs: list[str]
) -> str:
    """One Telegram HTML status text."""
    items = count_items(db)
    version = latest_model_version(db)
    unscored = count_unscored_items(db, version)
    feeds = count_feeds(db)
    subscribers = count_subscribers(db)
    model = version or "none yet"
    if settings.model is not None:
        model += f" (configured: {settings.model})"
    lines = [
        "<b>riftwatch status</b>",
        f"Feeds: {feeds.active} active, {feeds.paused} paused, {feeds.failing} failing",
        f"Items: {items} stored, {unscored} waiting to be scored",
        "Subscribers: " + ", ".join(f"{count} {mode}" for mode, count in subscribers.items()),
        f"Database: {_database_bytes(db_path) / 1e6:.1f} MB ({escape(db_path.name)})",
        f"Model: {escape(model)}",
        "Jobs:" if jobs else "Jobs: none scheduled",
        *(f"• {escape(job)}" for job in jobs),
    ]
    return "\n".join(lines)
