"""Keep secrets out of logs: every log record has the bot token (and webhook secret) masked.

Masks records as they are made (whichever logger, whatever level) and again at the root
handlers (records rebuilt elsewhere, e.g. by ``logging.makeLogRecord``); never adds handlers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from config import Settings

MASK = "[REDACTED]"
NOISY_LOGGERS = ("httpx", "httpcore")  # log request URLs, which contain the bot token

_secrets: set[str] = set()
_installed: Callable[..., logging.LogRecord] | None = None


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, MASK)
    return text


def _scrub(record: logging.LogRecord) -> None:
    """Replace the record's message, exception and stack text with their redacted forms."""
    if not _secrets:
        return
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what it held, masked
        message = f"{record.msg} {record.args}"
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _redacted_record(*args: object, **kwargs: object) -> logging.LogRecord:
    assert _installed is not None
    record = _installed(*args, **kwargs)
    _scrub(record)
    return record


class RedactionFilter(logging.Filter):
    """Masks the secrets in every record a handler is given; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub(record)
        return True


_FILTER = RedactionFilter()


def install_token_redaction(*secrets: str | None) -> None:
    """Mask these strings in every log record from now on, and quieten httpx's URL logging."""
    global _installed
    _secrets.update(secret for secret in secrets if secret)
    if _installed is None:
        _installed = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_redacted_record)
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def install_settings_redaction(settings: Settings) -> None:
    """Mask the secrets these settings hold (bot token, webhook secret): call it before
    anything is built from them, since building the bot logs its URL with the token."""
    install_token_redaction(*(secret.get_secret_value()
                              for secret in (settings.telegram_token, settings.webhook_secret)
                              if secret is not None))
