"""One pipeline cycle: fetch due feeds into the store, score what is new (or edited), run
the chats' watches over it, extract its edges, and prune post history past its retention.

Wires monitors and classifiers together (they never call each other); no rendering here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from config import Settings
from config.themes import Taxonomy
from monitors.fetch import Clock, fetch_all
from store.db import open_db
from store.feeds import FetchOutcome
from store.item_history import prune_history
from store.models import FeedState, utc_now

log = logging.getLogger(__name__)

Progress = Callable[[str, FetchOutcome], None]


@dataclass
class CycleReport:
    """What a cycle did, for the CLI and the logs."""

    outcomes: list[tuple[FeedState, FetchOutcome]] = field(default_factory=list)
    scored: int = 0
    watch_matches: int = 0
    new_edges: int = 0
    fetch_seconds: float = 0.0
    score_seconds: float = 0.0
    watch_seconds: float = 0.0
    pruned: tuple[int, int] = (0, 0)  # earlier versions, view samples past retention

    @property
    def new_items(self) -> int:
        return sum(outcome.items_new for _, outcome in self.outcomes)

    @property
    def failed(self) -> list[tuple[FeedState, FetchOutcome]]:
        return [(feed, outcome) for feed, outcome in self.outcomes if outcome.status == "error"]


def score_new_items(db_path: Path, settings: Settings, taxonomy: Taxonomy) -> int:
    """Score every stored item the current model has not scored yet; return how many."""
    from classifiers.scoring import load_post_scorer, score_pending

    classifier = load_post_scorer(settings, taxonomy)
    db = open_db(db_path)
    try:
        return score_pending(db, classifier, batch_size=settings.score_batch_posts)
    finally:
        db.conn.close()


def match_watches(db_path: Path, settings: Settings, taxonomy: Taxonomy) -> int:
    """Run every chat's watches over the posts scored since they last looked; record the
    matches for the bot to alert (``digest.watch_scan``). Returns how many were new."""
    from digest.watch_scan import scan_new_scores

    db = open_db(db_path)
    try:
        return scan_new_scores(db, settings, taxonomy)
    finally:
        db.conn.close()


def score_and_match(db_path: Path, settings: Settings, taxonomy: Taxonomy) -> tuple[int, int]:
    """Score what is new, then match the watches right away: (scored, new matches)."""
    scored = score_new_items(db_path, settings, taxonomy)
    return scored, match_watches(db_path, settings, taxonomy)


def extract_new_edges(db_path: Path, settings: Settings) -> int:
    """Extract amplification edges from items and scores stored since the last run."""
    from amplification.edge_extraction import extract_edges

    db = open_db(db_path)
    try:
        return extract_edges(db, settings).new
    finally:
        db.conn.close()


def prune_old_history(db_path: Path, settings: Settings, now: datetime | None = None
                      ) -> tuple[int, int]:
    """Drop versions and view samples older than ``settings.history_retention_days``."""
    db = open_db(db_path)
    try:
        return prune_history(db, (now or utc_now())
                             - timedelta(days=settings.history_retention_days))
    finally:
        db.conn.close()


def run_cycle(
    settings: Settings, taxonomy: Taxonomy, feed_names: list[str] | None = None,
    backfill_pages: int = 0, progress: Progress | None = None, score: bool = True,
    clock: Clock = utc_now,
) -> CycleReport:
    """Fetch (all due feeds, or the named ones), score new and edited items and match the
    watches against them, extract their edges, prune history past its retention."""
    report = CycleReport()
    started = time.perf_counter()
    report.outcomes = fetch_all(settings.db_path, settings, feed_names=feed_names,
                                backfill_pages=backfill_pages, progress=progress, clock=clock)
    report.fetch_seconds = time.perf_counter() - started
    if score:
        started = time.perf_counter()
        report.scored = score_new_items(settings.db_path, settings, taxonomy)
        report.score_seconds = time.perf_counter() - started
        started = time.perf_counter()
        report.watch_matches = match_watches(settings.db_path, settings, taxonomy)
        report.watch_seconds = time.perf_counter() - started
    report.new_edges = extract_new_edges(settings.db_path, settings)
    report.pruned = prune_old_history(settings.db_path, settings, clock())
    log.info("cycle: %d feeds, %d new items, %d scored, %d watch matches, %d failed",
             len(report.outcomes), report.new_items, report.scored, report.watch_matches,
             len(report.failed))
    return report
