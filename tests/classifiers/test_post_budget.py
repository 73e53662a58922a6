"""What one post may cost the encoder: a 100,000-character post is embedded within the window
budget, and every window of a batch goes through the encoder once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from classifiers.classifier import Classifier
from classifiers.encoder import Kind
from classifiers.text import sentence_windows

pytestmark = pytest.mark.slow

LONG = ("Минобороны опять молчит о флангах, снарядов нет. " * 2100)[:100_000]
MAX_WINDOWS, WINDOW_CHARS = 8, 360  # sentence_windows' defaults: the per-post budget
SHORT = "Снарядов не хватает третью неделю, дроны покупаем сами."


def test_a_100k_post_costs_at_most_the_budget_and_nothing_is_embedded_twice(
    classifier: Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    embed = classifier.encoder.embed

    def recording(texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        calls.append(list(texts))
        return embed(texts, kind)

    monkeypatch.setattr(classifier.encoder, "embed", recording)
    results = classifier.score_texts([LONG, SHORT])
    assert len(results) == 2
    assert len(calls) == 1, "one encoder pass per batch: no post is embedded twice"
    (sent,) = calls
    long_windows = sentence_windows(LONG)
    assert sent == [*long_windows, *sentence_windows(SHORT)]
    assert len(long_windows) <= MAX_WINDOWS
    assert sum(map(len, long_windows)) <= MAX_WINDOWS * WINDOW_CHARS  # of 100,000 characters
    tokens = classifier.encoder.token_lengths(long_windows)
    assert sum(min(n, classifier.encoder.max_tokens) for n in tokens) <= MAX_WINDOWS * 128
