"""Benchmark the amplification graph: building the graph of a 7-day window over
100,000 stored items (target < 1 s), and the incremental edge extraction that feeds it.

Usage: ``python -m bench.bench_graph [--items N]``. Measures only: the store is a temporary
file. Posts are sample lines; a quarter are forwards of another channel's post, a tenth
mention one, and every scored critical post attacks a target.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from amplification.edge_extraction import extract_edges
from config import FeedConfig, load_settings
from digest.graph import build_graph
from digest.graph_render import graph_json
from store.db import open_db
from store.feeds import add_feed
from store.items import save_items
from store.models import Item, to_iso, utc_now

CHANNELS = 100
DAYS = 30
TARGETS = ("ministry", "shoigu", "gerasimov", "wagner", "kadyrov")


def _item(rng: random.Random, channel: int, number: int, items: int) -> Item:
    name = f"bench_{channel:03d}"
    other = f"bench_{rng.randrange(CHANNELS):03d}"
    roll = rng.random()
    text = f"Пост {number} канала {name}"
    fields: dict[str, object] = {}
    if roll < 0.25:
        fields = {"forwarded_url": f"https://t.me/{other}/{rng.randrange(1, items // CHANNELS)}",
                  "forwarded_from": other}
    elif roll < 0.35:
        text += f" — читайте @{other}"
    published = utc_now() - timedelta(minutes=rng.uniform(0, DAYS * 24 * 60))
    return Item(text=text, channel=name, post_id=number, published_at=published,
                url=f"https://t.me/{name}/{number}", **fields)  # type: ignore[arg-type]


def fill_store(path: Path, items: int) -> None:
    """``items`` posts over ``DAYS`` days in ``CHANNELS`` channels, every post scored."""
    rng = random.Random(15)
    db = open_db(path)
    feed_ids = [add_feed(db, FeedConfig(name=f"bench_{n:03d}", kind="telegram", role="blogger",
                                        channel=f"bench_{n:03d}")).id for n in range(CHANNELS)]
    per_channel = items // CHANNELS
    for channel, feed_id in enumerate(feed_ids):
        save_items(db, feed_id, [_item(rng, channel, number, items)
                                 for number in range(1, per_channel + 1)])
    rows = db.execute("SELECT id FROM items").fetchall()
    with db.conn:
        db.conn.executemany(
            "INSERT INTO scores VALUES (?, 'bench', ?, 0.2, 0.5, 0.2, 0.1, '{}', ?, NULL, 'ru', ?, "
            "'[]')",
            [(item_id, "critical" if item_id % 3 == 0 else "neutral",
              json.dumps([TARGETS[item_id % 5]] if item_id % 3 == 0 else []), to_iso(utc_now()))
             for (item_id,) in rows])
    db.conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    settings = load_settings()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "graph.db"
        started = time.perf_counter()
        fill_store(path, args.items)
        print(f"stored {args.items:,} items in {CHANNELS} channels over {DAYS} days "
              f"({time.perf_counter() - started:.1f}s)")
        db = open_db(path)
        started = time.perf_counter()
        report = extract_edges(db, settings)
        print(f"edge extraction, first run: {report.items:,} items, {report.scores:,} scores, "
              f"{report.new:,} evidence rows in {time.perf_counter() - started:.1f}s")
        started = time.perf_counter()
        again = extract_edges(db, settings)
        print(f"edge extraction, nothing new: {again.new} rows in "
              f"{(time.perf_counter() - started) * 1000:.0f} ms")
        until = utc_now()
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            result = build_graph(db, until - timedelta(days=7), until)
            graph_json(result)
            timings.append(time.perf_counter() - started)
        best = min(timings)
        print(f"graph of a 7-day window: {result.graph.number_of_nodes()} nodes, "
              f"{len(result.edges):,} edges from {sum(e.count for e in result.edges):,} "
              f"evidence rows, {len(result.communities)} communities: best of 3 {best:.3f}s "
              f"(target < 1 s: {'ok' if best < 1 else 'MISSED'})")


if __name__ == "__main__":
    main()
