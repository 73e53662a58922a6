"""The scoring step over a real SQLite store: once per item and model version, resumable."""

from __future__ import annotations

import pytest
import sqlite_utils

from classifiers.classifier import Classifier
from classifiers.scoring import score_pending
from store.scores import unscored_items

pytestmark = pytest.mark.slow

POSTS = [
    "Минобороны опять врёт о ситуации на фронте.",
    "Наши бойцы взяли ещё один опорный пункт.",
    "Снарядов нет, бойцы сами покупают дроны.",
    "Пригожин снова обвинил Шойгу в предательстве.",
    "Сводка за сутки: на Купянском направлении без изменений.",
]


def _seed(db: sqlite_utils.Database, n: int) -> None:
    db["feeds"].insert(
        {
            "id": 1,
            "name": "sample",
            "kind": "telegram",
            "role": "blogger",
            "url": "https://t.me/s/sample",
            "created_at": "2024-01-01T00:00:00Z",
        }
    )
    db["items"].insert_all(
        {
            "key": f"sample/{i}",
            "feed_id": 1,
            "text": POSTS[i % len(POSTS)],
            "fetched_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
        }
        for i in range(n)
    )


def _score_counts(db: sqlite_utils.Database) -> dict[tuple[int, str], int]:
    rows = db.execute("SELECT item_id, model_version, COUNT(*) FROM scores GROUP BY 1, 2")
    return {(item, version): count for item, version, count in rows.fetchall()}


def test_each_item_is_scored_once(db: sqlite_utils.Database, classifier: Classifier) -> None:
    _seed(db, 7)
    assert score_pending(db, classifier, batch_size=3) == 7
    assert score_pending(db, classifier, batch_size=3) == 0
    counts = _score_counts(db)
    assert len(counts) == 7
    assert set(counts.values()) == {1}
    row = db.execute(
        "SELECT stance, p_supportive + p_critical + p_alarmed + p_neutral, themes, "
        "language FROM scores WHERE item_id = 1"
    ).fetchone()
    assert row[0] in {"supportive", "critical", "alarmed", "neutral"}
    assert row[1] == pytest.approx(1.0)
    assert '"mod_criticism"' in row[2]
    assert row[3] == "ru"


def test_a_new_model_version_rescores(
    db: sqlite_utils.Database, classifier: Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(db, 4)
    score_pending(db, classifier, batch_size=4)
    monkeypatch.setattr(classifier, "model_version", classifier.model_version + "-next")
    assert score_pending(db, classifier, batch_size=4) == 4
    assert len({version for _, version in _score_counts(db)}) == 2


def test_limit_then_resume_after_a_crash(
    db: sqlite_utils.Database, classifier: Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(db, 9)
    assert score_pending(db, classifier, batch_size=2, limit=3) == 3
    real_score = classifier.score_texts
    calls = {"n": 0}

    def crash_on_second_batch(texts: list[str]):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed mid-batch")
        return real_score(texts)

    monkeypatch.setattr(classifier, "score_texts", crash_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        score_pending(db, classifier, batch_size=2)
    assert len(_score_counts(db)) == 5  # 3 + the one committed batch before the crash
    monkeypatch.setattr(classifier, "score_texts", real_score)
    assert score_pending(db, classifier, batch_size=2) == 4
    counts = _score_counts(db)
    assert len(counts) == 9
    assert set(counts.values()) == {1}
    assert unscored_items(db, classifier.model_version, 10) == []
