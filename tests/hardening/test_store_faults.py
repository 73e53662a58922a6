"""A store that cannot be used is one stderr line naming the file and the fix (issue 22.8).

Real files through the real CLI: random bytes, a truncated store, a read-only folder and a
read-only file, and a full disk. Root ignores file modes, so as root the read-only cases run
the CLI as a child process without CAP_DAC_OVERRIDE (``setpriv``), which makes the kernel
enforce the modes as it would for any user. The full disk is SQLite's own: ``max_page_count``
pinned to the store's size on every connection the CLI opens, so the next page it needs fails
with SQLITE_FULL ("database or disk is full"), the error a full file system gives.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from config import FeedConfig, Settings
from riftwatch.cli.main import main
from store.db import open_db
from store.feeds import add_feed
from store.items import save_items
from store.models import Item, utc_now

from .conftest import PYTHON, child_env

UNPRIVILEGED = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
                "--bounding-set=-dac_override,-dac_read_search"]


def _assert_one_line(err: str, *fragments: str) -> None:
    assert err.startswith("riftwatch: "), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err, err
    assert "fix:" in err, err
    for fragment in fragments:
        assert fragment in err, err


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def _store_with_posts(path: Path, posts: int = 300) -> Path:
    """A real store with one channel and ``posts`` long posts, closed (no -wal/-shm left)."""
    db = open_db(path)
    feed = add_feed(db, FeedConfig(name="chan", kind="telegram", role="blogger",
                                   channel="chanxx"))
    now = utc_now()
    save_items(db, feed.id, [
        Item(text=f"post {n} " + "текст " * 200, channel="chanxx", post_id=n,
             url=f"https://t.me/chanxx/{n}", published_at=now - timedelta(hours=n % 48))
        for n in range(1, posts + 1)])
    db.conn.close()
    return path


def test_random_bytes_are_not_a_store(settings: Settings, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "random.db"
    path.write_bytes(random.Random(22).randbytes(20_000))
    code, err = _cli(capsys, "feeds", "list", "--db", str(path))
    assert code == 2
    _assert_one_line(err, str(path), "not a SQLite database")
    assert path.read_bytes() == random.Random(22).randbytes(20_000)  # left as it was


@pytest.mark.parametrize("size", [5000, 20_480, 1_003_520], ids=lambda size: f"{size}B")
def test_a_truncated_store_is_damaged(settings: Settings, tmp_path: Path, capsys,  # type: ignore[no-untyped-def]
                                      size: int) -> None:
    path = _store_with_posts(tmp_path / "store.db")
    with path.open("r+b") as handle:
        handle.truncate(size)
    for argv in (["feeds", "list"], ["export", "--since", "30d", "--out", "x.csv"]):
        code, err = _cli(capsys, *argv, "--db", str(path))
        assert code == 2
        _assert_one_line(err, str(path), "damaged", ".recover")


def _unprivileged_cli(argv: list[str], store: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process for which file modes hold (as root: no DAC override)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: file modes cannot be enforced")
        prefix = UNPRIVILEGED
    feeds = cwd / "feeds.toml"
    feeds.write_text("", encoding="utf-8")
    env = child_env(store, RIFTWATCH_FEEDS_FILE=str(feeds), RIFTWATCH_CACHE_DIR=str(cwd / "c"))
    return subprocess.run([*prefix, PYTHON, "-m", "riftwatch", *argv], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder holding a closed store, then made read-only (restored for cleanup)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    _store_with_posts(folder / "store.db", posts=5)
    (folder / "store.db").chmod(0o444)
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)
    (folder / "store.db").chmod(0o644)


@pytest.mark.parametrize("argv", [["feeds", "list"], ["browse", "--port", "9"],
                                  ["digest"]], ids=lambda argv: argv[0])
def test_a_store_in_a_read_only_folder_is_one_line(read_only_folder: Path, tmp_path: Path,
                                                   argv: list[str]) -> None:
    store = read_only_folder / "store.db"
    done = _unprivileged_cli(argv, store, tmp_path)
    assert done.returncode == 2, done.stderr[-3000:]
    _assert_one_line(done.stderr, str(store), "read-only", "writable")
    assert sorted(os.listdir(read_only_folder)) == ["store.db"]


def test_a_write_to_a_read_only_store_file_is_one_line(tmp_path: Path) -> None:
    store = _store_with_posts(tmp_path / "store.db", posts=5)
    store.chmod(0o444)
    done = _unprivileged_cli(["feeds", "add", "@another_channel"], store, tmp_path)
    assert done.returncode == 2, done.stderr[-3000:]
    _assert_one_line(done.stderr, str(store), "read-only", "writable")


def _telegram_export(path: Path, messages: int) -> Path:
    data = {"name": "Big", "type": "public_channel", "id": 77, "messages": [
        {"id": n, "type": "message", "date": "2026-11-20T10:00:00",
         "text": f"сообщение {n} " + "длинный текст " * 150} for n in range(1, messages + 1)]}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_full_disk_is_one_line(settings: Settings, db_path: Path, tmp_path: Path, capsys,  # type: ignore[no-untyped-def]
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    open_db(db_path).conn.close()
    real_connect = sqlite3.connect

    def connect_on_a_full_disk(*args, **kwargs):  # type: ignore[no-untyped-def]
        conn = real_connect(*args, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect_on_a_full_disk)
    export = _telegram_export(tmp_path / "result.json", 400)
    code, err = _cli(capsys, "import", "telegram-export", str(export), "--db", str(db_path))
    assert code == 2
    _assert_one_line(err, str(db_path), "disk is full", "free space")
    monkeypatch.setattr(sqlite3, "connect", real_connect)
    check = real_connect(str(db_path))
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()
