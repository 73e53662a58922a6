"""Keep secrets out of logs: every log record has the bot token (and webhook secret) masked.

Works on records, whichever logger or handler they go to; never configures handlers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

MASK = "[REDACTED]"
NOISY_LOGGERS = ("httpx", "httpcore")  # log request URLs, which contain the bot token

_secrets: set[str] = set()
_installed: Callable[..., logging.LogRecord] | None = None


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, MASK)
    return text


def _redacted_record(*args: object, **kwargs: object) -> logging.LogRecord:
    assert _installed is not None
    record = _installed(*args, **kwargs)
    if not _secrets:
        return record
    message = record.getMessage()
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install_token_redaction(*secrets: str | None) -> None:
    """Mask these strings in every log record from now on, and quieten httpx's URL logging."""
    global _installed
    _secrets.update(secret for secret in secrets if secret)
    if _installed is None:
        _installed = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_redacted_record)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
