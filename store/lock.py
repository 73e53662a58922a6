"""One `riftwatch run` per store: a lock file beside the store, held while the service runs.

The lock is an ``flock`` on ``STORE.lock``, which also holds the owner's process id: the
kernel drops the lock when its process dies, so a file left by a killed process is stale and
is taken over. Locks only; never opens the store.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from config.errors import RiftwatchError
from store.db import DB_SETTING, StoreError

log = logging.getLogger(__name__)


class StoreInUse(RiftwatchError):
    """Another process holds the store's lock; ``str()`` names the store, the holder and the fix."""


def lock_path(db_path: Path) -> Path:
    """The lock file beside the store: ``riftwatch.db`` → ``riftwatch.db.lock``."""
    return db_path.with_name(db_path.name + ".lock")


def _holder(fd: int) -> str:
    """The pid written in an open lock file, or '?' if it holds none."""
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode("ascii", "replace").strip()
    return text if text.isdigit() else "?"


def _open_locked(path: Path, db_path: Path, override_hint: str) -> int:
    """Open ``path`` and take its lock without waiting; StoreInUse if another process has it.

    Retries when the file it locked was unlinked meanwhile by a holder that was exiting.
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise StoreInUse(
                f"{db_path} is in use by another riftwatch run (pid {holder}; lock file "
                f"{path}); stop that one first, or pass {override_hint} to run a second "
                "(both fetch and score everything)") from None
        try:
            same_file = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same_file = False
        if same_file:
            return fd
        os.close(fd)


@contextmanager
def store_lock(db_path: Path, override_hint: str = "--ignore-lock") -> Iterator[Path]:
    """Hold the store's lock for the ``with`` block; the lock file is removed on exit.

    Raises StoreInUse when a live process holds it; a file left by a dead one is taken over.
    """
    path = lock_path(Path(db_path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = _open_locked(path, Path(db_path), override_hint)
    except OSError as exc:
        raise StoreError(str(db_path), DB_SETTING,
                         f"cannot create the lock file {path} ({exc.strerror or exc})",
                         f"make the store's folder writable, or pass {override_hint}") from None
    try:
        stale = _holder(fd)
        if stale != "?" and int(stale) != os.getpid():
            log.info("took over %s left by pid %s, which is no longer running", path, stale)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield path
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)
