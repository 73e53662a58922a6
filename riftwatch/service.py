"""`riftwatch run`: the scheduler, scoring after each fetch, and the bot, in one process.

Wires monitors, classifiers, digest and bot together; holds no logic of its own beyond
starting, signalling and stopping them.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta
from types import FrameType

from apscheduler.triggers.interval import IntervalTrigger

from config import Settings
from config.themes import Taxonomy
from digest.compose import compose_digest
from digest.render_text import render_text
from digest.sections import SectionLimits
from monitors.scheduler import FeedScheduler
from riftwatch.pipeline import score_new_items
from store.db import open_db
from store.feeds import FetchOutcome
from store.models import FeedState, utc_now

log = logging.getLogger(__name__)

CONSOLE_DIGEST_JOB = "riftwatch:console-digest"


class ScoringWorker:
    """One thread that scores pending items whenever a fetch brings new ones.

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
        if outcome.items_new:
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
                self.scored_total += score_new_items(self.settings.db_path, self.settings,
                                                     self.taxonomy)
            except Exception:  # noqa: BLE001 - log and keep serving; the items stay pending
                log.exception("scoring failed; will retry after the next fetch")


def log_console_digest(settings: Settings, taxonomy: Taxonomy) -> None:
    """Without a bot, the hourly digest goes to the log."""
    db = open_db(settings.db_path)
    try:
        until = utc_now()
        digest = compose_digest(db, settings, taxonomy, until - timedelta(hours=24), until)
        text = render_text(digest, SectionLimits.from_settings(settings))
        log.info("digest for the last 24 h:\n%s", text)
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
    console_digest_minutes: int = 60,
) -> None:
    """Run until SIGINT/SIGTERM (or ``stop`` is set): the bot when a token is set."""
    worker = ScoringWorker(settings, taxonomy)
    scheduler = FeedScheduler(settings, after_fetch=worker.on_fetch)
    worker.start()
    scheduler.start()
    try:
        if settings.telegram_token is not None:
            from bot.run import run_bot

            run_bot(settings, taxonomy)
            return
        log.warning("RIFTWATCH_TELEGRAM_TOKEN is not set: running without the bot; "
                    "the 24 h digest goes to the log every %d minutes", console_digest_minutes)
        scheduler.scheduler.add_job(
            log_console_digest, IntervalTrigger(minutes=console_digest_minutes),
            args=[settings, taxonomy], id=CONSOLE_DIGEST_JOB, name="console digest")
        if stop is None:
            stop = threading.Event()
            _stop_on_signals(stop)
        stop.wait()
    finally:
        scheduler.shutdown()
        worker.stop()
