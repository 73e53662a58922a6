"""`riftwatch demo`: one real cycle over the bundled sample corpus, no token, no network.

Serves the corpus on 127.0.0.1, points a fresh store's feeds at it, runs the real monitors
and the packaged model, and composes the last-24h digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from config import FeedConfig, Settings
from config.settings import DIGEST_WINDOW
from config.themes import Taxonomy
from digest.compose import compose_digest
from digest.model import Digest
from riftwatch.demo_server import DemoCorpus, DemoServer, load_corpus
from riftwatch.pipeline import CycleReport, Progress, run_cycle
from store.db import open_db
from store.feeds import sync_feeds
from store.models import utc_now

DEMO_BACKFILL_PAGES = 3


@dataclass
class DemoResult:
    cycle: CycleReport
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


def run_demo(settings: Settings, taxonomy: Taxonomy, progress: Progress | None = None,
             score: bool = True, now: datetime | None = None) -> DemoResult:
    """Fetch the demo corpus into ``settings.db_path`` and compose the last-24h digest.

    The corpus is laid out relative to ``now`` (default: the clock) and the digest ends there,
    so a fixed ``now`` gives the same digest every time.
    """
    demo_settings = settings.model_copy(update={"allow_private_urls": True})
    until = now or utc_now()
    corpus = load_corpus(until)
    with DemoServer(corpus) as server:
        db = open_db(Path(demo_settings.db_path))
        sync_feeds(db, demo_feeds(server, corpus))
        cycle = run_cycle(demo_settings, taxonomy, backfill_pages=DEMO_BACKFILL_PAGES,
                          progress=progress, score=score)
    digest = compose_digest(db, demo_settings, taxonomy, until - DIGEST_WINDOW, until)
    return DemoResult(cycle=cycle, digest=digest)
