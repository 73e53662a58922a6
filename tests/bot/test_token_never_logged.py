"""The bot token never appears in a log, at any level, from any logger (issue 13.2).

Every record is captured at DEBUG while the real Application is built and run against the
loopback Bot API stand-in: in this process through ``bot.run.serve_bot``, and as a real
``riftwatch run`` child process with RIFTWATCH_LOG_LEVEL=DEBUG.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.run import serve_bot
from config import Settings
from config.themes import Taxonomy

from .conftest import BotApiStandIn

REPO = Path(__file__).resolve().parent.parent.parent


def _fresh_token() -> str:
    """A token no earlier test has registered for redaction, so only this run's order counts."""
    return f"{secrets.randbelow(10**9)}:{secrets.token_urlsafe(24)}"


@pytest.fixture
async def fresh_standin() -> AsyncIterator[BotApiStandIn]:
    server = BotApiStandIn(token=_fresh_token())
    await server.start()
    yield server
    await server.stop()


class _EveryRecord(logging.Handler):
    """Keeps each record as a handler would write it: message, exception and stack."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def every_record() -> Iterator[_EveryRecord]:
    root = logging.getLogger()
    handler, level = _EveryRecord(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


async def test_serving_the_bot_logs_no_token_at_debug(
    settings: Settings, db_path: Path, taxonomy: Taxonomy, fresh_standin: BotApiStandIn,
    every_record: _EveryRecord,
) -> None:
    standin = fresh_standin
    bot_settings = settings.model_copy(update={
        "telegram_token": SecretStr(standin.token), "telegram_base_url": standin.base_url,
        "telegram_base_file_url": standin.base_file_url})
    stop = asyncio.Event()
    serving = asyncio.create_task(serve_bot(bot_settings, taxonomy, db_path, stop))
    try:
        await standin.reply_to("/help")
    finally:
        stop.set()
        await asyncio.wait_for(serving, 30)
    assert any("Set Bot API URL" in line for line in every_record.lines)  # DEBUG was captured
    leaks = [line for line in every_record.lines if standin.token in line]
    assert not leaks, leaks[:3]


async def test_riftwatch_run_at_debug_logs_no_token(
    tmp_path: Path, fresh_standin: BotApiStandIn
) -> None:
    standin = fresh_standin
    (tmp_path / "feeds.toml").write_text("", encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("RIFTWATCH_")}
    env.update({
        "PYTHONPATH": str(REPO), "RIFTWATCH_TELEGRAM_TOKEN": standin.token,
        "RIFTWATCH_TELEGRAM_BASE_URL": standin.base_url,
        "RIFTWATCH_TELEGRAM_BASE_FILE_URL": standin.base_file_url,
        "RIFTWATCH_LOG_LEVEL": "DEBUG", "RIFTWATCH_DB_PATH": str(tmp_path / "riftwatch.db"),
        "RIFTWATCH_FEEDS_FILE": str(tmp_path / "feeds.toml"),
        "RIFTWATCH_CACHE_DIR": str(tmp_path / "cache"),
        # no model to load: the scoring thread fails at once and the bot runs on
        "RIFTWATCH_MODEL": str(tmp_path / "no-model"),
    })
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "riftwatch", "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        standin.push_text("/help")
        await standin.wait_for(lambda: bool(standin.sent()), timeout=60)
    finally:
        child.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(child.communicate(), 60)
    log = (out + err).decode("utf-8", "replace")
    assert "Set Bot API URL" in log, log[-2000:]
    assert "[REDACTED]" in log, log[-2000:]
    assert standin.token not in log
