"""APScheduler jobs that fetch each enabled feed on its interval, in step with the feeds table.

Runs ``fetch_feed`` and an optional ``after_fetch`` hook; never classifies or sends anything.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from config.settings import Settings
from monitors.fetch import fetch_feed, is_due
from store.db import open_db
from store.feeds import FeedNotFound, FetchOutcome, get_feed, list_feeds
from store.models import FeedState

log = logging.getLogger(__name__)

AfterFetch = Callable[[FeedState, FetchOutcome], None]
JOB_PREFIX = "feed:"
REFRESH_JOB_ID = "riftwatch:refresh-feeds"


@dataclass(frozen=True)
class JobSummary:
    """One feed's job, as a /status command shows it."""

    feed_name: str
    interval_minutes: int
    next_run_at: datetime | None


def _job_id(feed_name: str) -> str:
    return f"{JOB_PREFIX}{feed_name}"


class FeedScheduler:
    """A background scheduler with one fetch job per enabled feed and a job that re-syncs them."""

    def __init__(self, settings: Settings, after_fetch: AfterFetch | None = None) -> None:
        self.settings = settings
        self.after_fetch = after_fetch
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(settings.fetch_workers)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": settings.schedule_misfire_grace_seconds},
        )

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Sync jobs with the feeds table, then start running them in background threads."""
        self.refresh_jobs()
        self.scheduler.add_job(self.refresh_jobs, IntervalTrigger(
            seconds=self.settings.schedule_refresh_seconds, timezone=UTC), id=REFRESH_JOB_ID,
            name="re-sync feed jobs", replace_existing=True)
        self.scheduler.start()
        log.info("scheduler started with %d feed jobs", len(self._feed_jobs()))

    def shutdown(self, wait: bool = True) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)

    # --- jobs ----------------------------------------------------------------------------

    def _feed_jobs(self) -> dict[str, Job]:
        return {job.id: job for job in self.scheduler.get_jobs()
                if job.id.startswith(JOB_PREFIX)}

    def _first_run(self) -> datetime:
        delay = random.uniform(0.0, self.settings.schedule_first_run_seconds)
        return datetime.now(UTC) + timedelta(seconds=delay)

    def _trigger(self, interval_minutes: int) -> IntervalTrigger:
        """Every ``interval_minutes``, each run delayed at random (feeds do not fetch in step)."""
        jitter = min(self.settings.schedule_jitter_seconds,
                     interval_minutes * 60 * self.settings.schedule_jitter_share)
        return IntervalTrigger(minutes=interval_minutes, jitter=int(jitter) or None, timezone=UTC)

    def refresh_jobs(self) -> None:
        """Add jobs for new enabled feeds, drop paused/removed ones, follow interval changes."""
        db = open_db(self.settings.db_path)
        try:
            feeds = {_job_id(feed.name): feed for feed in list_feeds(db, include_disabled=False)}
        finally:
            db.conn.close()
        jobs = self._feed_jobs()
        for job_id in jobs.keys() - feeds.keys():
            self.scheduler.remove_job(job_id)
            log.info("stopped watching %s", job_id.removeprefix(JOB_PREFIX))
        for job_id, feed in feeds.items():
            job = jobs.get(job_id)
            if job is None:
                self.scheduler.add_job(
                    self.run_feed, self._trigger(feed.interval_minutes), args=[feed.name],
                    id=job_id, name=f"fetch {feed.name}", next_run_time=self._first_run())
                log.info("watching %s every %d min", feed.name, feed.interval_minutes)
            elif job.trigger.interval != timedelta(minutes=feed.interval_minutes):
                self.scheduler.reschedule_job(job_id, trigger=self._trigger(feed.interval_minutes))

    def job_summaries(self) -> list[JobSummary]:
        """Every feed job with its interval and next run, by feed name."""
        summaries = []
        for job_id, job in sorted(self._feed_jobs().items()):
            minutes = int(job.trigger.interval.total_seconds() // 60)
            summaries.append(JobSummary(job_id.removeprefix(JOB_PREFIX), minutes,
                                        getattr(job, "next_run_time", None)))
        return summaries

    # --- the job body --------------------------------------------------------------------

    def run_feed(self, feed_name: str) -> FetchOutcome | None:
        """Fetch one feed now on its own connection; None if it is gone, paused or backing off."""
        db = open_db(self.settings.db_path)
        try:
            try:
                feed = get_feed(db, feed_name)
            except FeedNotFound:
                return None
            if not feed.enabled or not is_due(feed):
                log.debug("skip %s (paused or backing off until %s)", feed_name,
                          feed.next_retry_at)
                return None
            outcome = fetch_feed(db, feed, self.settings,
                                 backfill_pages=self.settings.backfill_pages if
                                 feed.last_success_at is None else 0)
        finally:
            db.conn.close()
        self._notify(feed, outcome)
        return outcome

    def _notify(self, feed: FeedState, outcome: FetchOutcome) -> None:
        if self.after_fetch is None:
            return
        try:
            self.after_fetch(feed, outcome)
        except Exception:  # a failing hook must not stop the feed's schedule
            log.exception("after_fetch hook failed for feed %s", feed.name)
