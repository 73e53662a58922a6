"""Open the SQLite database: WAL mode, a busy timeout for a second process, schema migrated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from config.errors import ConfigError
from store.schema import migrate

BUSY_TIMEOUT_MS = 30_000


def open_db(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) the store at ``path``, ready for use by several processes."""
    try:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    except (OSError, sqlite3.OperationalError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(str(path), "RIFTWATCH_DB_PATH", f"cannot open the store here ({reason})",
                          "point RIFTWATCH_DB_PATH (or --db) at a writable file path") from None
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    db = sqlite_utils.Database(conn)
    migrate(db)
    return db
