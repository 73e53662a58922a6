"""`riftwatch run`: the scheduler, scoring after each fetch, and the bot, in one process.

Wires monitors, classifiers, digest and bot together under the store's lock (one run per
store); holds no logic of its own beyond starting, signalling and stopping them.
"""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import nullcontext
from types import FrameType
from typing import TYPE_CHECKING

from apscheduler.triggers.interval import IntervalTrigger

from config import Settings
from config.settings import DIGEST_WINDOW, DIGEST_WINDOW_HOURS
from config.themes import Taxonomy
from digest.compose import compose_digest
from digest.render_text import render_text
from digest.sections import SectionLimits
from monitors.scheduler import FeedScheduler
from riftwatch.pipeline import prune_old_history, score_and_match
from store.db import open_db
from store.feeds import FetchOutcome
from store.lock import store_lock
from store.models import FeedState, utc_now

if TYPE_CHECKING:
    from bot.run import Backoff

log = logging.getLogger(__name__)

CONSOLE_DIGEST_JOB = "riftwatch:console-digest"
PRUNE_JOB = "riftwatch:prune-history"
PRUNE_HOURS = 6  # how often versions and view samples past retention are dropped


class ScoringWorker:
    """One thread that scores pending items whenever a fetch brings new ones, then runs the
    chats' watches over them.

    A request that arrives while a run is in progress triggers one more run, so items
    stored during scoring are never left behind; at start it scores whatever a crash left.
    """

    def __init__(self, settings: Settings, taxonomy: Taxonomy) -> None:
        self.settings = settings
        self.taxonomy = taxonomy
        self.scored_total = 0
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scoring", daemon=True)

    def start(self) -> None:
        self._wanted.set()
        self._thread.start()

    def request(self) -> None:
        self._wanted.set()

    def on_fetch(self, feed: FeedState, outcome: FetchOutcome) -> None:
        """The scheduler's after_fetch hook."""
        if outcome.items_new or outcome.items_edited:
            self.request()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self._wanted.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            self._wanted.wait()
            if self._stopping.is_set():
                return
            self._wanted.clear()
            try:
                scored, _ = score_and_match(self.settings.db_path, self.settings,
                                            self.taxonomy)
                self.scored_total += scored
            except Exception:  # log and keep serving; the items stay pending
                log.exception("scoring failed; will retry after the next fetch")


def log_console_digest(settings: Settings, taxonomy: Taxonomy) -> None:
    """Without a bot, the hourly digest goes to the log."""
    db = open_db(settings.db_path)
    try:
        until = utc_now()
        digest = compose_digest(db, settings, taxonomy, until - DIGEST_WINDOW, until)
        text = render_text(digest, SectionLimits.from_settings(settings))
        log.info("digest for the last %d h:\n%s", DIGEST_WINDOW_HOURS, text)
    finally:
        db.conn.close()


def _stop_on_signals(stop: threading.Event) -> None:
    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handle)


def run_service(
    settings: Settings, taxonomy: Taxonomy, stop: threading.Event | None = None,
    console_digest_minutes: int = 60, lock: bool = True, bot_backoff: Backoff | None = None,
) -> None:
    """Run until SIGINT/SIGTERM (or ``stop`` is set): fetching, scoring, and the bot when a
    token is set. Raises StoreInUse when another run holds the store's lock (``lock=False``
    runs without it); a Bot API that cannot be reached is retried, never fatal."""
    with store_lock(settings.db_path) if lock else nullcontext():
        if stop is None:
            stop = threading.Event()
            _stop_on_signals(stop)
        _run_until(settings, taxonomy, stop, console_digest_minutes, bot_backoff)


def _run_until(
    settings: Settings, taxonomy: Taxonomy, stop: threading.Event, console_digest_minutes: int,
    bot_backoff: Backoff | None,
) -> None:
    worker = ScoringWorker(settings, taxonomy)
    scheduler = FeedScheduler(settings, after_fetch=worker.on_fetch)
    worker.start()
    scheduler.start()
    scheduler.scheduler.add_job(
        prune_old_history, IntervalTrigger(hours=PRUNE_HOURS), args=[settings.db_path, settings],
        id=PRUNE_JOB, name="prune post history")
    try:
        if settings.telegram_token is not None:
            from bot.run import Backoff, run_bot

            run_bot(settings, taxonomy, stop, bot_backoff or Backoff())
            return
        log.warning("RIFTWATCH_TELEGRAM_TOKEN is not set: running without the bot; "
                    "the 24 h digest goes to the log every %d minutes", console_digest_minutes)
        scheduler.scheduler.add_job(
            log_console_digest, IntervalTrigger(minutes=console_digest_minutes),
            args=[settings, taxonomy], id=CONSOLE_DIGEST_JOB, name="console digest")
        stop.wait()
    finally:
        scheduler.shutdown()
        worker.stop()
