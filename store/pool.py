"""One SQLite connection per thread to one store file, all closed together; never queries.

SQLite connections must not cross threads, so worker threads (fetch workers, the bot's
``asyncio.to_thread`` calls) each open their own on first use; ``close`` ends them all.
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlite_utils

from store.db import open_db


class ConnectionPool:
    """Per-thread connections to the store at ``db_path``, opened lazily."""

    def __init__(self, db_path: Path | str) -> None:
        self.db_path = Path(db_path)
        self._local = threading.local()
        self._connections: list[sqlite_utils.Database] = []
        self._lock = threading.Lock()

    def db(self) -> sqlite_utils.Database:
        """This thread's connection (opened on first use)."""
        db: sqlite_utils.Database | None = getattr(self._local, "db", None)
        if db is None:
            db = open_db(self.db_path)
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    def close(self) -> None:
        """Close every thread's connection; a thread's next ``db()`` opens a fresh one."""
        with self._lock:
            for db in self._connections:
                db.conn.close()
            self._connections.clear()
        self._local = threading.local()

    def __enter__(self) -> ConnectionPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
