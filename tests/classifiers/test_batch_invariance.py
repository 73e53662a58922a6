"""A post's scores do not depend on the posts scored beside it (issue 22, point 1): the same
posts scored in calls of 4 and of 24 give the same probabilities on every precision path."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.onnx_int8 import onnxruntime_version
from classifiers.precision import candidate_paths, detect_cpu
from classifiers.scoring import load_classifier
from classifiers.training.evaluate import score_all
from config import load_settings
from config.settings import DEFAULT_THEMES_FILE
from config.themes import load_themes

pytestmark = pytest.mark.slow

TOLERANCE = 1e-4
# auto, and every path this CPU runs natively (bf16 only with bf16 units: emulated it is slow)
PATHS = ["auto", *candidate_paths(detect_cpu().flags, onnxruntime_version() is not None)]


def milblog_posts(shared_data: Path, count: int = 24) -> list[str]:
    from classifiers.training.datasets import load_milblog

    return load_milblog(shared_data).texts[:count]


@pytest.mark.parametrize("precision", PATHS)
def test_scores_are_the_same_in_calls_of_4_and_of_24(
    precision: str, model_cache: Path, shared_data: Path
) -> None:
    settings = load_settings(cache_dir=model_cache, model=None, precision=precision)
    classifier = load_classifier(settings, load_themes(DEFAULT_THEMES_FILE))
    posts = milblog_posts(shared_data)

    alone_ish = score_all(classifier, posts, batch_size=4)
    together = score_all(classifier, posts, batch_size=24)

    for small, large in zip(alone_ish, together, strict=True):
        assert small.stance == large.stance
        assert small.present_themes == large.present_themes
        for name, p in small.stance_probabilities.items():
            assert p == pytest.approx(large.stance_probabilities[name], abs=TOLERANCE)
        for name, p in small.themes.items():
            assert p == pytest.approx(large.themes[name], abs=TOLERANCE)
