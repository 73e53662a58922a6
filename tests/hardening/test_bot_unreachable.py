"""`riftwatch run` outlives an unreachable Bot API: it fetches on and retries the bot (issue 22.9).

A real `riftwatch run` child process whose Bot API URL is a closed port on 127.0.0.1 keeps
fetching a loopback feed, logs the outage once however many tries fail, and brings the bot
up once the Bot API stand-in (tests/bot) starts listening on that port.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from .conftest import PYTHON, bot_standin, child_env, closed_port_url, rss_feed, write_feeds_file

UNREACHABLE = "Bot API unreachable ("
RETRY = "next try in"
BACK = "Bot API reachable again"


def _items(store: Path) -> int:
    if not store.exists():
        return 0
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM items").fetchone()[0])
    except sqlite3.Error:  # not migrated yet
        return 0
    finally:
        conn.close()


async def _until(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {seconds}s waiting for {what}"
        await asyncio.sleep(0.1)


async def _collect(stream: asyncio.StreamReader, lines: list[str]) -> None:
    async for line in stream:
        lines.append(line.decode("utf-8", "replace"))


async def test_run_fetches_on_and_retries_an_unreachable_bot_api(tmp_path: Path,
                                                                feed_server) -> None:  # type: ignore[no-untyped-def]
    standin_module = bot_standin()
    port = urlsplit(closed_port_url()).port
    store = tmp_path / "riftwatch.db"
    feed = feed_server.add("/wire.xml", rss_feed([("g1", "первая новость"), ("g2", "вторая")]))
    env = child_env(store, RIFTWATCH_FEEDS_FILE=str(write_feeds_file(
        tmp_path / "feeds.toml", [("wire", "rss", feed)])),
        RIFTWATCH_TELEGRAM_TOKEN=standin_module.TOKEN,
        RIFTWATCH_TELEGRAM_BASE_URL=f"http://127.0.0.1:{port}/bot",
        RIFTWATCH_TELEGRAM_BASE_FILE_URL=f"http://127.0.0.1:{port}/file/bot",
        RIFTWATCH_LOG_LEVEL="DEBUG", RIFTWATCH_SCHEDULE_FIRST_RUN_SECONDS="0",
        RIFTWATCH_CACHE_DIR=str(tmp_path / "cache"), RIFTWATCH_MODEL=str(tmp_path / "no-model"))
    child = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "riftwatch", "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    assert child.stderr is not None
    lines: list[str] = []
    reader = asyncio.create_task(_collect(child.stderr, lines))

    def log() -> str:
        return "".join(lines)

    standin = standin_module.BotApiStandIn()
    try:
        await _until(lambda: child.returncode is not None or (
            log().count(RETRY) >= 2 and _items(store) == 2), 60, "fetches and two bot retries")
        assert child.returncode is None, log()[-3000:]
        assert log().count(UNREACHABLE) == 1, log()[-3000:]
        assert BACK not in log()

        await standin.start(port)
        standin.push_text("/help")
        await standin.wait_for(lambda: bool(standin.sent()), timeout=60)
        assert "/summary" in standin.texts()[0]
        await _until(lambda: BACK in log(), 10, "the bot's return to be logged")
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(child.wait(), 60)
        await asyncio.wait_for(reader, 10)
        await standin.stop()
    assert code == 0, log()[-3000:]
    assert log().count(UNREACHABLE) == 1
    assert log().count(BACK) == 1
    assert "while polling" not in log()  # PTB's own traceback per failed poll stays quiet
