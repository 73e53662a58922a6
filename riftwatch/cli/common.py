"""What every `riftwatch` command module shares: its error, the --db option, settings and logging.

Imported by ``riftwatch.cli.main`` and by each command module (``data`` …); imports none of them.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import sqlite_utils

from bot.redact import install_settings_redaction
from config import RiftwatchError, Settings, load_feeds, load_settings, load_themes
from config.feeds import FEED_ROLES
from config.themes import Taxonomy

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler.executors.default")


class CommandError(RiftwatchError):
    """A user-facing failure: printed as one line, exit status 1."""


def one_line(exc: BaseException) -> str:
    """The exception's message on one line, however many its text had."""
    return " ".join(str(exc).split()) or type(exc).__name__


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, help="SQLite store (default: RIFTWATCH_DB_PATH)")


def add_role_option(parser: argparse.ArgumentParser, default: str | None = None,
                    help_text: str | None = None) -> None:
    parser.add_argument("--role", choices=FEED_ROLES, default=default, help=help_text)


def load_command_settings(args: argparse.Namespace) -> tuple[Settings, Taxonomy]:
    """Settings (``--db`` over RIFTWATCH_DB_PATH) and the theme taxonomy; configures nothing."""
    overrides = {"db_path": args.db} if getattr(args, "db", None) else {}
    settings = load_settings(**overrides)
    return settings, load_themes(settings.themes_file)


def configure_logging(settings: Settings) -> None:
    """Log at ``settings.log_level``, tokens redacted, chatty libraries at WARNING."""
    logging.basicConfig(level=settings.log_level, format=LOG_FORMAT)
    install_settings_redaction(settings)  # before anything is built from the settings
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def start_command(args: argparse.Namespace) -> tuple[Settings, Taxonomy]:
    """A command's first step: load its settings and taxonomy, then configure logging."""
    settings, taxonomy = load_command_settings(args)
    configure_logging(settings)
    return settings, taxonomy


def open_synced_db(settings: Settings) -> sqlite_utils.Database:
    """The store, with the feeds file's feeds added or updated in it."""
    from store.db import open_db
    from store.feeds import sync_feeds

    db = open_db(settings.db_path)
    sync_feeds(db, load_feeds(settings.feeds_file))
    return db
