"""What every bot handler and job shares: settings, taxonomy, a clock and per-thread DB handles.

Holds resources; never decides what to reply or whom to send to.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from config import Settings
from config.themes import Taxonomy
from store.db import open_db
from store.models import utc_now

T = TypeVar("T")
CACHE_WINDOWS = 32


@dataclass
class BotEnv:
    """Shared state of one bot Application.

    Blocking work (SQLite, composing, drawing) runs in worker threads through ``call`` /
    ``with_db``, each thread with its own connection, so the event loop never waits on disk.
    """

    settings: Settings
    db_path: Path
    taxonomy: Taxonomy
    clock: Callable[[], datetime] = utc_now
    describe_jobs: Callable[[], list[str]] = lambda: []
    rendered: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    _local: threading.local = field(default_factory=threading.local)
    _connections: list[sqlite_utils.Database] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def db(self) -> sqlite_utils.Database:
        """This thread's connection to the store (opened on first use)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = open_db(self.db_path)
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(*args)`` in a worker thread."""
        return await asyncio.to_thread(function, *args)

    async def with_db(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(db, *args)`` in a worker thread with that thread's connection."""
        return await asyncio.to_thread(lambda: function(self.db(), *args))

    def remember(self, key: str, value: Any) -> None:
        """Keep a rendered window so it is composed once; only the newest windows are kept."""
        self.rendered[key] = value
        while len(self.rendered) > CACHE_WINDOWS:
            self.rendered.popitem(last=False)

    def close(self) -> None:
        with self._lock:
            for db in self._connections:
                db.conn.close()
            self._connections.clear()
        self._local = threading.local()
