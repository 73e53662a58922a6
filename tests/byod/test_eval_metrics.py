"""eval --data numbers against a confusion matrix computed by hand on a tiny labelled file.

The predictions here come from the file's own `stance` / `theme_*` columns through the real
--positive grammar (a theme read as present from 0.5, as a head's threshold might be), so the
numbers are exact; test_score_eval.py runs the real model."""

from __future__ import annotations

from pathlib import Path

import pytest

from riftwatch.byod.evaluate_file import evaluate_predictions, read_label
from riftwatch.byod.positive import PositiveError, default_positive, parse_positive
from riftwatch.byod.readers import read_records

THEMES = ["mod_criticism", "wagner_vs_army", "kremlin_criticism"]
# 1/0, true/false, TRUE/FALSE, yes/no
SPELLINGS = ["label_num", "label_word", "label_caps", "label_yesno"]


def gold_and_predicted(path: Path, column: str, positive: str) -> tuple[list[str], list[str]]:
    rule = parse_positive(positive, THEMES)
    gold, predicted, task = [], [], None
    for record in read_records(path):
        task, label = read_label(record.fields[column], task)
        gold.append(label)
        themes = [name for name in ("mod_criticism", "wagner_vs_army")
                  if float(record.fields[f"theme_{name}"]) >= 0.5]
        predicted.append("yes" if rule.matches(record.fields["stance"], themes) else "no")
    return gold, predicted


@pytest.mark.parametrize("column", SPELLINGS)
def test_stance_only_rule_matches_the_hand_computed_matrix(byod_data: Path, column: str) -> None:
    # Rows 1, 2, 6 are predicted critical; rows 1-5 are labelled yes.
    # TP=2 (1, 2)  FN=3 (3, 4, 5)  FP=1 (6)  TN=4 (7-10)
    metrics = evaluate_predictions(*gold_and_predicted(byod_data / "labelled_tiny.csv", column,
                                                       "critical"), "yes/no")
    assert metrics.labels == ["yes", "no"]
    assert metrics.confusion == [[2, 3], [1, 4]]
    yes, no = metrics.per_class["yes"], metrics.per_class["no"]
    assert (yes["precision"], yes["recall"], yes["support"]) == (pytest.approx(2 / 3), 0.4, 5)
    assert yes["f1"] == pytest.approx(0.5)
    assert (no["precision"], no["recall"]) == (pytest.approx(4 / 7), 0.8)
    assert no["f1"] == pytest.approx(2 / 3)
    assert metrics.macro_f1 == pytest.approx((0.5 + 2 / 3) / 2)
    assert metrics.accuracy == pytest.approx(0.6)


@pytest.mark.parametrize("column", SPELLINGS)
def test_union_rule_matches_the_hand_computed_matrix(byod_data: Path, column: str) -> None:
    # critical, or wagner_vs_army >= 0.5: rows 1, 2, 4, 6, 7 predicted yes.
    # TP=3 (1, 2, 4)  FN=2 (3, 5)  FP=2 (6, 7)  TN=3 (8, 9, 10)
    metrics = evaluate_predictions(*gold_and_predicted(
        byod_data / "labelled_tiny.csv", column, "critical|theme:wagner_vs_army"), "yes/no")
    assert metrics.confusion == [[3, 2], [2, 3]]
    assert metrics.per_class["yes"]["precision"] == pytest.approx(0.6)
    assert metrics.per_class["no"]["recall"] == pytest.approx(0.6)
    assert metrics.macro_f1 == pytest.approx(0.6)
    # One more theme in the union: row 3 (mod_criticism 0.8) becomes a true positive.
    wider = evaluate_predictions(*gold_and_predicted(
        byod_data / "labelled_tiny.csv", column,
        "critical | theme:wagner_vs_army | theme:mod_criticism"), "yes/no")
    assert wider.confusion == [[4, 1], [2, 3]]


def test_label_spellings_and_mistakes() -> None:
    for word, expected in [("1", "yes"), ("0", "no"), ("true", "yes"), ("FALSE", "no"),
                           ("TRUE", "yes"), ("yes", "yes"), ("No", "no")]:
        assert read_label(word, None) == ("yes/no", expected)
    assert read_label("Critical", None) == ("stance", "critical")
    with pytest.raises(ValueError, match="label 'maybe' is not yes/no"):
        read_label("maybe", "yes/no")
    with pytest.raises(ValueError, match="is not a stance name"):
        read_label("1", "stance")


def test_positive_grammar_and_defaults() -> None:
    rule = parse_positive("Critical|theme:mod_criticism", THEMES)
    assert rule.stances == {"critical"}
    assert rule.themes == {"mod_criticism"}
    assert rule.matches("neutral", ["mod_criticism"])
    assert rule.matches("critical", [])
    assert not rule.matches("neutral", ["kremlin_criticism"])
    with pytest.raises(PositiveError, match="'theme:weather' in --positive"):
        parse_positive("critical|theme:weather", THEMES)
    with pytest.raises(PositiveError, match="'angry'"):
        parse_positive("angry", THEMES)
    assert default_positive("is_criticism") == "critical"
    assert default_positive("hand_label") == "critical"
