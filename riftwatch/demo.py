"""`riftwatch demo`: one real cycle over the bundled sample corpus, no token, no network.

Serves the corpus on 127.0.0.1, points a fresh store's feeds at it, runs the real monitors
and the packaged model, and composes the last-24h digest. Two later cycles fetch the corpus
as changed after posting (a post deleted, one edited), so the digest shows what changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from config import FeedConfig, Settings
from config.settings import DIGEST_WINDOW
from config.themes import Taxonomy
from digest.compose import compose_digest
from digest.model import Digest
from riftwatch.demo_server import DemoCorpus, DemoServer, changed_corpus, load_corpus
from riftwatch.pipeline import CycleReport, Progress, run_cycle
from store.db import open_db
from store.feeds import sync_feeds
from store.models import utc_now

DEMO_BACKFILL_PAGES = 3
# When the three cycles see the corpus, before "now": as posted, then twice as changed (a
# deleted post needs two covering fetches that miss it).
FETCH_MINUTES_BEFORE_NOW = (3, 2, 1)


@dataclass
class DemoResult:
    cycle: CycleReport  # the first cycle, over the corpus as posted
    digest: Digest


def demo_feeds(server: DemoServer, corpus: DemoCorpus) -> list[FeedConfig]:
    """Feed configs for every demo channel and the demo news feed, served by ``server``."""
    channels = [
        FeedConfig(name=name, kind="telegram", role="blogger", channel=name,
                   url=server.channel_url(name), title=title)
        for name, title in corpus.titles.items()
    ]
    news = FeedConfig(name=corpus.news_name, kind="rss", role="news", url=server.news_url,
                      title=corpus.news_title)
    return [*channels, news]


def _stopped_clock(moment: datetime) -> Callable[[], datetime]:
    """A clock that always reads ``moment``."""
    return lambda: moment


def run_demo(settings: Settings, taxonomy: Taxonomy, progress: Progress | None = None,
             score: bool = True, now: datetime | None = None) -> DemoResult:
    """Fetch the demo corpus into ``settings.db_path`` and compose the last-24h digest.

    The corpus is laid out relative to ``now`` (default: the clock) and the digest ends there,
    so a fixed ``now`` gives the same digest every time: each cycle stores what it saw as seen
    ``FETCH_MINUTES_BEFORE_NOW`` before it. ``progress`` follows the first cycle.
    """
    demo_settings = settings.model_copy(update={"allow_private_urls": True})
    until = now or utc_now()
    corpus = load_corpus(until)
    with DemoServer(corpus) as server:
        db = open_db(Path(demo_settings.db_path))
        sync_feeds(db, demo_feeds(server, corpus))
        cycles = []
        for number, minutes in enumerate(FETCH_MINUTES_BEFORE_NOW):
            seen_at = until - timedelta(minutes=minutes)
            cycles.append(run_cycle(
                demo_settings, taxonomy, backfill_pages=DEMO_BACKFILL_PAGES,
                progress=progress if number == 0 else None, score=score,
                clock=_stopped_clock(seen_at)))
            server.corpus = changed_corpus(corpus)
        cycle = cycles[0]
    digest = compose_digest(db, demo_settings, taxonomy, until - DIGEST_WINDOW, until)
    return DemoResult(cycle=cycle, digest=digest)
