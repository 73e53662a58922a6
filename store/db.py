"""Open the SQLite database: WAL mode, a busy timeout for a second process, schema migrated.

Also names what is wrong with a store SQLite cannot use (unwritable, full, not SQLite,
damaged) as a ``StoreError``, whether it shows at open or in the middle of a command.
"""

from __future__ import annotations

import shlex
import sqlite3
from pathlib import Path

import sqlite_utils

from config.errors import ConfigError
from store.schema import migrate

BUSY_TIMEOUT_MS = 30_000
DB_SETTING = "RIFTWATCH_DB_PATH"
_ELSEWHERE = f"or point {DB_SETTING} (or --db) at"
_WRITABLE = ("make the file and its folder writable for this user (SQLite writes -wal and -shm "
             f"files beside the store), {_ELSEWHERE} a writable file path")
_UNWRITABLE = ("cannot open the store here", _WRITABLE)
# SQLite's primary result codes (sqlite.org/rescode.html) → (problem, fix)
_PROBLEMS: dict[int, tuple[str, str]] = {
    sqlite3.SQLITE_PERM: _UNWRITABLE,
    sqlite3.SQLITE_CANTOPEN: _UNWRITABLE,
    sqlite3.SQLITE_READONLY: ("the store (or its folder) is read-only", _WRITABLE),
    sqlite3.SQLITE_FULL: ("the disk is full; the last change was not written",
                          f"free space on that disk, {_ELSEWHERE} a copy on a disk with room"),
    sqlite3.SQLITE_IOERR: ("the disk failed a read or write",
                           "check the disk (free space, dmesg) and run the command again"),
    sqlite3.SQLITE_BUSY: (f"another process kept the store locked for {BUSY_TIMEOUT_MS // 1000} s",
                          "let it finish (or stop it) and run the command again"),
    sqlite3.SQLITE_NOTADB: ("not a SQLite database", "move the file away to start a new store "
                            f"there, {_ELSEWHERE} a riftwatch store"),
    sqlite3.SQLITE_CORRUPT: ("the store is damaged", "restore it from a backup, or save what "
                             "SQLite can: sqlite3 STORE .recover | sqlite3 recovered.db, "
                             f"{_ELSEWHERE} recovered.db"),
}


class StoreError(ConfigError):
    """The store file cannot be used as it is: ``str()`` names the file, what and the fix."""


def store_error(path: Path | str, exc: sqlite3.Error) -> StoreError | None:
    """The StoreError for a SQLite failure caused by the store file or its disk; None for
    any other (a bug, such as a bad query, stays a traceback)."""
    code = getattr(exc, "sqlite_errorcode", None)
    known = _PROBLEMS.get(code & 0xFF) if code is not None else None
    if known is None:
        return None
    problem, fix = known
    return StoreError(str(path), DB_SETTING, f"{problem} ({exc})",
                      fix.replace("STORE", shlex.quote(str(path))))


def _connect(path: Path | str) -> sqlite3.Connection:
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _migrate_or_close(db: sqlite_utils.Database) -> None:
    try:
        migrate(db)
    except BaseException:
        db.conn.close()
        raise


def open_db(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) the store at ``path``, ready for use by several processes.

    Raises StoreError when the file cannot be opened, written, or read as a store.
    """
    try:
        db = sqlite_utils.Database(_connect(path))
        _migrate_or_close(db)
    except OSError as exc:
        problem, fix = _UNWRITABLE
        raise StoreError(str(path), DB_SETTING, f"{problem} ({exc.strerror or exc})",
                         fix) from None
    except sqlite3.Error as exc:
        error = store_error(path, exc)
        if error is None:
            raise
        raise error from None
    return db
