"""The scoring pipeline step: load the classifier once per process and score stored items
that have no ``scores`` row for its model version, one committed batch at a time.

Never fetches and never composes digests; safe to stop and resume at any batch.
"""

from __future__ import annotations

import json
import logging
import threading

import numpy as np
import sqlite_utils

from classifiers.classifier import Classifier, ScoreResult
from classifiers.entity_head import load_entity_head
from classifiers.heads import load_heads
from classifiers.precision import load_encoder
from config.settings import DEFAULT_THEMES_FILE, Settings
from config.themes import Taxonomy, load_themes
from store.models import to_iso, utc_now
from store.scores import PROBABILITY_COLUMNS, save_scored_batch, unscored_items

logger = logging.getLogger(__name__)

_CACHE: dict[tuple, Classifier] = {}
_CACHE_LOCK = threading.Lock()


def load_classifier(settings: Settings, taxonomy: Taxonomy) -> Classifier:
    """The classifier for these settings and taxonomy, built once per process and reused.

    The model is ``settings.model`` when set (any local ``transformers`` directory), else the
    packaged e5-small converted into ``settings.cache_dir`` on first use; its arithmetic is
    ``settings.precision`` (``auto``: chosen for this CPU, see ``classifiers.precision``).
    """
    key = (
        str(settings.model),
        settings.encoder_depth,
        str(settings.cache_dir),
        settings.threads,
        settings.max_tokens,
        settings.batch_size,
        settings.precision,
        settings.critical_threshold,
        taxonomy.model_dump_json(),
    )
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = build_classifier(settings, taxonomy)
            logger.info("classifier ready: %s", _CACHE[key].model_version)
        return _CACHE[key]


def build_classifier(settings: Settings, taxonomy: Taxonomy) -> Classifier:
    """A new classifier for these settings (``load_classifier`` keeps one per process)."""
    encoder = load_encoder(settings)
    default_stances = load_themes(DEFAULT_THEMES_FILE).stances
    return Classifier(
        encoder, load_heads(), taxonomy, default_stances, settings.critical_threshold,
        load_entity_head(),
    )


class PostScorer:
    """The classifier as riftwatch feeds it posts: each text cut to ``max_post_chars`` first,
    so one enormous post costs no more than a long one. The one place posts are capped."""

    def __init__(self, classifier: Classifier, max_post_chars: int) -> None:
        self.classifier = classifier
        self.max_post_chars = max_post_chars
        self.model_version = classifier.model_version

    @property
    def vector_space(self) -> str:
        return self.classifier.vector_space

    def score_texts(self, texts: list[str]) -> list[ScoreResult]:
        return self.classifier.score_texts([text[: self.max_post_chars] for text in texts])

    def passage_vectors(self, texts: list[str]) -> np.ndarray:
        """The vectors ``score_texts`` stores for these texts, without the heads (reindex)."""
        return self.classifier.passage_vectors([text[: self.max_post_chars] for text in texts])


def load_post_scorer(settings: Settings, taxonomy: Taxonomy) -> PostScorer:
    """``load_classifier``'s classifier behind the ``max_post_chars`` cap of these settings."""
    return PostScorer(load_classifier(settings, taxonomy), settings.max_post_chars)


def score_row(item_id: int, model_version: str, result: ScoreResult, scored_at: str) -> dict:
    """One ``scores`` table row for a result."""
    return {
        "item_id": item_id,
        "model_version": model_version,
        "stance": result.stance,
        **{column: result.stance_probabilities[stance]
           for stance, column in PROBABILITY_COLUMNS.items()},
        "themes": json.dumps(result.themes, ensure_ascii=False),
        "themes_present": json.dumps(result.present_themes, ensure_ascii=False),
        "targets": json.dumps(result.targets, ensure_ascii=False),
        "evidence": result.evidence,
        "language": result.language,
        "scored_at": scored_at,
    }


def score_pending(
    db: sqlite_utils.Database,
    classifier: Classifier | PostScorer,
    batch_size: int = Settings.model_fields["score_batch_posts"].default,
    limit: int | None = None,
) -> int:
    """Score unscored items in batches of ``batch_size`` posts (the ``score_batch_posts``
    setting; the pipeline passes the configured value), committing each; return how many were
    scored.

    A crash loses at most the batch in flight; the next call picks up exactly where the last
    committed batch ended (``INSERT OR IGNORE`` guards against a second process racing).
    """
    version = classifier.model_version
    done = 0
    while limit is None or done < limit:
        size = batch_size if limit is None else min(batch_size, limit - done)
        batch = unscored_items(db, version, size)
        if not batch:
            break
        results = classifier.score_texts([text for _, text in batch])
        scored_at = str(to_iso(utc_now()))
        rows = [
            score_row(item_id, version, result, scored_at)
            for (item_id, _), result in zip(batch, results, strict=True)
        ]
        save_scored_batch(db, rows, classifier.vector_space,
                          [(row["item_id"], result.vector)
                           for row, result in zip(rows, results, strict=True)
                           if result.vector is not None])
        done += len(rows)
        logger.debug("scored %d items (%d so far) with %s", len(rows), done, version)
    if done:
        logger.info("scored %d items with %s", done, version)
    return done
