"""One `riftwatch run` per store: a second says the store is in use (issue 22.11).

Real `riftwatch run` child processes on one store (no token: console mode; no model: the
scoring thread fails at once and the service runs on). The lock file beside the store is
removed on exit; one left by a process killed with SIGKILL is recognised as stale.
"""

from __future__ import annotations

import signal
import subprocess
import threading
from pathlib import Path

from .conftest import PYTHON, child_env, wait_until

RUNNING = "running without the bot"


class Child:
    """A `riftwatch run` child process whose stderr is read as it comes."""

    def __init__(self, tmp_path: Path, store: Path, *flags: str) -> None:
        feeds = tmp_path / "feeds.toml"
        feeds.write_text("", encoding="utf-8")
        env = child_env(store, RIFTWATCH_FEEDS_FILE=str(feeds), RIFTWATCH_LOG_LEVEL="INFO",
                        RIFTWATCH_CACHE_DIR=str(tmp_path / "cache"),
                        RIFTWATCH_MODEL=str(tmp_path / "no-model"))
        self.process = subprocess.Popen([PYTHON, "-m", "riftwatch", "run", *flags], env=env,
                                        cwd=tmp_path, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    @property
    def err(self) -> str:
        return "".join(self.lines)

    def wait_running(self) -> None:
        wait_until(lambda: RUNNING in self.err or self.process.poll() is not None, 60,
                   "the service to start")
        assert RUNNING in self.err, self.err[-3000:]

    def finish(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        code = self.process.wait(30)
        self._reader.join(10)
        return code


def test_a_second_run_on_one_store_says_it_is_in_use(tmp_path: Path) -> None:
    store = tmp_path / "riftwatch.db"
    lock = tmp_path / "riftwatch.db.lock"
    first = Child(tmp_path, store)
    try:
        first.wait_running()
        assert lock.read_text().strip() == str(first.process.pid)
        second = Child(tmp_path, store)
        assert second.process.wait(60) == 1
        second._reader.join(10)
        assert second.err.count("\n") == 1, second.err
        assert second.err.startswith("riftwatch: "), second.err
        for fragment in (str(store), "in use", f"pid {first.process.pid}", "--ignore-lock"):
            assert fragment in second.err
        assert first.process.poll() is None  # the first runs on, its lock untouched
        assert lock.read_text().strip() == str(first.process.pid)
    finally:
        assert first.finish() == 0, first.err[-3000:]
    assert not lock.exists()  # released on exit


def test_ignore_lock_runs_a_second(tmp_path: Path) -> None:
    store = tmp_path / "riftwatch.db"
    first = Child(tmp_path, store)
    try:
        first.wait_running()
        second = Child(tmp_path, store, "--ignore-lock")
        second.wait_running()
        assert second.finish() == 0
        assert "in use" not in second.err
    finally:
        assert first.finish() == 0
    assert not (tmp_path / "riftwatch.db.lock").exists()


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path: Path) -> None:
    store = tmp_path / "riftwatch.db"
    lock = tmp_path / "riftwatch.db.lock"
    killed = Child(tmp_path, store)
    killed.wait_running()
    killed.finish(signal.SIGKILL)
    assert lock.read_text().strip() == str(killed.process.pid)  # left behind, stale
    successor = Child(tmp_path, store)
    try:
        successor.wait_running()
        assert f"left by pid {killed.process.pid}, which is no longer running" in successor.err
        assert lock.read_text().strip() == str(successor.process.pid)
    finally:
        assert successor.finish() == 0
    assert not lock.exists()
