"""/label feedback as extra training data: the newest stance label per item, with the themes
the item was labelled with; items without a stance label are left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from classifiers.training.datasets import Reading, load_store_annotations
from config import FeedConfig
from store.feeds import get_feed, sync_feeds
from store.items import save_items
from store.labels import add_label
from store.models import Item

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_latest_stance_label_per_item_with_its_themes_becomes_an_annotated_post(
    db: sqlite_utils.Database, db_path: Path
) -> None:
    sync_feeds(db, [FeedConfig(name="alpha", kind="telegram", role="blogger", channel="alpha")])
    save_items(db, get_feed(db, "alpha").id, [
        Item(text=f"SAMPLE post {n}", channel="alpha", post_id=n, published_at=NOW)
        for n in (1, 2, 3)])
    ids = [row["id"] for row in db.query("SELECT id FROM items ORDER BY post_id")]
    add_label(db, ids[0], 7, "neutral", now=NOW)
    add_label(db, ids[0], 8, "critical", now=NOW + timedelta(minutes=1))  # a correction wins
    add_label(db, ids[0], 8, "theme:mod_criticism", now=NOW)
    add_label(db, ids[1], 7, "alarmed", now=NOW)
    add_label(db, ids[2], 7, "theme:supply_shortage", now=NOW)  # no stance: not used
    add_label(db, ids[2], 7, "wrong", now=NOW)
    data = load_store_annotations(db_path)
    assert data.texts == ["SAMPLE post 1", "SAMPLE post 2"]
    assert data.settled == [Reading("critical", frozenset({"mod_criticism"})),
                            Reading("alarmed", frozenset())]
    assert data.first == data.second == data.settled
    assert data.sources == ["store", "store"]
    assert data.sampled == ["label:alpha", "label:alpha"]
