"""The real PTB bot survives the Bot API going away and coming back, logging each change once.

``bot.run.supervise_bot`` runs the bot against the loopback stand-in; the stand-in stops
(connections refused while PTB polls) and starts again on the same port, its update ids
going on where they were, as Telegram's do (issue 22.9).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.run import Backoff, supervise_bot
from config import ConfigError, Settings
from config.themes import Taxonomy

from .conftest import BotApiStandIn

FAST = Backoff(first_seconds=0.2, most_seconds=1.0)


def _messages(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [record.getMessage() for record in caplog.records if text in record.getMessage()]


async def test_the_bot_comes_back_after_a_bot_api_outage(
    standin: BotApiStandIn, bot_settings: Settings, taxonomy: Taxonomy, db_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    stop = asyncio.Event()
    bot = asyncio.create_task(supervise_bot(bot_settings, taxonomy, stop.is_set, FAST, db_path))
    try:
        await standin.reply_to("/help")
        await standin.stop()
        await asyncio.sleep(4)  # PTB's polling and the getMe probe fail several times
        assert len(_messages(caplog, "Bot API unreachable")) == 1
        assert not bot.done()

        await standin.start(standin.port)
        (answer,) = await standin.reply_to("/help")
        assert "/summary" in answer.params["text"]
        for _ in range(50):
            if _messages(caplog, "reachable again"):
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.wait_for(bot, 30)
    _assert_logged_once_each_way(caplog)
    loud = [record.getMessage() for record in caplog.records
            if record.levelno >= logging.WARNING and "Bot API unreachable" not in
            record.getMessage()]
    assert not loud, loud


def _assert_logged_once_each_way(caplog: pytest.LogCaptureFixture) -> None:
    """One line when the Bot API went away and one when it came back, however many tries."""
    assert len(_messages(caplog, "Bot API unreachable")) == 1
    assert len(_messages(caplog, "Bot API reachable again")) == 1


async def test_an_unreachable_bot_api_at_start_is_retried(
    standin: BotApiStandIn, bot_settings: Settings, taxonomy: Taxonomy, db_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    await standin.stop()
    stop = asyncio.Event()
    bot = asyncio.create_task(supervise_bot(bot_settings, taxonomy, stop.is_set, FAST, db_path))
    try:
        await asyncio.sleep(2)
        assert not bot.done()
        await standin.start(standin.port)
        (answer,) = await standin.reply_to("/help")
        assert "/summary" in answer.params["text"]
    finally:
        stop.set()
        await asyncio.wait_for(bot, 30)
    _assert_logged_once_each_way(caplog)


async def test_a_refused_token_is_a_config_error(
    standin: BotApiStandIn, bot_settings: Settings, taxonomy: Taxonomy, db_path: Path,
) -> None:
    refusing = BotApiStandIn(token="1:another-token")
    await refusing.start()
    try:
        settings = bot_settings.model_copy(update={"telegram_base_url": refusing.base_url})
        with pytest.raises(ConfigError, match="RIFTWATCH_TELEGRAM_TOKEN: the Bot API refused"):
            await asyncio.wait_for(supervise_bot(settings, taxonomy, lambda: False, FAST,
                                                 db_path), 30)
    finally:
        await refusing.stop()
