"""Train the shipped heads (``classifiers/artifacts/heads.*``) from the labelled milblog posts.

Reproducible (fixed seeds, deterministic solvers):
``python -m classifiers.train --shared ../shared/data``.
Also holds the cross-validation used by ``classifiers.evaluate``; it never scores the store.
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.classifier import PostWindows
from classifiers.datasets import LabelledTexts, load_milblog, load_store_labels
from classifiers.encoder import Encoder, default_model_dir
from classifiers.heads import (
    ARTIFACTS_DIR,
    LinearHead,
    make_tfidf,
    max_similarity,
    pooled_features,
    prototype_texts,
    save_heads,
    theme_features,
)
from classifiers.text import clean_text
from config.settings import DEFAULT_THEMES_FILE, load_settings
from config.themes import Taxonomy, load_themes

logger = logging.getLogger(__name__)

SEED = 0
EMBEDDING_SCALE = 2.0
FULL_C = 3.0
LEXICAL_C = 10.0
MAX_NGRAMS = 30_000
MIN_DF = 2
CV_FOLDS, CV_REPEATS = 5, 3
KEYWORD_LOGIT = 2.0  # a prior, not learned: the examples contain their keywords by design
THEME_C = 100.0  # similarities span ~0.1: weak regularisation lets the slope be learned


@dataclass
class EmbeddedPosts:
    """Posts with their window embeddings, cleaned text and pooled features."""

    texts: list[str]
    cleaned: list[str]
    windows: np.ndarray
    spans: list[tuple[int, int]]
    dense: np.ndarray


def embed_posts(encoder: Encoder, texts: list[str]) -> EmbeddedPosts:
    windows = PostWindows.of(texts)
    embedded = encoder.embed(windows.texts, kind="passage")
    dense = np.stack([pooled_features(embedded[a:b], EMBEDDING_SCALE) for a, b in windows.spans])
    return EmbeddedPosts(texts, [clean_text(t) for t in texts], embedded, windows.spans, dense)


def fit_linear_head(
    cleaned: list[str], dense: np.ndarray | None, y: np.ndarray, c: float, vectorizer: Any = None
) -> tuple[Any, LinearHead]:
    """Fit tf-idf (unless given) and a balanced logistic regression on [tf-idf | dense]."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    if vectorizer is None:
        vectorizer = make_tfidf(min_df=MIN_DF, max_features=MAX_NGRAMS).fit(cleaned)
    rows = vectorizer.transform(cleaned)
    features = rows if dense is None else sp.hstack([rows, sp.csr_matrix(dense)]).tocsr()
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced", random_state=SEED)
    model.fit(features, y)
    return vectorizer, LinearHead(
        model.coef_.ravel().astype(np.float64), float(model.intercept_[0])
    )


def cross_validated_critical(
    posts: EmbeddedPosts, y: np.ndarray, use_dense: bool = True, repeats: int = CV_REPEATS
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Out-of-fold P(critical), one (indices, probabilities) pair per fold, 5-fold x ``repeats``."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    folds = []
    splitter = RepeatedStratifiedKFold(n_splits=CV_FOLDS, n_repeats=repeats, random_state=SEED)
    for train_idx, test_idx in splitter.split(posts.cleaned, y):
        dense = posts.dense if use_dense else None
        vectorizer, head = fit_linear_head(
            [posts.cleaned[i] for i in train_idx],
            None if dense is None else dense[train_idx],
            y[train_idx],
            FULL_C if use_dense else LEXICAL_C,
        )
        rows = vectorizer.transform([posts.cleaned[i] for i in test_idx])
        folds.append(
            (test_idx, head.predict_proba(rows, None if dense is None else dense[test_idx]))
        )
    return folds


def theme_similarity(encoder: Encoder, taxonomy: Taxonomy, posts: EmbeddedPosts) -> np.ndarray:
    """(posts, themes): best window similarity to each theme's description and examples."""
    prototypes = [
        encoder.embed(prototype_texts(t.description, t.examples), kind="query")
        for t in taxonomy.themes
    ]
    per_window = max_similarity(posts.windows, prototypes)
    return np.stack([per_window[a:b].max(axis=0) for a, b in posts.spans])


def example_calibration_rows(encoder: Encoder, taxonomy: Taxonomy) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out rows from the taxonomy itself: each theme example (as a passage) against
    every theme's prototypes (its own theme without it), plus stance examples of non-war
    reportage and cheering as negatives for every theme. Returns (features, labels)."""
    from config.themes import STANCE_NAMES

    prototypes = [prototype_texts(t.description, t.examples) for t in taxonomy.themes]
    embedded = [encoder.embed(texts, kind="query") for texts in prototypes]
    rows, labels = [], []
    for t, theme in enumerate(taxonomy.themes):
        passages = encoder.embed(theme.examples, kind="passage")
        for j in range(len(theme.examples)):
            own = np.delete(embedded[t], j + 1, axis=0)
            protos = [own if k == t else embedded[k] for k in range(len(embedded))]
            rows.append(max_similarity(passages[j : j + 1], protos)[0])
            labels.append([int(k == t) for k in range(len(embedded))])
    negatives = [
        ex
        for st in taxonomy.stances
        if st.name in (STANCE_NAMES[0], STANCE_NAMES[3])
        for ex in st.examples
    ]
    if negatives:
        sims = max_similarity(encoder.embed(negatives, kind="passage"), embedded)
        rows.extend(sims)
        labels.extend([[0] * len(embedded)] * len(negatives))
    similarity = np.array(rows)
    features = theme_features(similarity, np.zeros_like(similarity))[:, :, :2]
    return features.reshape(-1, 2), np.array(labels).reshape(-1)


def fit_theme_calibration(rows: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weights for [similarity, relative similarity], the fixed keyword weight, and a bias."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=THEME_C, max_iter=5000, random_state=SEED).fit(rows, y)
    return np.concatenate([model.coef_.ravel(), [KEYWORD_LOGIT], model.intercept_]).astype(
        np.float64
    )


def train(
    shared_dir: Path,
    out_dir: Path = ARTIFACTS_DIR,
    cache_dir: Path | None = None,
    themes_file: Path = DEFAULT_THEMES_FILE,
    labels_db: Path | None = None,
) -> dict:
    """Train both critical heads and the theme calibration; write artefacts; return the meta.

    ``labels_db`` (off by default) adds the analysts' /label stance feedback from that store
    to the milblog posts, for the heads and for the cross-validation alike.
    """
    from sklearn.metrics import f1_score

    settings = load_settings(**({"cache_dir": cache_dir} if cache_dir else {}))
    encoder = Encoder(
        default_model_dir(settings.cache_dir, None),
        threads=settings.threads,
        max_tokens=settings.max_tokens,
        batch_size=settings.batch_size,
    )
    taxonomy = load_themes(themes_file)
    data = load_milblog(shared_dir)
    trained_on = "milblog-criticism/dev.csv (369 posts, is_criticism)"
    if labels_db is not None:
        extra = load_store_labels(labels_db)
        data = LabelledTexts(data.texts + extra.texts, data.labels + extra.labels,
                             data.groups + extra.groups)
        trained_on += f" + {len(extra.texts)} /label stance labels from {labels_db.name}"
    y = np.array([label == "critical" for label in data.labels], dtype=int)
    started = time.perf_counter()
    posts = embed_posts(encoder, data.texts)
    logger.info("embedded %d posts in %.1fs", len(y), time.perf_counter() - started)

    def cv_f1(use_dense: bool) -> list[float]:
        return [
            float(f1_score(y[idx], p >= 0.5, average="macro"))
            for idx, p in cross_validated_critical(posts, y, use_dense)
        ]

    cv_full, cv_lexical = cv_f1(True), cv_f1(False)
    vectorizer, full = fit_linear_head(posts.cleaned, posts.dense, y, FULL_C)
    _, lexical = fit_linear_head(posts.cleaned, None, y, LEXICAL_C, vectorizer=vectorizer)
    calibration = fit_theme_calibration(*example_calibration_rows(encoder, taxonomy))
    meta = {
        "encoder_fingerprint": encoder.fingerprint,
        "encoder": str(encoder.name),
        "embedding_scale": EMBEDDING_SCALE,
        "features": "char_wb 2-5 tf-idf (sublinear, min_df 2, top 30k) + 2 x [mean, max] of "
        "window embeddings (passage:, bf16)",
        "full_C": FULL_C,
        "lexical_C": LEXICAL_C,
        "seed": SEED,
        "trained_on": trained_on,
        "theme_calibration": "logistic on [similarity, similarity - mean] fitted leave-one-out "
        "on the taxonomy's own examples; keyword evidence adds a fixed "
        f"{KEYWORD_LOGIT} logit per unit",
        "cv_macro_f1_full": [round(float(np.mean(cv_full)), 4), round(float(np.std(cv_full)), 4)],
        "cv_macro_f1_lexical": [
            round(float(np.mean(cv_lexical)), 4),
            round(float(np.std(cv_lexical)), 4),
        ],
    }
    vocab = [str(g) for g in vectorizer.get_feature_names_out()]
    save_heads(out_dir, vocab, vectorizer.idf_, full, lexical, calibration, meta)
    return meta


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--shared",
        type=Path,
        default=Path("../shared/data"),
        help="the shared data folder holding milblog-criticism/dev.csv",
    )
    parser.add_argument("--out", type=Path, default=ARTIFACTS_DIR, help="where the artefacts go")
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="model cache (default: settings)"
    )
    parser.add_argument(
        "--labels", type=Path, default=None, metavar="DB",
        help="also train on the /label stance feedback stored in this riftwatch store",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    meta = train(args.shared, args.out, args.cache_dir, labels_db=args.labels)
    print(
        f"critical head CV macro-F1 {meta['cv_macro_f1_full']}, lexical "
        f"{meta['cv_macro_f1_lexical']}; artefacts in {args.out}"
    )


if __name__ == "__main__":
    main()
