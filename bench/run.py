"""Benchmark riftwatch end to end on this machine; every figure is printed beside its comparison.

Usage: ``python -m bench.run [--quick] [--only ingest,scoring,cycle,digest,search,history]``.
Parts: ingestion (RSS and t.me/s parsed + stored, batch vs row-by-row insert), scoring
(the CPU, the precision ``auto`` chose, and default vs fp32 vs bf16 vs int8 vs naive fp32 on
long milblog posts), a full cycle (channels served on
127.0.0.1: fetch + store + score + watch matching + digest, wall time, peak RSS and the
watches' share), and digest composition
over 100k stored items with and without the indexes it needs, and semantic search over 100k
stored post vectors, and post history (the store's growth per 1,000 posts from versions and
view samples, and what recording edits, deletions and views costs in a 200-channel cycle).
Measures only: every store it writes is a temporary file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from datetime import timedelta
from email.utils import format_datetime
from functools import partial
from html import escape
from pathlib import Path

import numpy as np
import sqlite_utils

import store.items
from bench.bench_classifier import load_posts, peak_rss_mb
from config import FeedConfig, Settings, load_settings
from config.settings import DEFAULT_THEMES_FILE, DIGEST_WINDOW
from config.themes import STANCE_NAMES, Taxonomy, load_themes
from digest.compose import compose_digest
from digest.telegram_html import render_digest_messages
from monitors.rss import parse_feed
from monitors.telegram import parse_channel_page
from riftwatch.demo_server import (
    CORPUS_FILE,
    DemoCorpus,
    DemoPost,
    DemoServer,
    render_channel_page,
)
from store.db import open_db
from store.feeds import add_feed, sync_feeds
from store.items import save_items
from store.models import Item, to_iso, utc_now

REPO = Path(__file__).resolve().parent.parent

PARTS = ("ingest", "scoring", "cycle", "digest", "search", "history")
# Encoder depths timed beside the configured one (the default path's arithmetic, same posts).
BENCH_DEPTHS = (4, 6, 8, 12)


# --- shared helpers --------------------------------------------------------------------------

def sample_texts() -> list[str]:
    """The demo corpus's sample posts (text written for this project)."""
    data = tomllib.loads(CORPUS_FILE.read_text(encoding="utf-8"))
    return list(data["posts"]["background"]) + list(data["posts"]["today"])


def synthetic_corpus(channels: int, posts: int) -> DemoCorpus:
    """``channels`` t.me channels with ``posts`` posts each, from the demo sample texts."""
    texts, now = sample_texts(), utc_now()
    names = [f"bench_{number:03d}" for number in range(channels)]
    timeline = {
        name: [DemoPost(name, 1000 + post, now - timedelta(minutes=30 * (posts - post)),
                        texts[(index * 7 + post) % len(texts)], 500 + 37 * post)
               for post in range(posts)]
        for index, name in enumerate(names)}
    return DemoCorpus(titles={name: f"Канал {name}" for name in names}, posts=timeline,
                      news_name="bench_news", news_title="Bench news", articles=[])


def rss_body(feed: int, items: int, texts: list[str]) -> bytes:
    stamp = format_datetime(utc_now() - timedelta(hours=1), usegmt=True)
    entries = "".join(
        f"<item><title>Заголовок {feed}-{n}</title><link>https://news.example/{feed}/{n}</link>"
        f"<guid>bench-{feed}-{n}</guid><pubDate>{stamp}</pubDate>"
        f"<description>&lt;p&gt;{escape(texts[(feed + n) % len(texts)])}&lt;/p&gt;</description>"
        "</item>" for n in range(items))
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Bench {feed}</title>{entries}</channel></rss>").encode()


def fresh_store(folder: Path, name: str, feeds: int) -> tuple[sqlite_utils.Database, list[int]]:
    """A new store with ``feeds`` feeds; their ids."""
    db = open_db(folder / f"{name}.db")
    ids = [add_feed(db, FeedConfig(name=f"{name}{n}", kind="telegram", role="blogger",
                                   url=f"https://example.org/{name}/{n}")).id
           for n in range(feeds)]
    return db, ids


def line(label: str, value: str, comparison: str = "") -> None:
    print(f"  {label:<46} {value:>14}   {comparison}")


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


# --- ingestion -------------------------------------------------------------------------------

def bench_ingest(folder: Path, quick: bool) -> None:
    print("\ningestion (parse + store, one transaction per page; target >= 2,000 items/s)")
    texts = sample_texts()
    feeds = 20 if quick else 100
    rss_pages = [rss_body(feed, 50, texts) for feed in range(feeds)]
    corpus = synthetic_corpus(feeds, 20)
    tme_pages = [render_channel_page(corpus, name, None).encode() for name in corpus.titles]
    bench_pages(folder, "RSS (50 items/feed)", rss_pages, parse_feed)
    bench_pages(folder, "t.me/s (20 posts/page)", tme_pages,
                lambda body: parse_channel_page(body).items)
    many = synthetic_corpus(100 if quick else 250, 20)
    bench_batch_insert(folder, [item for name in many.titles for item in parse_channel_page(
        render_channel_page(many, name, None)).items])


def bench_pages(folder: Path, kind: str, pages: list[bytes],
                parse: Callable[[bytes], list[Item]]) -> None:
    """Parse every page, then store each page's items in its own ``save_items`` call."""
    started = time.perf_counter()
    parsed = [parse(page) for page in pages]
    parse_s = time.perf_counter() - started
    db, ids = fresh_store(folder, f"ingest{len(list(folder.iterdir()))}", len(pages))
    started = time.perf_counter()
    for feed_id, items in zip(ids, parsed, strict=True):
        save_items(db, feed_id, items)
    store_s = time.perf_counter() - started
    db.conn.close()
    count = sum(map(len, parsed))
    line(f"{kind}: {count} items parsed + stored", f"{count / (parse_s + store_s):,.0f} items/s",
         f"(parse alone {count / parse_s:,.0f}/s, store alone {count / store_s:,.0f}/s)")


def bench_batch_insert(folder: Path, items: list[Item]) -> None:
    batch_db, (batch_feed,) = fresh_store(folder, "batch", 1)
    single_db, (single_feed,) = fresh_store(folder, "single", 1)
    batch_s = timed(lambda: save_items(batch_db, batch_feed, items))
    single_s = timed(lambda: [save_items(single_db, single_feed, [item]) for item in items])
    line(f"save_items: {len(items)} items in one batch", f"{len(items) / batch_s:,.0f} items/s",
         f"vs row by row {len(items) / single_s:,.0f} items/s = {single_s / batch_s:.1f}x faster")


# --- scoring ---------------------------------------------------------------------------------

def bench_settings(folder: Path, **overrides: object) -> Settings:
    """Settings for a temporary store, the user's model cache and the default model."""
    values: dict[str, object] = {"db_path": folder / "cycle.db", "allow_private_urls": True,
                                 "model": None}
    return load_settings(**(values | overrides))


def load_default_classifier(settings: Settings, taxonomy: Taxonomy):
    from classifiers.scoring import load_classifier

    return load_classifier(settings, taxonomy)


def milblog_posts(count: int) -> list[str] | None:
    """The first ``count`` messages of milblog-criticism/dev.csv, or None without ../shared."""
    if not (REPO.parent / "shared" / "data" / "milblog-criticism" / "dev.csv").is_file():
        return None
    posts, _ = load_posts(REPO.parent / "shared" / "data", count)
    return posts


def print_cpu() -> None:
    from classifiers.precision import KEY_FLAGS, detect_cpu

    cpu = detect_cpu()
    flags = " ".join(sorted(cpu.flags & KEY_FLAGS)) or "none of them"
    print(f"  CPU: {cpu.model_name}; torch capability {cpu.torch_capability}; "
          f"bf16/int8 flags: {flags}")


def path_scorer(settings: Settings, path: str, taxonomy: Taxonomy) -> Callable[[list[str]], object]:
    """The whole classifier with its encoder in ``path``, behind the per-post character cap."""
    from classifiers.scoring import PostScorer, build_classifier

    classifier = build_classifier(settings.model_copy(update={"precision": path}), taxonomy)
    return PostScorer(classifier, settings.max_post_chars).score_texts


def naive_scorer(settings: Settings) -> Callable[[list[str]], object]:
    """fp32, all 12 layers, one post per forward, 512 tokens: the encoder work of the naive
    way, no windows."""
    from classifiers.convert import FULL_DEPTH
    from classifiers.model_files import default_model_dir
    from classifiers.precision import derived_dir, open_encoder

    model_dir = default_model_dir(settings.cache_dir, settings.model, FULL_DEPTH)
    encoder = open_encoder(model_dir, derived_dir(settings.cache_dir, model_dir), "fp32",
                           threads=settings.threads, batch_size=1, max_tokens=512)
    return lambda posts: [encoder.embed([post]) for post in posts]


def interleaved_rates(runners: dict[str, Callable[[list[str]], object]], posts: list[str],
                      chunk: int) -> dict[str, float]:
    """Posts/s of each runner, taking turns chunk by chunk: a burst of load from other
    processes then falls on every path alike instead of on whichever ran at that moment."""
    for run in runners.values():
        run(posts[:2])  # warm-up
    seconds = dict.fromkeys(runners, 0.0)
    for start in range(0, len(posts), chunk):
        part = posts[start : start + chunk]
        for name, run in runners.items():
            seconds[name] += timed(partial(run, part))
    return {name: len(posts) / spent for name, spent in seconds.items()}


def bench_scoring(folder: Path, quick: bool, taxonomy: Taxonomy) -> None:
    from classifiers.precision import prepare_precision

    print("\nscoring: each precision on real long posts, against naive fp32 (the target: the "
          "default >= 2.5x naive)")
    print_cpu()
    posts = milblog_posts(8 if quick else 128)  # --quick: 1m52s with 12 posts at load 5.9
    if posts is None:
        print("  skipped: ../shared/data/milblog-criticism/dev.csv is absent (team checkout only)")
        return
    settings = bench_settings(folder)
    # The pipeline scores in calls of score_batch_posts; the paths take turns, so a call is at
    # most a quarter of the posts (at least four turns each to spread other load over them).
    chunk = max(1, min(settings.score_batch_posts, len(posts) // 4))
    default = prepare_precision(settings)
    print(f"  RIFTWATCH_PRECISION={settings.precision} runs {default.precision}: "
          f"{default.choice.reason}")
    print(f"  {len(posts)} milblog dev posts, mean {sum(map(len, posts)) / len(posts):,.0f} "
          f"chars; {settings.threads} threads, calls of {chunk} posts, "
          f"max_tokens {settings.max_tokens}; paths take turns; load {os.getloadavg()[0]:.1f}")
    runners = {path: path_scorer(settings, path, taxonomy) for path in ("fp32", "bf16", "int8")}
    depths = [depth for depth in BENCH_DEPTHS if depth != settings.encoder_depth]
    for depth in depths:
        runners[f"L{depth}"] = path_scorer(settings.model_copy(update={"encoder_depth": depth}),
                                           default.precision, taxonomy)
    runners["naive"] = naive_scorer(settings)
    rates = interleaved_rates(runners, posts, chunk)
    naive = rates["naive"]
    rows = [(f"default ({settings.precision}: {default.precision}, "
             f"{settings.encoder_depth} layers)", rates[default.precision])]
    rows += [(f"{path}, sorted batches of windows", rates[path]) for path in ("fp32", "bf16",
                                                                              "int8")]
    rows += [(f"{default.precision}, first {depth} layers", rates[f"L{depth}"])
             for depth in depths]
    for label, rate in rows:
        line(label, f"{rate:.1f} posts/s", f"{rate / naive:.2f}x naive")
    line("cascade (lexical first)", "—",
         "not shipped: -0.009 macro-F1 for ~1.2x (classifiers/MODELS.md)")
    line("naive: fp32, one post per forward, 512 tokens", f"{naive:.1f} posts/s",
         f"1.00x  (load {os.getloadavg()[0]:.1f})")
    print_int8_record()


def print_int8_record() -> None:
    """The shipped heads' macro-F1 on bf16 and int8 embeddings, as training measured it."""
    from classifiers.heads import load_heads

    record = load_heads().meta.get("int8_record")
    if not record:
        print("  macro-F1 per path: no int8 record in heads.json "
              "(python -m classifiers.training.train)")
        return
    f1 = record["macro_f1"]
    print(f"  macro-F1 ({record['recipe']}, {record['method']}): fp32/bf16 {f1['reference']:.3f}, "
          f"int8 {f1['int8']:.3f}")


# --- a full cycle ----------------------------------------------------------------------------

WATCH_CHATS = 100  # chats with WATCHES_PER_CHAT watches each, matched inside the cycle
WATCHES_PER_CHAT = 10
BENCH_WATCHES = (  # a mix of kinds; each chat's copy excludes a word of its own
    "генерал", "снаряд", "министерство обороны", "фланг", "отступление", "позиция",
    "re:брос\\w*\\s+позици", "re:\\d+\\s+(снаряд|выстрел)\\w*", "re:(a+)+$",
    "target:shoigu", "target:gerasimov", "target:wagner", "target:unlisted:Стрелков",
    "channel:bench_000", "channel:bench_001 stance:critical,alarmed",
)


def seed_watches(db: sqlite_utils.Database, settings: Settings, taxonomy: Taxonomy) -> int:
    """WATCH_CHATS chats' watches, made an hour ago (so every post of the cycle is new to them)."""
    from digest.watch_scan import add_typed_watch

    made = utc_now() - timedelta(hours=1)
    for chat in range(WATCH_CHATS):
        for number in range(WATCHES_PER_CHAT):
            typed = BENCH_WATCHES[(chat + number) % len(BENCH_WATCHES)]
            add_typed_watch(db, chat + 1, f"{typed} -слово{chat}", settings, taxonomy, made)
    return WATCH_CHATS * WATCHES_PER_CHAT


def rematch_cold(settings: Settings, taxonomy: Taxonomy) -> float:
    """The watches' scan of the whole cycle again, with every lemma cache emptied first (the
    cycle's own scan finds the lemmas scoring just computed for short posts)."""
    from classifiers.lemmas import _normal_forms, word_spans
    from classifiers.phrases import lemma_options, text_lemmas
    from riftwatch.pipeline import match_watches
    from store.edges import write_mark
    from store.watches import WATCH_STREAM

    db = open_db(settings.db_path)
    with db.conn:
        db.execute("DELETE FROM watch_matches")
        write_mark(db, WATCH_STREAM, 0)
    for cache in (_normal_forms, word_spans, lemma_options, text_lemmas):
        cache.cache_clear()
    return timed(lambda: match_watches(settings.db_path, settings, taxonomy))


def bench_cycle(folder: Path, quick: bool, taxonomy: Taxonomy) -> None:
    from riftwatch.demo import demo_feeds
    from riftwatch.pipeline import run_cycle

    channels = 40 if quick else 200
    print(f"\nfull cycle: {channels} channels x 20 posts on 127.0.0.1, fetch + store + score "
          f"+ {WATCH_CHATS * WATCHES_PER_CHAT:,} watches + digest (target < 60 s after warm-up, "
          "peak RSS < 1.5 GiB; watch matching < 5 % of it)")
    settings = bench_settings(folder)
    warm_s = timed(lambda: load_default_classifier(settings, taxonomy).score_texts(["прогрев"]))
    corpus = synthetic_corpus(channels, 20)
    with DemoServer(corpus) as server:
        sync_feeds(open_db(settings.db_path), demo_feeds(server, corpus))
        watches = seed_watches(open_db(settings.db_path), settings, taxonomy)
        started = time.perf_counter()
        report = run_cycle(settings, taxonomy)
        digest_s = timed(lambda: render_digest_messages(compose_digest(
            open_db(settings.db_path), settings, taxonomy, utc_now() - timedelta(hours=24),
            utc_now())))
        total = time.perf_counter() - started
    line("warm-up (model load + first post)", f"{warm_s:.1f} s", "(not counted below)")
    line(f"fetch + store: {len(report.outcomes)} feeds, {report.new_items} items",
         f"{report.fetch_seconds:.1f} s",
         f"({report.new_items / report.fetch_seconds:,.0f} items/s, {len(report.failed)} failed)")
    line(f"score: {report.scored} posts", f"{report.score_seconds:.1f} s",
         f"({report.scored / max(report.score_seconds, 1e-9):.1f} posts/s)")
    line("compose + render the 24 h digest", f"{digest_s:.2f} s")
    line("whole cycle, wall time", f"{total:.1f} s", "target < 60 s")
    line(f"watch matching: {watches:,} watches, {report.scored} posts",
         f"{report.watch_seconds:.2f} s",
         f"{report.watch_seconds / total:.1%} of the cycle ({report.watch_matches:,} matches); "
         "target < 5 %")
    cold_s = rematch_cold(settings, taxonomy)
    line("  the same, lemma caches emptied first", f"{cold_s:.2f} s",
         f"{cold_s / total:.1%} of the cycle")
    line("peak RSS of this process", f"{peak_rss_mb():,.0f} MB", "target < 1,536 MB")


# --- digest over 100k items ------------------------------------------------------------------

def fill_store(path: Path, items: int, days: int = 60, model_version: str = "bench") -> None:
    """``items`` posts over ``days`` days from 180 blogger and 20 news feeds, each scored."""
    db = open_db(path)
    rng = random.Random(7)
    feeds = [add_feed(db, FeedConfig(name=f"feed{n:03d}", kind="telegram",
                                     role="news" if n >= 180 else "blogger",
                                     channel=f"feed{n:03d}")).id for n in range(200)]
    now, texts = utc_now(), sample_texts()
    themes = load_themes(DEFAULT_THEMES_FILE).theme_names()
    item_rows, score_rows = [], []
    for number in range(1, items + 1):
        moment = to_iso(now - timedelta(seconds=rng.uniform(0, days * 86400)))
        item_rows.append((number, f"tg:b/{number}", rng.choice(feeds), number,
                          f"https://t.me/b/{number}", texts[number % len(texts)], moment, moment,
                          moment))
        stance = rng.choice(STANCE_NAMES)
        probabilities = [0.7 if name == stance else 0.1 for name in STANCE_NAMES]
        theme_p = {theme: round(rng.random() ** 3, 3) for theme in themes}
        score_rows.append((number, model_version, stance, *probabilities, json.dumps(theme_p),
            json.dumps([theme for theme, p in theme_p.items() if p >= 0.5]),
            json.dumps(["ministry"] if rng.random() < 0.05 else []),
            texts[number % len(texts)][:120], "ru", moment))
    with db.conn:
        db.conn.executemany(
            "INSERT INTO items (id, key, feed_id, post_id, url, text, published_at, fetched_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", item_rows)
        db.conn.executemany(
            "INSERT INTO scores (item_id, model_version, stance, p_supportive, p_critical, "
            "p_alarmed, p_neutral, themes, themes_present, targets, evidence, language, "
            "scored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", score_rows)
    db.execute("ANALYZE")
    db.conn.close()


def _items_indexes(db) -> list[tuple[str, str]]:
    return [(name, sql) for name, sql in db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items' "
        "AND sql IS NOT NULL")]


def time_compose(db, settings: Settings, taxonomy: Taxonomy, runs: int = 3) -> float:
    until = utc_now()
    compose = lambda: compose_digest(db, settings, taxonomy, until - DIGEST_WINDOW, until)  # noqa: E731
    compose()  # warm the page cache
    return statistics.median(timed(compose) for _ in range(runs))


def bench_digest(folder: Path, quick: bool, taxonomy: Taxonomy) -> None:
    items = 20_000 if quick else 100_000
    print(f"\ndigest composition over {items:,} stored, scored items (60 days, 200 feeds; "
          "target < 1 s)")
    path = folder / "digest.db"
    fill_s = timed(lambda: fill_store(path, items))
    settings = bench_settings(folder, db_path=path)
    db = open_db(path)
    indexed = time_compose(db, settings, taxonomy)
    indexes = _items_indexes(db)
    for name, _ in indexes:
        db.execute(f"DROP INDEX {name}")
    bare = time_compose(db, settings, taxonomy, runs=1)
    for _, sql in indexes:
        db.execute(sql)
    names = ", ".join(name for name, _ in indexes)
    line(f"24 h digest, with the items indexes ({len(indexes)})", f"{indexed:.3f} s",
         f"vs without them {bare:.3f} s = {bare / indexed:.1f}x   [{names}]")
    print(f"  (store filled in {fill_s:.1f}s)")
    db.conn.close()


# --- semantic search over 100k post vectors --------------------------------------------------

SEARCH_SPACE = "bench-space"


class RandomQuery:
    """A query encoder answering random unit vectors: the index's cost, not the encoder's."""

    vector_space = SEARCH_SPACE

    def __init__(self, dim: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.dim = dim

    def query_vector(self, query: str) -> np.ndarray:
        return unit_rows(self.rng.standard_normal((1, self.dim)))[0]


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def add_random_vectors(path: Path, items: int, dim: int) -> None:
    """A random unit vector (int8, as scoring stores them) for every item of the store."""
    from store.post_vectors import save_vectors

    vectors = unit_rows(np.random.default_rng(11).standard_normal((items, dim)))
    db = open_db(path)
    with db.conn:
        save_vectors(db, SEARCH_SPACE, [(number + 1, vectors[number]) for number in range(items)])
    db.conn.close()


def numpy_scan(path: Path, query: np.ndarray, limit: int) -> list[int]:
    """The Python way: read every stored vector, one matrix product, sort."""
    db = open_db(path)
    rows = db.execute("SELECT item_id, vector FROM post_vectors WHERE space = ?",
                      [SEARCH_SPACE]).fetchall()
    db.conn.close()
    matrix = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.int8).reshape(len(rows), -1)
    scores = matrix.astype(np.float32) @ query / np.linalg.norm(matrix, axis=1)
    return [rows[i][0] for i in np.argsort(-scores)[:limit]]


def vec0_knn_seconds(path: Path, dim: int, runs: int) -> float:
    """sqlite-vec's vec0 virtual table (int8, cosine) over the same vectors: one KNN query."""
    from store.post_vectors import quantise
    from store.vector_search import open_vector_connection

    conn = open_vector_connection(path)
    conn.execute(f"CREATE VIRTUAL TABLE bench_vec0 USING vec0(item_id INTEGER PRIMARY KEY, "
                 f"embedding int8[{dim}] distance_metric=cosine)")
    conn.execute("INSERT INTO bench_vec0 SELECT item_id, vec_int8(vector) FROM post_vectors")
    conn.commit()
    query = RandomQuery(dim, 5)
    knn = "SELECT item_id FROM bench_vec0 WHERE embedding MATCH vec_int8(?) AND k = 10"
    conn.execute(knn, [quantise(query.query_vector(""))]).fetchall()  # warm
    spent = statistics.median(
        timed(partial(lambda v: conn.execute(knn, [v]).fetchall(),
                      quantise(query.query_vector("")))) for _ in range(runs))
    conn.execute("DROP TABLE bench_vec0")
    conn.close()
    return spent


def timed_with_cpu(function: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of one call: on a machine other processes load, the CPU time is
    what the query itself costs (SQLite runs it on one core)."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_search(folder: Path, quick: bool, taxonomy: Taxonomy) -> None:
    from digest.search import SearchFilters, search_text

    items, dim, runs = (20_000 if quick else 100_000), 384, 5
    print(f"\nsemantic search over {items:,} stored post vectors ({dim} int8, random; "
          "target < 0.5 s per query)")
    path = folder / "search.db"
    fill_s = timed(lambda: (fill_store(path, items), add_random_vectors(path, items, dim)))
    db = open_db(path)
    since = utc_now() - timedelta(days=7)
    cases: list[tuple[str, SearchFilters]] = [
        ("10 nearest, no filter", SearchFilters(limit=10)),
        ("10 nearest, critical + a theme + last 7 days",
         SearchFilters(limit=10, stance="critical", theme="mod_criticism", since=since)),
        ("10 nearest in one channel", SearchFilters(limit=10, channel="feed007")),
    ]
    encoder = RandomQuery(dim, 3)
    search_text(db, path, encoder, "warm", SearchFilters())  # warm the page cache
    for label, filters in cases:
        wall, cpu = zip(*(timed_with_cpu(partial(search_text, db, path, encoder, "q", filters))
                          for _ in range(runs)), strict=True)
        line(label, f"{statistics.median(wall):.3f} s",
             f"median of {runs}; CPU {statistics.median(cpu):.3f} s of it "
             f"(load {os.getloadavg()[0]:.1f})")
    query = RandomQuery(dim, 4).query_vector("")
    scan = statistics.median(timed(partial(numpy_scan, path, query, 10)) for _ in range(3))
    line("vs numpy: read every vector, one matmul", f"{scan:.3f} s", "the Python way, for scale")
    line("vs sqlite-vec vec0 KNN (int8, no filter)", f"{vec0_knn_seconds(path, dim, runs):.3f} s",
         "filters on joins would apply after its k")
    print(f"  (store filled in {fill_s:.1f}s)")
    db.conn.close()


# --- post history -----------------------------------------------------------------------------

class StepClock:
    """Wall time spent in named functions of a module, measured by wrapping them in place."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, module: object, name: str) -> None:
        inner = getattr(module, name)

        def timed_step(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

        setattr(module, name, timed_step)


def next_state(corpus: DemoCorpus, cycle: int, edit_share: float, delete_share: float
               ) -> DemoCorpus:
    """The corpus one fetch later: every count up 5 %, ``edit_share`` of posts edited and
    ``delete_share`` of them gone for good (different posts each cycle)."""
    rng = random.Random(cycle)
    posts = {}
    for name, timeline in corpus.posts.items():
        kept = []
        for post in timeline:
            roll = rng.random()
            if roll < delete_share:
                continue
            edited = roll < delete_share + edit_share
            text = post.text + f" (правка {cycle})" if edited else post.text
            kept.append(DemoPost(post.channel, post.post_id, post.published_at, text,
                                 int(post.views * 1.05) + 1))
        posts[name] = kept
    return DemoCorpus(corpus.titles, posts, corpus.news_name, corpus.news_title, corpus.articles)


def store_bytes(path: Path) -> int:
    db = open_db(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages, size = (db.execute(f"PRAGMA {name}").fetchone()[0] for name in ("page_count",
                                                                                "page_size"))
        return int(pages) * int(size)
    finally:
        db.conn.close()


def table_bytes(path: Path) -> dict[str, int]:
    """Bytes each table and index takes (SQLite's dbstat), by name."""
    db = open_db(path)
    try:
        return {str(name): int(size) for name, size in db.execute(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")}
    finally:
        db.conn.close()


def table_rows(path: Path, table: str) -> int:
    db = open_db(path)
    try:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        db.conn.close()


def bench_history(folder: Path, quick: bool, taxonomy: Taxonomy) -> None:
    from digest.changes import compose_changes
    from digest.view_speed import fastest_by_views
    from monitors import fetch
    from monitors.fetch import fetch_all
    from riftwatch.demo import demo_feeds
    from riftwatch.pipeline import prune_old_history

    channels, cycles = (40, 4) if quick else (200, 8)
    print(f"\npost history: {channels} channels x 20 posts re-fetched {cycles} times on 127.0.0.1, "
          "views up 5 % a fetch, 2 % of posts edited and 0.5 % deleted a fetch (target: the "
          "new steps < 10 % of the cycle)")
    settings = bench_settings(folder, db_path=folder / "history.db")
    steps = StepClock()
    steps.wrap(store.items, "record_edit")
    steps.wrap(store.items, "record_view_samples")
    steps.wrap(fetch, "record_coverage")
    corpus = synthetic_corpus(channels, 20)
    fetch_s = 0.0
    with DemoServer(corpus) as server:
        sync_feeds(open_db(settings.db_path), demo_feeds(server, corpus))
        fetch_s += timed(lambda: fetch_all(settings.db_path, settings))
        posts = table_rows(settings.db_path, "items")
        first_bytes = store_bytes(settings.db_path)
        first_steps = dict(steps.seconds)
        for cycle in range(1, cycles + 1):
            server.corpus = next_state(server.corpus, cycle, 0.02, 0.005)
            fetch_s += timed(lambda: fetch_all(settings.db_path, settings))
    db = open_db(settings.db_path)
    until = utc_now() + timedelta(minutes=1)
    version = "bench"
    db.execute("INSERT INTO scores (item_id, model_version, stance, p_supportive, p_critical, "
               "p_alarmed, p_neutral, themes, targets, scored_at) SELECT id, ?, 'critical', "
               "0.1, 0.7, 0.1, 0.1, '{}', '[]', ? FROM items", [version, to_iso(utc_now())])
    digest_s = timed(lambda: (compose_changes(db, until - timedelta(hours=24), until, version),
                              fastest_by_views(db, settings, until - timedelta(hours=24), until,
                                               version)))
    db.conn.close()
    prune_s = timed(lambda: prune_old_history(settings.db_path, settings))
    versions = table_rows(settings.db_path, "item_versions")
    samples = table_rows(settings.db_path, "view_samples")
    deleted = open_db(settings.db_path).execute(
        "SELECT count(*) FROM items WHERE deleted_at IS NOT NULL").fetchone()[0]
    grown = store_bytes(settings.db_path) - first_bytes
    sizes = table_bytes(settings.db_path)
    per_sample = sizes.get("view_samples", 0) / max(samples, 1)
    per_version = sizes.get("item_versions", 0) / max(versions, 1)
    print(f"  {posts:,} posts stored ({first_bytes / posts * 1000 / 1024:,.0f} KiB per 1,000 "
          f"posts); after {cycles} re-fetches: {samples:,} view samples, {versions:,} earlier "
          f"versions, {deleted:,} posts deleted")
    line("view samples per 1,000 posts, at most", f"{per_sample * 9 * 1000 / 1024:,.0f} KiB",
         f"({per_sample:,.0f} B a sample; one per doubling of a post's age up to 72 h: <= 9)")
    line("earlier versions per 1,000 edits", f"{per_version * 1000 / 1024:,.0f} KiB",
         f"(pruned after {settings.history_retention_days} days, as are view samples)")
    per_fetch = grown / cycles / posts * 1000
    line("store growth per 1,000 posts, per re-fetch", f"{per_fetch / 1024:,.1f} KiB",
         "(2 % of posts edited and 0.5 % deleted at each: versions, index pages)")
    later = {name: seconds - first_steps.get(name, 0.0) for name, seconds in
             steps.seconds.items()}
    new_steps = sum(later.values())
    cycle_s = (fetch_s - sum(first_steps.values())) / (cycles + 1)
    detail = ", ".join(f"{name} {seconds / cycles * 1000:,.0f} ms"
                       for name, seconds in sorted(later.items()))
    line(f"new steps in one {channels}-channel fetch", f"{new_steps / cycles * 1000:,.0f} ms",
         f"= {new_steps / cycles / cycle_s * 100:.1f} % of its fetch + store "
         f"({cycle_s:.1f} s, no scoring counted)  [{detail}]")
    line("Deleted or edited + fastest by views, 24 h", f"{digest_s * 1000:,.0f} ms",
         f"(every post critical, the worst case); prune {prune_s * 1000:,.0f} ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under two minutes)")
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts to run: {','.join(PARTS)}")
    args = parser.parse_args(argv)
    chosen = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = sorted(set(chosen) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    taxonomy = load_themes(DEFAULT_THEMES_FILE)

    print(f"riftwatch bench ({'quick' if args.quick else 'full'}): {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="riftwatch-bench-") as tmp:
        folder = Path(tmp)
        for part in PARTS:
            if part in chosen:
                if part == "ingest":
                    bench_ingest(folder, args.quick)
                else:
                    {"scoring": bench_scoring, "cycle": bench_cycle, "digest": bench_digest,
                     "search": bench_search,
                     "history": bench_history}[part](folder, args.quick, taxonomy)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end (other processes share the CPUs)")


if __name__ == "__main__":
    main()
