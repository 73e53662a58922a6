"""Run the bot: polling by default, a webhook with a secret token when one is configured.

Starts and stops the Application; never builds replies or schedules monitors.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import Application

from bot.app import build_application
from bot.redact import install_settings_redaction, install_token_redaction
from config import Settings
from config.themes import Taxonomy
from store.models import utc_now

log = logging.getLogger(__name__)


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


@asynccontextmanager
async def running_bot(
    application: Application, settings: Settings, poll_timeout: float = 10.0
) -> AsyncIterator[Application]:
    """Run the Application inside an existing event loop (alongside other asyncio work)."""
    secret = _redact_settings(settings)
    async with application:
        await application.post_init(application)  # type: ignore[misc]
        assert application.updater is not None
        if settings.webhook_url:
            await application.updater.start_webhook(**_webhook_args(settings, secret))
        else:
            await application.updater.start_polling(timeout=timedelta(seconds=poll_timeout),
                                                    allowed_updates=Update.ALL_TYPES)
        await application.start()
        log.info("bot running (%s)", "webhook" if settings.webhook_url else "polling")
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
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


def run_bot(
    settings: Settings, taxonomy: Taxonomy, db_path: Path | None = None,
    clock: Callable[[], datetime] = utc_now, stop_signals: bool = True,
) -> None:
    """Run the bot in the calling thread until SIGINT/SIGTERM: polling, or a webhook if configured.

    Blocking; call it from the main thread (it installs signal handlers) or pass
    ``stop_signals=False`` from another thread. Raises ConfigError without a token.
    """
    secret = _redact_settings(settings)  # before building: the builder logs the token URL
    application = build_application(settings, db_path or settings.db_path, taxonomy, clock=clock)
    signals: dict[str, Any] = {} if stop_signals else {"stop_signals": None}
    if settings.webhook_url:
        log.info("bot starting: webhook on %s:%s", settings.webhook_listen, settings.webhook_port)
        application.run_webhook(**_webhook_args(settings, secret), **signals)
    else:
        log.info("bot starting: polling")
        application.run_polling(allowed_updates=Update.ALL_TYPES, **signals)
