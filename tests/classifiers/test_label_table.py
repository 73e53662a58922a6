"""riftwatch eval's per-label table from outer folds: one four-way stance decision per post
(critical first, else the likeliest other stance), each theme by its head's threshold, the
baseline beside the model, and the annotators' kappa per label."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.training.datasets import AnnotatedPosts, Reading
from classifiers.training.evaluate import label_table, out_of_fold
from classifiers.training.protocol import Choice, OuterFold, Recipe

STANCES = ["critical", "alarmed", "supportive", "neutral", "neutral", "critical"]
THEME_T = [True, False, False, False, True, True]


def folds(probabilities: list[float], threshold: float = 0.5) -> list[OuterFold]:
    """Two outer folds over six posts, the given probabilities, one threshold."""
    choice = Choice(Recipe(("char",), 1.0), (1.0, 0.0), threshold, 0.0)
    p = np.array(probabilities)
    return [OuterFold(np.array([0, 1, 2]), choice, p[:3]),
            OuterFold(np.array([3, 4, 5]), choice, p[3:])]


def outer(model: dict[str, list[float]], baseline: dict[str, list[float]]) -> dict:
    return {label: {"model": folds(model[label]), "baseline": folds(baseline[label])}
            for label in model}


MODEL = {  # posts 0-5: right stances except post 4 (called supportive); theme t: 0, 4 found
    "critical": [0.9, 0.1, 0.2, 0.1, 0.1, 0.8],
    "alarmed": [0.1, 0.7, 0.1, 0.1, 0.1, 0.1],
    "supportive": [0.1, 0.1, 0.8, 0.2, 0.6, 0.1],
    "neutral": [0.1, 0.2, 0.1, 0.7, 0.3, 0.1],
    "t": [0.9, 0.1, 0.6, 0.1, 0.7, 0.2],
}
BASELINE = {name: [0.4] * 6 for name in MODEL}  # nothing reaches 0.5: critical never wins


def annotated() -> AnnotatedPosts:
    settled = [Reading(stance, frozenset({"t"} if has_t else set()))
               for stance, has_t in zip(STANCES, THEME_T, strict=True)]
    second = list(settled)
    second[1] = Reading("neutral", frozenset())  # the readers split on post 1
    return AnnotatedPosts([f"post {i}" for i in range(6)], ["pool"] * 6, ["random"] * 6,
                          settled, second, settled)


def test_outer_folds_give_one_four_way_stance_and_the_themes_per_post() -> None:
    decisions = out_of_fold(outer(MODEL, BASELINE), STANCES)

    assert decisions.stances["model"] == [
        "critical", "alarmed", "supportive", "neutral", "supportive", "critical"]
    assert decisions.themes["model"]["t"].tolist() == [1, 0, 1, 0, 1, 0]
    assert decisions.stances["baseline"] == ["supportive"] * 6  # ties: the first other stance


def test_the_table_scores_model_and_baseline_per_label_with_kappa() -> None:
    decisions = out_of_fold(outer(MODEL, BASELINE), STANCES)
    table = label_table("t", annotated(), decisions, list(range(6)), [], ["t"])
    rows = {row.label: row for row in table.rows}

    assert rows["critical"].model == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert rows["neutral"].model["recall"] == pytest.approx(0.5, abs=1e-4)
    assert rows["supportive"].model["precision"] == pytest.approx(0.5, abs=1e-4)
    assert rows["theme:t"].model["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert rows["theme:t"].model["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert rows["theme:t"].support == 3
    assert rows["critical"].baseline["recall"] == 0.0
    assert rows["critical"].kappa == 1.0
    assert rows["alarmed"].kappa is not None and rows["alarmed"].kappa < 1.0
    assert table.macro_f1["model_themes"] == pytest.approx(2 / 3, abs=1e-4)
    assert table.macro_f1["model_four_stances"] > table.macro_f1["baseline_four_stances"]


def test_an_untrained_theme_is_marked_and_left_out_of_the_macro_f1() -> None:
    decisions = out_of_fold(outer(MODEL, BASELINE), STANCES)
    table = label_table("t", annotated(), decisions, list(range(6)), ["u"], ["t", "u"])
    untrained = next(row for row in table.rows if row.label == "theme:u")

    assert untrained.note.startswith("untrained")
    assert untrained.model == {}
    assert table.macro_f1["model_themes"] == pytest.approx(2 / 3, abs=1e-4)
