"""Measure new storylines on the unlabelled milblog pool and time them in a 200-channel digest.

Usage: ``python -m bench.storylines [--day 2022-02-24] [--posts 300] [--earlier 1800]``.
One day of the pool's blogger posts (a deterministic sample) and the posts of the days before
it are embedded with the packaged encoder (the vectors scoring stores), written to a temporary
store with every post of the day scored critical, and clustered by ``compose_storylines``, the
digest's own step. Printed per storyline: posts, reposts, channels, lemmas, the central post,
new or not and its nearest earlier post; then coherence (see ``coherence``); then the step's
time in a 24 h digest over 100k stored posts of 200 feeds. Measures only: every store it writes
is a temporary file. Needs ``../shared/data/milblog-pool``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlite_utils

from bench.run import REPO, bench_settings, fill_store, line, timed
from config import FeedConfig, Settings, load_themes
from config.settings import DEFAULT_THEMES_FILE, DIGEST_WINDOW
from digest.compose import compose_digest
from digest.model import Storyline, StorylineReport
from digest.storyline_names import post_lemmas
from digest.storylines import compose_storylines
from store.db import open_db
from store.feeds import add_feed
from store.items import save_items
from store.models import Item, utc_now
from store.post_vectors import save_vectors, unit_vectors

POOL = REPO.parent / "shared" / "data" / "milblog-pool" / "pool.csv.gz"
MODEL = "bench-storylines"
SHORTEST_POST = 40  # characters; shorter posts (a link, an emoji) say nothing to cluster
RANDOM_SETS = 2000  # random same-size sets drawn per storyline for the coherence baseline


@dataclass(frozen=True)
class PoolPost:
    channel: str
    post_id: int
    published_at: datetime
    text: str


def pool_posts(path: Path) -> list[PoolPost]:
    """The pool's blogger posts with some text, oldest first."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle)
                if row["role"] == "blogger" and len(row["message"].strip()) >= SHORTEST_POST]
    posts = [PoolPost(row["channel"], int(row["id"]),
                      datetime.fromisoformat(row["date"]).replace(tzinfo=UTC), row["message"])
             for row in rows]
    return sorted(posts, key=lambda post: (post.published_at, post.channel, post.post_id))


def pick(posts: list[PoolPost], since: datetime, until: datetime, count: int) -> list[PoolPost]:
    """A deterministic sample of ``count`` posts published in [since, until), oldest first."""
    inside = [post for post in posts if since <= post.published_at < until]
    chosen = random.Random(23).sample(inside, min(count, len(inside)))
    return sorted(chosen, key=lambda post: (post.published_at, post.channel, post.post_id))


def store_posts(db: sqlite_utils.Database, posts: Sequence[PoolPost], vectors: np.ndarray,
                space: str, stance: str) -> list[int]:
    """Write the posts (one blogger feed a channel), a constructed ``stance`` score each and
    their vectors; return their item ids."""
    feeds = {row["name"]: row["id"] for row in db.query("SELECT id, name FROM feeds")}
    ids = []
    for post in posts:
        if post.channel not in feeds:
            feeds[post.channel] = add_feed(db, FeedConfig(
                name=post.channel, kind="telegram", role="blogger", channel=post.channel)).id
        item = Item(text=post.text, channel=post.channel, post_id=post.post_id,
                    url=f"https://t.me/{post.channel}/{post.post_id}",
                    published_at=post.published_at)
        save_items(db, feeds[post.channel], [item])
        ids.append(int(db.execute("SELECT id FROM items WHERE key = ?",
                                  [item.key]).fetchone()[0]))
    probabilities = {f"p_{name}": 0.7 if name == stance else 0.1
                     for name in ("supportive", "critical", "alarmed", "neutral")}
    db.table("scores").insert_all(
        {"item_id": item_id, "model_version": MODEL, "stance": stance, **probabilities,
         "themes": "{}", "themes_present": "[]", "targets": "[]", "language": "ru",
         "scored_at": "2022-03-02T00:00:00Z"} for item_id in ids)
    with db.conn:
        save_vectors(db, space, list(zip(ids, vectors, strict=True)))
    return ids


def embed(settings: Settings, texts: list[str]) -> tuple[str, np.ndarray]:
    """(space, vectors) of the texts by the packaged encoder, as scoring embeds them."""
    from classifiers.scoring import load_post_scorer

    scorer = load_post_scorer(settings, load_themes(DEFAULT_THEMES_FILE))
    return scorer.vector_space, scorer.passage_vectors(texts)


def coherence(storyline: Storyline, day: dict[int, np.ndarray], lemmas: dict[int, frozenset],
              rng: np.random.Generator) -> tuple[float, float, float, float, float]:
    """(mean pairwise cosine of its posts, the same for random sets of the day's posts of its
    size (mean), the share of those sets reaching it, the share of its posts carrying its top
    lemma, the share of the day's posts carrying it). Reposts are left out of both sides
    (near copies would flatter the cosine)."""
    members = [item for item in storyline.item_ids if item in day]
    vectors = np.stack([day[item] for item in members])
    own = mean_pairwise(vectors)
    pool = list(day)
    draws = [mean_pairwise(np.stack([day[pool[index]] for index in
                                     rng.choice(len(pool), len(members), replace=False)]))
             for _ in range(RANDOM_SETS)]
    top = storyline.lemmas[0] if storyline.lemmas else ""
    share = sum(top in lemmas[item] for item in members) / len(members)
    base = sum(top in found for found in lemmas.values()) / len(lemmas)
    return own, statistics.fmean(draws), sum(d >= own for d in draws) / len(draws), share, base


def mean_pairwise(vectors: np.ndarray) -> float:
    similarity = vectors @ vectors.T
    count = len(vectors)
    return float((similarity.sum() - np.trace(similarity)) / (count * (count - 1)))


def nearest_earlier_text(storyline: Storyline, day: dict[int, np.ndarray],
                         earlier: np.ndarray, texts: list[str]) -> tuple[float, str]:
    """The storyline's nearest earlier post (cosine, its first 100 characters)."""
    vectors = np.stack([day[item] for item in storyline.item_ids if item in day])
    similarity = vectors @ earlier.T
    best = int(np.argmax(similarity.max(axis=0)))
    return float(similarity.max()), flat(texts[best])[:100]


def flat(text: str) -> str:
    return " ".join(text.split())


def print_storylines(report: StorylineReport, db: sqlite_utils.Database,
                     earlier: np.ndarray, earlier_texts: list[str]) -> None:
    rows = db.execute("SELECT v.item_id, v.vector FROM post_vectors v JOIN scores s "
                      "ON s.item_id = v.item_id WHERE s.stance = 'critical'").fetchall()
    day = dict(zip((int(row[0]) for row in rows),
                   unit_vectors([bytes(row[1]) for row in rows]), strict=True))
    texts = dict(db.execute("SELECT id, text FROM items").fetchall())
    lemmas = {item: post_lemmas(texts[item]) for item in day}
    rng = np.random.default_rng(5)
    print(f"\n{len(report.storylines)} storylines ({len(report.new)} new) among "
          f"{report.critical_posts} posts; {report.without_vector} without a vector")
    figures = []
    for number, storyline in enumerate(report.storylines, start=1):
        own, chance, reached, share, base = coherence(storyline, day, lemmas, rng)
        figures.append((own, chance, reached, share, base))
        cosine, text = nearest_earlier_text(storyline, day, earlier, earlier_texts)
        print(f"\n#{number} {'NEW' if storyline.new else 'continues'}: {storyline.posts} posts "
              f"({storyline.copies} reposts), {len(storyline.channels)} channels "
              f"({', '.join(storyline.channels)})")
        print(f"  lemmas: {', '.join(storyline.lemmas)}")
        print(f"  central: {storyline.central.quote[:100]}")
        print(f"  coherence: mean cosine {own:.3f} vs {chance:.3f} for random sets of its size "
              f"({reached:.1%} of {RANDOM_SETS} reach it); top lemma in {share:.0%} of its "
              f"posts vs {base:.0%} of the day's")
        print(f"  nearest earlier post: cosine {cosine:.3f}: {text}")
    if figures:
        print(f"\nover the {len(figures)} storylines: mean cosine "
              f"{statistics.fmean(f[0] for f in figures):.3f} vs random sets "
              f"{statistics.fmean(f[1] for f in figures):.3f}; top lemma in "
              f"{statistics.fmean(f[3] for f in figures):.0%} of a storyline's posts vs "
              f"{statistics.fmean(f[4] for f in figures):.0%} of the day's")


def measure_pool(folder: Path, day: datetime, posts: int, earlier_posts: int) -> np.ndarray:
    """Print the day's storylines; return the vectors embedded (the day's, then earlier)."""
    everything = pool_posts(POOL)
    settings = bench_settings(folder, db_path=folder / "pool.db")
    today = pick(everything, day, day + timedelta(days=1), posts)
    before = pick(everything, day - timedelta(days=settings.storyline_novelty_days), day,
                  earlier_posts)
    first = min((post.published_at for post in before), default=day).date()
    print(f"pool day {day.date()}: {len(today)} of its blogger posts, from "
          f"{len({post.channel for post in today})} channels; earlier: {len(before)} posts since "
          f"{first} (the pool's first day)")
    started = time.perf_counter()
    space, vectors = embed(settings, [post.text for post in today + before])
    embed_s = time.perf_counter() - started
    print(f"  embedded {len(today) + len(before)} posts in {embed_s:.0f} s")
    db = open_db(settings.db_path)
    store_posts(db, today, vectors[:len(today)], space, "critical")
    store_posts(db, before, vectors[len(today):], space, "neutral")
    report = compose_storylines(db, settings, day, day + timedelta(days=1), MODEL)
    assert report is not None
    earlier = unit_vectors([bytes(row[0]) for row in db.execute(
        "SELECT v.vector FROM post_vectors v JOIN scores s ON s.item_id = v.item_id "
        "WHERE s.stance = 'neutral' ORDER BY v.item_id")])
    earlier_texts = [row[0] for row in db.execute(
        "SELECT i.text FROM items i JOIN scores s ON s.item_id = i.id "
        "WHERE s.stance = 'neutral' ORDER BY i.id")]
    print_storylines(report, db, earlier, earlier_texts)
    db.conn.close()
    return vectors


def time_in_digest(folder: Path, pool_vectors: np.ndarray) -> None:
    """The storyline step against the whole 24 h digest over 100k posts of 200 feeds (a
    quarter critical), each post given one of the pool's vectors plus noise."""
    path = folder / "digest.db"
    fill_store(path, 100_000)
    rng = np.random.default_rng(3)
    db = open_db(path)
    count = int(db.execute("SELECT count(*) FROM items").fetchone()[0])
    base = pool_vectors / np.linalg.norm(pool_vectors, axis=1, keepdims=True)
    noise = rng.standard_normal((count, base.shape[1])) * 0.02
    with db.conn:
        save_vectors(db, "bench-space", [(number + 1, base[number % len(base)] + noise[number])
                                         for number in range(count)])
    settings = bench_settings(folder, db_path=path)
    taxonomy = load_themes(DEFAULT_THEMES_FILE)
    until = utc_now()
    since = until - DIGEST_WINDOW
    report = compose_storylines(db, settings, since, until, "bench")
    storyline_s = statistics.median(
        timed(lambda: compose_storylines(db, settings, since, until, "bench")) for _ in range(3))
    digest_s = statistics.median(
        timed(lambda: compose_digest(db, settings, taxonomy, since, until)) for _ in range(3))
    print(f"\n24 h digest over {count:,} stored posts of 200 feeds (60 days), every post with a "
          f"vector: {report.critical_posts if report else 0} critical posts in the window, "
          f"{len(report.storylines) if report else 0} storylines (load average "
          f"{os.getloadavg()[0]:.1f})")
    line("storylines step", f"{storyline_s * 1000:,.0f} ms",
         f"{storyline_s / digest_s:.0%} of the whole digest composition "
         f"({digest_s * 1000:,.0f} ms, the step included)")
    line("against a 200-channel cycle", f"{storyline_s / 46.7:.1%}",
         "of 46.7 s (docs/performance.md, the full cycle; target < 10 %)")
    db.conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", default="2022-02-24", help="the pool day clustered (UTC)")
    parser.add_argument("--posts", type=int, default=300, help="posts of that day, sampled")
    parser.add_argument("--earlier", type=int, default=1800,
                        help="posts of the days before it, sampled")
    args = parser.parse_args(argv)
    if not POOL.is_file():
        parser.error(f"{POOL} is missing: this bench needs ../shared/data/milblog-pool")
    day = datetime.fromisoformat(args.day).replace(tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="riftwatch-storylines-") as tmp:
        vectors = measure_pool(Path(tmp), day, args.posts, args.earlier)
        time_in_digest(Path(tmp), vectors)


if __name__ == "__main__":
    main()
