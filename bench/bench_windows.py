"""Speed against quality for the critical head: which windows of a post are embedded, and how.

For each variant it prints tokens embedded per post, embedding posts/s (first 128 milblog
posts, 2 threads, same process) and the head's cross-validated macro-F1 (5-fold x 3, head
retrained per fold, as ``classifiers.train``). Measures only; never writes artefacts.
Usage: ``python bench/bench_windows.py [--int8] [--shared ../shared/data]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from classifiers.classifier import PostWindows  # noqa: E402
from classifiers.datasets import load_milblog  # noqa: E402
from classifiers.encoder import Encoder, default_model_dir  # noqa: E402
from classifiers.heads import CompiledTaxonomy, pooled_features  # noqa: E402
from classifiers.text import clean_text  # noqa: E402
from classifiers.train import (  # noqa: E402
    EMBEDDING_SCALE,
    EmbeddedPosts,
    cross_validated_critical,
)
from config import load_settings  # noqa: E402
from config.settings import DEFAULT_THEMES_FILE  # noqa: E402
from config.themes import load_themes  # noqa: E402

Selection = Callable[[int, int], list[int]]  # (first window, end) -> window indices kept
TIMED_POSTS = 128


def first_windows(k: int) -> Selection:
    return lambda a, b: list(range(a, min(b, a + k)))


def first_and_cued(k: int, cues: list[int]) -> Selection:
    """The first window plus the k - 1 others with most theme keywords and target aliases."""

    def select(a: int, b: int) -> list[int]:
        return [a, *sorted(sorted(range(a + 1, b), key=lambda j: -cues[j])[: k - 1])]

    return select


def cue_count(compiled: CompiledTaxonomy, text: str) -> int:
    """Theme keyword hits plus target aliases named in ``text``."""
    lowered = text.lower()
    hits = sum(len(p.findall(lowered)) for p in compiled.theme_keywords if p is not None)
    return hits + len(compiled.targets_in(text))


def cv_macro_f1(texts: list[str], y: np.ndarray, embedded: np.ndarray,
                spans: list[tuple[int, int]], select: Selection) -> tuple[float, float]:
    from sklearn.metrics import f1_score

    dense = np.stack([pooled_features(embedded[select(a, b)], EMBEDDING_SCALE)
                      for a, b in spans])
    posts = EmbeddedPosts(texts, [clean_text(t) for t in texts], embedded, spans, dense)
    scores = [f1_score(y[idx], p >= 0.5, average="macro")
              for idx, p in cross_validated_critical(posts, y, True)]
    return float(np.mean(scores)), float(np.std(scores))


def embedding_rate(encoder: Encoder, windows: list[str], spans: list[tuple[int, int]],
                   select: Selection) -> float:
    timed = [windows[j] for a, b in spans[:TIMED_POSTS] for j in select(a, b)]
    encoder.embed(timed[:16])  # warm-up
    started = time.perf_counter()
    for start in range(0, len(timed), 75):  # about 16 posts' windows per call, as in scoring
        encoder.embed(timed[start : start + 75])
    return min(TIMED_POSTS, len(spans)) / (time.perf_counter() - started)


def int8_encoder(model_dir: Path) -> Encoder:
    """fp32 e5-small with every Linear dynamically quantised to int8, per output channel."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    encoder = Encoder(model_dir, threads=2, max_tokens=512, precision="fp32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        encoder.model = quantize_dynamic(
            encoder.model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8
        )
    return encoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--int8", action="store_true", help="also dynamic int8 (all windows)")
    args = parser.parse_args()
    settings = load_settings(model=None)
    model_dir = default_model_dir(settings.cache_dir, None)
    data = load_milblog(args.shared)
    y = np.array([label == "critical" for label in data.labels], dtype=int)
    windows = PostWindows.of(data.texts)
    compiled = CompiledTaxonomy.from_taxonomy(load_themes(DEFAULT_THEMES_FILE))
    cues = [cue_count(compiled, w) for w in windows.texts]
    encoder = Encoder(model_dir, threads=2, max_tokens=512, precision="bf16")
    lengths = np.array(encoder.token_lengths(windows.texts))
    embedded = encoder.embed(windows.texts)
    variants: list[tuple[str, Encoder, np.ndarray, Selection]] = [
        ("all windows (<= 8 x 360 chars), bf16: shipped", encoder, embedded, first_windows(8)),
        *[(f"first {k} windows", encoder, embedded, first_windows(k)) for k in (2, 3, 4)],
        *[(f"first + {k - 1} most-cued windows", encoder, embedded, first_and_cued(k, cues))
          for k in (2, 3, 4)],
    ]
    if args.int8:
        quantised = int8_encoder(model_dir)
        variants.append(("all windows, int8 per-channel", quantised,
                         quantised.embed(windows.texts), first_windows(8)))
    print(f"{len(y)} milblog posts, {len(windows.texts)} windows; "
          f"load average {os.getloadavg()[0]:.1f} at start")
    print(f"{'variant':<48} {'tokens/post':>11} {'posts/s':>8} {'CV macro-F1':>16}")
    for label, model, vectors, select in variants:
        tokens = np.mean([lengths[select(a, b)].sum() for a, b in windows.spans])
        rate = embedding_rate(model, windows.texts, windows.spans, select)
        mean, std = cv_macro_f1(data.texts, y, vectors, windows.spans, select)
        print(f"{label:<48} {tokens:11.0f} {rate:8.1f} {mean:9.3f} ± {std:.3f}", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end; posts/s is embedding only")


if __name__ == "__main__":
    main()
