"""`riftwatch run` without a token: scheduled fetches, scoring after each, clean stop."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from config import Settings, load_themes
from riftwatch.demo import demo_feeds
from riftwatch.demo_server import DemoServer, load_corpus
from riftwatch.service import run_service
from store.db import open_db
from store.feeds import list_feeds, sync_feeds


def _wait_for(predicate, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_service_fetches_scores_and_stops(settings: Settings, model_cache: Path) -> None:
    settings = settings.model_copy(update={"cache_dir": model_cache, "backfill_pages": 0,
                                           "schedule_first_run_seconds": 0.5})
    taxonomy = load_themes(settings.themes_file)
    stop = threading.Event()
    with DemoServer(load_corpus()) as server:
        db = open_db(settings.db_path)
        sync_feeds(db, demo_feeds(server, load_corpus()))
        service = threading.Thread(target=run_service, args=(settings, taxonomy),
                                   kwargs={"stop": stop})
        service.start()
        try:
            def all_fetched_and_scored() -> bool:
                items = db.table("items").count
                fetched = all(feed.last_success_at for feed in list_feeds(db))
                return fetched and items > 0 and db.table("scores").count == items

            assert _wait_for(all_fetched_and_scored, 180), "items were not fetched and scored"
        finally:
            stop.set()
            service.join(60)
    assert not service.is_alive()
    assert db.table("items").count == 4 * 20 + 17  # one page per channel, the whole news feed
    assert db.execute("SELECT COUNT(DISTINCT model_version) FROM scores").fetchone()[0] == 1
