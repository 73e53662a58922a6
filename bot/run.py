"""Run the bot: polling by default, a webhook with a secret token when one is configured.

Starts and stops the Application, and starts it again while the Bot API cannot be reached
(backing off, logging once per change); never builds replies or schedules monitors.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from bot.app import build_application
from bot.redact import install_settings_redaction, install_token_redaction
from config import ConfigError, Settings
from config.themes import Taxonomy
from store.models import utc_now

log = logging.getLogger(__name__)

STOP_CHECK_SECONDS = 0.25  # how soon the bot notices that the service is stopping


def _webhook_secret(settings: Settings) -> str:
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    return secrets.token_urlsafe(32)


def _redact_settings(settings: Settings) -> str:
    """Install redaction for this run's secrets; return the webhook secret (when webhooks)."""
    install_settings_redaction(settings)
    secret = _webhook_secret(settings) if settings.webhook_url else None
    install_token_redaction(secret)
    return secret or ""


def _webhook_args(settings: Settings, secret: str) -> dict[str, Any]:
    """Arguments shared by ``run_webhook`` and ``Updater.start_webhook``."""
    assert settings.webhook_url is not None
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": urlsplit(settings.webhook_url).path.lstrip("/"),
        "webhook_url": settings.webhook_url,
        "secret_token": secret,
        "allowed_updates": Update.ALL_TYPES,
    }


@dataclass(frozen=True)
class Backoff:
    """The waits between tries to reach the Bot API: ``first_seconds``, doubling to ``most``."""

    first_seconds: float = 2.0
    most_seconds: float = 60.0

    def after(self, delay: float | None) -> float:
        """The wait after one of ``delay`` seconds (None: the first wait)."""
        return self.first_seconds if delay is None else min(delay * 2, self.most_seconds)


def unreachable(error: BaseException) -> bool:
    """A failure to reach the Bot API (connection, timeout, 5xx), not a refusal of a request."""
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


class BotApiLink:
    """Whether the Bot API answers, logged once per change, never once per try."""

    def __init__(self) -> None:
        self.reachable: bool | None = None  # None: not tried yet

    def failed(self, error: TelegramError) -> None:
        if self.reachable is not False:
            log.warning("Bot API unreachable (%s: %s): fetching and scoring go on; the bot "
                        "retries with backoff", type(error).__name__, error)
        self.reachable = False

    def answered(self) -> None:
        if self.reachable is False:
            log.info("Bot API reachable again: the bot is back")
        self.reachable = True

    def polling_failed(self, error: TelegramError) -> None:
        """PTB's polling error callback (PTB itself retries getUpdates)."""
        if unreachable(error):
            self.failed(error)
        else:
            log.warning("polling for updates failed: %s: %s", type(error).__name__, error)


async def _sleep_unless(stopped: Callable[[], bool], seconds: float) -> None:
    """Sleep ``seconds``, or less if ``stopped()`` turns true meanwhile."""
    deadline = time.monotonic() + seconds
    while not stopped() and (left := deadline - time.monotonic()) > 0:
        await asyncio.sleep(min(left, STOP_CHECK_SECONDS))


@asynccontextmanager
async def running_bot(
    application: Application, settings: Settings, poll_timeout: float = 10.0,
    on_poll_error: Callable[[TelegramError], None] | None = None,
) -> AsyncIterator[Application]:
    """Run the Application inside an existing event loop (alongside other asyncio work).

    ``on_poll_error`` gets the errors of PTB's getUpdates loop (default: PTB logs them).
    """
    secret = _redact_settings(settings)
    try:
        async with application:
            await application.post_init(application)  # type: ignore[misc]
            assert application.updater is not None
            if settings.webhook_url:
                await application.updater.start_webhook(**_webhook_args(settings, secret))
            else:
                await application.updater.start_polling(
                    timeout=timedelta(seconds=poll_timeout), allowed_updates=Update.ALL_TYPES,
                    error_callback=on_poll_error)
            await application.start()
            log.info("bot running (%s)", "webhook" if settings.webhook_url else "polling")
            try:
                yield application
            finally:
                await application.updater.stop()
                await application.stop()
    finally:  # also after a failed start, so each try's resources are released
        if application.post_shutdown:
            await application.post_shutdown(application)


async def serve_bot(
    settings: Settings, taxonomy: Taxonomy, db_path: Path | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the bot in the current event loop until ``stop`` is set (forever if None)."""
    install_settings_redaction(settings)  # before building: the builder logs the token URL
    application = build_application(settings, db_path or settings.db_path, taxonomy)
    async with running_bot(application, settings):
        await (stop or asyncio.Event()).wait()


async def _watch_link(application: Application, link: BotApiLink, stopped: Callable[[], bool],
                      backoff: Backoff) -> None:
    """While the bot runs: after polling lost the Bot API, ask getMe (backing off) until it
    answers, so that its return is logged once."""
    delay: float | None = None
    while not stopped():
        if link.reachable is not False:
            delay = None
            await _sleep_unless(stopped, STOP_CHECK_SECONDS)
            continue
        delay = backoff.after(delay)
        await _sleep_unless(stopped, delay)
        try:
            await application.bot.get_me()
        except TelegramError as error:
            log.debug("Bot API still unreachable (%s); next try in %.0f s", error, delay)
        else:
            link.answered()


async def supervise_bot(
    settings: Settings, taxonomy: Taxonomy, stopped: Callable[[], bool],
    backoff: Backoff = Backoff(), db_path: Path | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Run the bot until ``stopped()``; while the Bot API cannot be reached, try again with
    backoff instead of failing. Raises ConfigError when the Bot API refuses the token."""
    install_settings_redaction(settings)  # before building: the builder logs the token URL
    application = build_application(settings, db_path or settings.db_path, taxonomy, clock=clock)
    link = BotApiLink()
    delay: float | None = None
    while not stopped():  # a failed start shuts the Application down; it can start again
        try:
            async with running_bot(application, settings, on_poll_error=link.polling_failed):
                link.answered()
                await _watch_link(application, link, stopped, backoff)
            return
        except InvalidToken as error:
            raise ConfigError("environment", "RIFTWATCH_TELEGRAM_TOKEN",
                              f"the Bot API refused the token ({error})",
                              "set it to the token @BotFather gave you") from None
        except NetworkError as error:
            if not unreachable(error):
                raise
            link.failed(error)
        delay = backoff.after(delay)
        log.debug("Bot API unreachable; next try in %.0f s", delay)
        await _sleep_unless(stopped, delay)


def run_bot(
    settings: Settings, taxonomy: Taxonomy, stop: threading.Event,
    backoff: Backoff = Backoff(), db_path: Path | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Run the bot in the calling thread until ``stop`` is set: polling, or a webhook if
    configured; an unreachable Bot API is retried, never fatal. Raises ConfigError without
    a token or when the token is refused."""
    asyncio.run(supervise_bot(settings, taxonomy, stop.is_set, backoff, db_path, clock))
