"""Datasette shows the edges view and answers "who amplifies whom" from the real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from amplification.edge_extraction import extract_edges
from config import FeedConfig, Settings, load_themes
from riftwatch.byod.browse import make_datasette
from store.feeds import add_feed
from store.items import save_items
from store.models import Item


async def test_edges_view_and_who_amplifies_whom(settings: Settings, db: sqlite_utils.Database,
                                                 db_path: Path) -> None:
    ids = {name: add_feed(db, FeedConfig(name=name, kind="telegram", role="blogger",
                                         channel=name)).id for name in ("alpha", "beta")}
    now = datetime.now(UTC)
    save_items(db, ids["alpha"], [Item(text="Оригинал", channel="alpha", post_id=1,
                                       published_at=now - timedelta(hours=2))])
    save_items(db, ids["beta"], [Item(text="Оригинал", channel="beta", post_id=n,
                                      published_at=now - timedelta(hours=1), forwarded_from="a",
                                      forwarded_url="https://t.me/alpha/1") for n in (5, 6)])
    extract_edges(db, settings)
    datasette = make_datasette(db_path, load_themes(settings.themes_file))
    await datasette.invoke_startup()
    name = db_path.stem
    edges = (await datasette.client.get(f"/{name}/edges.json?_shape=array")).json()
    assert [(row["source"], row["target"], row["kind"], row["count"]) for row in edges] == [
        ("beta", "alpha", "forward", 2)]
    rows = (await datasette.client.get(f"/{name}/who_amplifies_whom.json?_shape=array")).json()
    assert [(row["amplifier"], row["amplified"], row["forwards"]) for row in rows] == [
        ("beta", "alpha", 2)]
    assert "Who amplifies whom" in (await datasette.client.get(f"/{name}")).text
