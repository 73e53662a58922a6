"""What every bot handler and job shares: settings, taxonomy, a clock and per-thread DB handles.

Holds resources; never decides what to reply or whom to send to.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from config import Settings
from config.themes import Taxonomy
from store.models import utc_now
from store.pool import ConnectionPool

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
    pool: ConnectionPool = field(init=False)

    def __post_init__(self) -> None:
        self.pool = ConnectionPool(self.db_path)

    def db(self) -> sqlite_utils.Database:
        """This thread's connection to the store (opened on first use)."""
        return self.pool.db()

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
        self.pool.close()
