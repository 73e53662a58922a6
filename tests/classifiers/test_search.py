"""Semantic search with the packaged model (issue 21, part 2): scoring stores each post's vector
from the windows it embedded, a Russian or English query finds the post it is about, and
reindex gives a post scored before search the same vector scoring would have."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sqlite_utils

from classifiers.classifier import Classifier
from classifiers.reindex import reindex_vectors
from classifiers.scoring import PostScorer, score_pending
from digest.search import SearchFilters, search_text
from store.post_vectors import stored_vector, vector_count

pytestmark = pytest.mark.slow

SHORTAGE = "Снарядов нет, дронов нет, связи нет. Бойцы сами собирают деньги на всё."
WAGNER = ("Армейцы обвиняют Вагнер во лжи, Вагнер обвиняет армию в бегстве. Пока генералы "
          "делят славу, противник заходит во фланг.")
POSTS = [
    "Расчёт ПВО сбил беспилотник над Белгородской областью, пострадавших нет.",
    SHORTAGE,
    "Гуманитарный конвой доставил продукты и медикаменты в прифронтовые сёла.",
    WAGNER,
    "Сводка за сутки: на Запорожском направлении без существенных изменений.",
]


def _seed(db: sqlite_utils.Database) -> None:
    db["feeds"].insert({"id": 1, "name": "sample", "kind": "telegram", "role": "blogger",
                        "url": "https://t.me/s/sample", "created_at": "2026-11-01T00:00:00Z"})
    db["items"].insert_all({"key": f"sample/{i}", "feed_id": 1, "text": text,
                            "url": f"https://t.me/sample/{i}",
                            "published_at": "2026-11-20T00:00:00Z",
                            "fetched_at": "2026-11-20T00:00:00Z",
                            "updated_at": "2026-11-20T00:00:00Z"}
                           for i, text in enumerate(POSTS))


def _unit(item_bytes: bytes) -> np.ndarray:
    vector = np.frombuffer(item_bytes, dtype=np.int8).astype(np.float32)
    return vector / np.linalg.norm(vector)


def test_scoring_stores_vectors_that_queries_in_either_language_find(
    db: sqlite_utils.Database, db_path: Path, classifier: Classifier,
) -> None:
    _seed(db)
    assert score_pending(db, classifier, batch_size=8) == len(POSTS)
    assert vector_count(db, classifier.vector_space) == len(POSTS)

    def first(query: str) -> str:
        hits = search_text(db, db_path, classifier, query, SearchFilters(limit=3))
        return hits[0].post.quote

    assert first("нет снарядов") == SHORTAGE
    assert first("Wagner accuses the army of lying") == WAGNER

    scored = {item_id: stored_vector(db, item_id) for item_id in range(1, len(POSTS) + 1)}
    db.execute("DELETE FROM post_vectors")
    db.conn.commit()
    assert reindex_vectors(db, PostScorer(classifier, 10_000), batch_size=2) == len(POSTS)
    assert reindex_vectors(db, PostScorer(classifier, 10_000)) == 0  # nothing left to do
    for item_id, (space, vector) in scored.items():  # type: ignore[misc]
        again = stored_vector(db, item_id)
        assert again is not None and again[0] == space == classifier.vector_space
        assert float(_unit(vector) @ _unit(again[1])) > 0.999
