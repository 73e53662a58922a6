"""The feed scheduler: real APScheduler threads, real HTTP on 127.0.0.1, real SQLite."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from config import FeedConfig, Settings
from monitors.scheduler import FeedScheduler
from store.db import open_db
from store.feeds import FetchOutcome, add_feed, get_feed, remove_feed, set_feed_enabled
from store.models import FeedState

RSS = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>s</title>'
       b"<item><title>Sample</title><guid>sample-1</guid><link>https://news.example/1</link>"
       b"</item></channel></rss>")


class Recorder:
    """An after_fetch hook that lets a test wait until given feeds have been fetched."""

    def __init__(self) -> None:
        self.outcomes: dict[str, FetchOutcome] = {}
        self._changed = threading.Condition()

    def __call__(self, feed: FeedState, outcome: FetchOutcome) -> None:
        with self._changed:
            self.outcomes[feed.name] = outcome
            self._changed.notify_all()

    def wait_for(self, *names: str, timeout: float = 10.0) -> None:
        with self._changed:
            done = self._changed.wait_for(lambda: set(names) <= set(self.outcomes), timeout)
        assert done, f"not fetched in time: {set(names) - set(self.outcomes)}"


def add(settings: Settings, name: str, url: str, interval: int = 30) -> None:
    db = open_db(settings.db_path)
    add_feed(db, FeedConfig(name=name, kind="rss", role="news", url=url,
                            interval_minutes=interval))
    db.conn.close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def scheduler(settings: Settings, recorder: Recorder) -> Iterator[FeedScheduler]:
    # First runs immediately (no start-up stagger); the periodic re-sync is left to the test.
    settings = settings.model_copy(update={"schedule_refresh_seconds": 3600,
                                           "schedule_first_run_seconds": 0})
    feed_scheduler = FeedScheduler(settings, after_fetch=recorder)
    yield feed_scheduler
    feed_scheduler.shutdown(wait=True)


def test_jobs_fetch_every_feed_and_a_failing_one_stops_nothing(
        feed_server, settings, scheduler, recorder) -> None:
    add(settings, "good", feed_server.add("/good.xml", RSS))
    add(settings, "broken", feed_server.add("/broken.xml", b"down", status=500))
    add(settings, "also_good", feed_server.add("/also.xml", RSS.replace(b"sample-1", b"s-2")))
    scheduler.start()
    recorder.wait_for("good", "broken", "also_good")
    assert recorder.outcomes["good"].items_new == 1
    assert recorder.outcomes["also_good"].items_new == 1
    assert recorder.outcomes["broken"].status == "error"
    assert scheduler.scheduler.running
    assert [job.feed_name for job in scheduler.job_summaries()] == ["also_good", "broken", "good"]
    db = open_db(settings.db_path)
    assert get_feed(db, "broken").last_error.startswith("HTTP 500")
    assert db["items"].count == 2


def test_refresh_jobs_follows_the_feeds_table(feed_server, settings, scheduler, recorder) -> None:
    add(settings, "first", feed_server.add("/first.xml", RSS))
    scheduler.start()
    recorder.wait_for("first")
    add(settings, "added_later", feed_server.add("/later.xml", RSS.replace(b"sample-1", b"s-9")),
        interval=15)
    scheduler.refresh_jobs()
    recorder.wait_for("added_later")
    summaries = {job.feed_name: job for job in scheduler.job_summaries()}
    assert summaries["added_later"].interval_minutes == 15
    assert summaries["added_later"].next_run_at is not None

    db = open_db(settings.db_path)
    set_feed_enabled(db, "first", False)
    remove_feed(db, "added_later")  # a watched feed is never overwritten: remove, add again
    add(settings, "added_later", feed_server.url("/later.xml"), interval=90)
    scheduler.refresh_jobs()
    summaries = {job.feed_name: job for job in scheduler.job_summaries()}
    assert list(summaries) == ["added_later"]
    assert summaries["added_later"].interval_minutes == 90


def test_run_feed_skips_a_feed_backing_off(feed_server, settings, recorder) -> None:
    add(settings, "flaky", feed_server.add("/flaky.xml", b"", status=503,
                                           headers={"Retry-After": "600"}))
    feeds = FeedScheduler(settings, after_fetch=recorder)
    first = feeds.run_feed("flaky")
    assert first is not None
    assert first.retry_after_seconds == 600
    assert feeds.run_feed("flaky") is None
    assert len(feed_server.requests) == 1
    assert feeds.run_feed("no_such_feed") is None


def test_a_failing_hook_does_not_lose_the_fetch(feed_server, settings) -> None:
    def broken_hook(feed: FeedState, outcome: FetchOutcome) -> None:
        raise RuntimeError("scoring exploded")

    add(settings, "good", feed_server.add("/good.xml", RSS))
    outcome = FeedScheduler(settings, after_fetch=broken_hook).run_feed("good")
    assert outcome is not None
    assert outcome.items_new == 1
    assert open_db(settings.db_path)["items"].count == 1
