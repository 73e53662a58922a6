"""Run one fetch cycle for a feed (or all due feeds): fetch, parse, store, record the outcome.

Every failure of one feed is recorded on that feed and never stops the others; never classifies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import sqlite_utils

from config.settings import Settings
from monitors.errors import MonitorError
from monitors.http import FetchedPage, fetch_url, new_client
from monitors.rss import parse_feed
from monitors.telegram import ChannelPage, ensure_complete_page, parse_channel_page
from store.db import open_db
from store.feeds import FetchOutcome, get_feed, list_feeds, record_fetch
from store.item_history import record_coverage
from store.items import save_items
from store.models import FeedState, Item, from_iso, utc_now
from store.pool import ConnectionPool

log = logging.getLogger(__name__)

Progress = Callable[[str, FetchOutcome], None]
Clock = Callable[[], datetime]  # when a fetch stores what it saw (the demo lays out its own)


@dataclass
class _Tally:
    seen: int = 0
    new: int = 0
    edited: int = 0


def _with_fetch_time(items: list[Item], fetched_at: datetime) -> list[Item]:
    """Items without a published time get the time they were fetched (so windows include them)."""
    for item in items:
        if item.published_at is None:
            item.published_at = fetched_at
    return items


def _parse(feed: FeedState, page: FetchedPage) -> tuple[list[Item], str | None]:
    """Items on the page, and for telegram the URL of the next older page."""
    if feed.kind == "telegram":
        ensure_complete_page(page.body, url=page.final_url)
        parsed: ChannelPage = parse_channel_page(page.body, url=page.final_url,
                                                 charset=page.charset)
        return parsed.items, parsed.before_url
    return parse_feed(page.body, content_type=page.content_type, url=page.final_url), None


def _store(db: sqlite_utils.Database, feed: FeedState, items: list[Item],
           fetched_at: datetime, tally: _Tally, head: bool = True) -> None:
    """Save a page's items; for a t.me page, also what it says of the posts it covers (a head
    page covers everything above its lowest post, an older page only its own id range)."""
    result = save_items(db, feed.id, _with_fetch_time(items, fetched_at), now=fetched_at)
    tally.seen += len(items)
    tally.new += result.new
    tally.edited += result.edited
    if feed.kind == "telegram":
        shown = [item.post_id for item in items if item.post_id is not None]
        record_coverage(db, feed.id, shown, None if head else max(shown, default=None),
                        fetched_at)


def _backfill(db: sqlite_utils.Database, feed: FeedState, before_url: str | None, pages: int,
              settings: Settings, client: httpx.Client, tally: _Tally,
              clock: Clock) -> str | None:
    """Follow ``?before=`` links up to ``pages`` older pages; return an error note, or None.

    Each page is stored as soon as it is parsed, so a failure keeps what came before it.
    """
    visited: set[str] = set()
    for number in range(1, pages + 1):
        if before_url is None or before_url in visited:  # no older page, or a paging loop
            return None
        visited.add(before_url)
        try:
            page = fetch_url(before_url, settings, client=client)
            items, before_url = _parse(feed, page)
        except MonitorError as exc:
            log.warning("feed %s: backfill page %d failed: %s", feed.name, number, exc)
            return f"backfill page {number}: {exc}"
        if not items:
            return None
        _store(db, feed, items, clock(), tally, head=False)
    return None


def _fetch_and_store(db: sqlite_utils.Database, feed: FeedState, settings: Settings,
                     backfill_pages: int, client: httpx.Client,
                     started: datetime, clock: Clock) -> FetchOutcome:
    page = fetch_url(feed.url, settings, etag=feed.etag, last_modified=feed.last_modified,
                     client=client)
    if page.not_modified:
        return FetchOutcome(started_at=started, finished_at=utc_now(), status="not_modified",
                            http_status=304)
    items, before_url = _parse(feed, page)
    tally = _Tally()
    _store(db, feed, items, started, tally)
    note = None
    if feed.kind == "telegram" and backfill_pages > 0:
        note = _backfill(db, feed, before_url, backfill_pages, settings, client, tally, clock)
    return FetchOutcome(started_at=started, finished_at=utc_now(), status="ok",
                        http_status=page.status, items_seen=tally.seen, items_new=tally.new,
                        items_edited=tally.edited,
                        error=note, etag=page.etag, last_modified=page.last_modified)


def _error_outcome(started: datetime, exc: BaseException) -> FetchOutcome:
    if isinstance(exc, MonitorError):
        return FetchOutcome(started_at=started, finished_at=utc_now(), status="error",
                            http_status=exc.http_status, error=str(exc),
                            retry_after_seconds=exc.retry_after)
    return FetchOutcome(started_at=started, finished_at=utc_now(), status="error",
                        error=f"internal error: {type(exc).__name__}: {exc}"[:500])


def fetch_feed(
    db: sqlite_utils.Database,
    feed: FeedState,
    settings: Settings,
    backfill_pages: int = 0,
    client: httpx.Client | None = None,
    clock: Clock = utc_now,
) -> FetchOutcome:
    """Fetch one feed, store its items, record the outcome on the feed row, and return it.
    What it saw is stored as seen at ``clock()`` (its items, edits, deletions, view counts).

    Fetch and parse failures (``MonitorError``) and unexpected parser bugs are recorded on the
    feed (status 'error', a readable message, backoff, Retry-After honoured) and never raised.
    Store errors (``sqlite3.Error``) are raised: a broken database is not one feed's problem.
    """
    started = clock()
    http = client or new_client(settings)
    try:
        outcome = _fetch_and_store(db, feed, settings, backfill_pages, http, started, clock)
    except MonitorError as exc:
        outcome = _error_outcome(started, exc)
        log.warning("feed %s: %s", feed.name, exc)
    except (ValueError, TypeError, AttributeError, LookupError, RecursionError) as exc:
        outcome = _error_outcome(started, exc)
        log.exception("feed %s: unexpected error while parsing", feed.name)
    finally:
        if client is None:
            http.close()
    record_fetch(db, feed.id, outcome, retry_base=settings.retry_base_seconds,
                 retry_cap=settings.retry_max_seconds)
    return outcome


def is_due(feed: FeedState, now: datetime | None = None) -> bool:
    """True unless the feed is backing off after errors (its next_retry_at is in the future)."""
    retry_at = from_iso(feed.next_retry_at)
    return retry_at is None or retry_at <= (now or utc_now())


def feeds_to_fetch(db: sqlite_utils.Database,
                   names: Sequence[str] | None = None) -> list[FeedState]:
    """The named feeds (raises ``FeedNotFound``), else every enabled feed that is due."""
    if names:
        return [get_feed(db, name) for name in names]
    now = utc_now()
    return [feed for feed in list_feeds(db, include_disabled=False) if is_due(feed, now)]


def fetch_all(
    db_path: Path | str,
    settings: Settings,
    feed_names: Sequence[str] | None = None,
    backfill_pages: int = 0,
    progress: Progress | None = None,
    clock: Clock = utc_now,
) -> list[tuple[FeedState, FetchOutcome]]:
    """Fetch the named feeds, or every enabled due feed, with ``settings.fetch_workers`` threads.

    Each worker uses its own SQLite connection; ``progress(feed_name, outcome)`` is called in
    the caller's thread as each feed finishes. Results come back in the order of the feeds.
    """
    db = open_db(db_path)
    try:
        targets = feeds_to_fetch(db, feed_names)
    finally:
        db.conn.close()
    if not targets:
        return []

    def run(feed: FeedState) -> FetchOutcome:
        return fetch_feed(connections.db(), feed, settings, backfill_pages, client, clock)

    results: dict[int, FetchOutcome] = {}
    workers = min(settings.fetch_workers, len(targets))
    with ConnectionPool(db_path) as connections, new_client(settings) as client, \
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as threads:
        futures: dict[Future[FetchOutcome], FeedState] = {
            threads.submit(run, feed): feed for feed in targets}
        for future in as_completed(futures):
            feed = futures[future]
            results[feed.id] = future.result()
            if progress is not None:
                progress(feed.name, results[feed.id])
    return [(feed, results[feed.id]) for feed in targets]
