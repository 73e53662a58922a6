"""Benchmark the default classifier on CPU: posts/s batched (sorted, bf16) vs naive fp32,
one post at a time, in the same process; prints the ratio and peak memory.

Usage: ``python -m bench.bench_classifier [--posts 200] [--threads 2] [--shared ../shared/data]``.
Measures only; never writes to the store.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from classifiers.classifier import Classifier
from classifiers.encoder import Encoder
from classifiers.heads import load_heads
from classifiers.model_files import default_model_dir
from config import load_settings
from config.settings import DEFAULT_THEMES_FILE
from config.themes import load_themes

REPO = Path(__file__).resolve().parent.parent

SAMPLE_POSTS = [  # sample text written for this benchmark, used when the shared data is absent
    "Минобороны снова отчиталось об успешном отражении атак, но бойцы с передовой пишут другое. "
    "Позиции под селом оставлены, соседние подразделения отошли без приказа.",
    "Наши штурмовые группы продвинулись ещё на два километра. Противник несёт потери.",
    "Снарядов не хватает, дроны покупаем сами. Где обещанные поставки?",
    "Сводка за сутки: на направлении продолжаются позиционные бои.",
] * 50


def load_posts(shared: Path, count: int) -> tuple[list[str], str]:
    path = shared / "milblog-criticism" / "dev.csv"
    if path.is_file():
        from classifiers.training.datasets import load_milblog

        return load_milblog(shared).texts[:count], str(path)
    return SAMPLE_POSTS[:count], "bundled sample posts"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_scoring(classifier: Classifier, posts: list[str], batch: int) -> float:
    classifier.score_texts(posts[:2])  # warm-up (oneDNN kernels)
    started = time.perf_counter()
    for start in range(0, len(posts), batch):
        classifier.score_texts(posts[start : start + batch])
    return len(posts) / (time.perf_counter() - started)


def build(settings, precision: str, batch: int, taxonomy) -> Classifier:
    model_dir = default_model_dir(settings.cache_dir, settings.model)
    encoder = Encoder(
        model_dir,
        threads=settings.threads,
        max_tokens=settings.max_tokens,
        batch_size=batch,
        precision=precision,  # type: ignore[arg-type]
    )
    return Classifier(encoder, load_heads(), taxonomy, taxonomy.stances)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--naive-posts", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()
    overrides = {"threads": args.threads} | (
        {"cache_dir": args.cache_dir} if args.cache_dir else {}
    )
    settings = load_settings(**overrides)
    taxonomy = load_themes(DEFAULT_THEMES_FILE)
    posts, source = load_posts(args.shared, args.posts)
    mean_chars = sum(map(len, posts)) / len(posts)
    print(
        f"{len(posts)} posts from {source}, mean {mean_chars:.0f} chars; "
        f"{args.threads} threads, max_tokens {settings.max_tokens}"
    )
    rates = {}
    for label, precision, batch, subset in (
        ("batched, sorted, bf16 weights", "bf16", args.batch, posts),
        ("batched, sorted, bf16 autocast", "autocast", args.batch, posts),
        ("naive: one post at a time, fp32", "fp32", 1, posts[: args.naive_posts]),
    ):
        rates[precision] = time_scoring(build(settings, precision, batch, taxonomy), subset, batch)
        print(
            f"{label:<34} {rates[precision]:6.1f} posts/s  (peak RSS so far {peak_rss_mb():.0f} MB)"
        )
    print(f"speed-up batched bf16 / naive fp32: {rates['bf16'] / rates['fp32']:.1f}x")


if __name__ == "__main__":
    main()
