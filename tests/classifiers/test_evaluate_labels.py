"""Generic label metrics against a hand-computed confusion matrix."""

import pytest

from classifiers.training.evaluate import evaluate_labels


def test_metrics_match_hand_computed_confusion() -> None:
    gold = ["yes", "yes", "yes", "no", "no", "no", "no"]
    pred = ["yes", "yes", "no", "yes", "no", "no", "no"]
    m = evaluate_labels(gold, pred, ["yes", "no"])
    assert m.confusion == [[2, 1], [1, 3]]
    assert m.per_class["yes"]["precision"] == pytest.approx(2 / 3)
    assert m.per_class["yes"]["recall"] == pytest.approx(2 / 3)
    assert m.per_class["no"]["f1"] == pytest.approx(0.75)
    assert m.per_class["no"]["support"] == 4
    assert m.macro_f1 == pytest.approx((2 / 3 + 0.75) / 2)
    assert m.accuracy == pytest.approx(5 / 7)
    assert "macro-F1 0.708" in str(m)
    assert m.to_dict()["n"] == 7


def test_class_never_predicted_scores_zero_not_error() -> None:
    m = evaluate_labels(["a", "b"], ["a", "a"], ["a", "b"])
    assert m.per_class["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_length_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError):
        evaluate_labels(["a"], [])
