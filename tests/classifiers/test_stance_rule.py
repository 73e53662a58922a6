"""The stance decision: critical first by its threshold; then either the likeliest other stance
or the codebook's precedence (alarmed by its own threshold); the inner folds choose which."""

from __future__ import annotations

import numpy as np

from classifiers.stance_rule import choose_rule, decide_stance

THRESHOLDS = {"critical": 0.5, "alarmed": 0.2, "supportive": 0.5, "neutral": 0.5}


def test_critical_first_then_each_rule() -> None:
    worried = {"critical": 0.3, "alarmed": 0.25, "supportive": 0.3, "neutral": 0.45}
    assert decide_stance({**worried, "critical": 0.6}, THRESHOLDS, "precedence") == "critical"
    assert decide_stance(worried, THRESHOLDS, "likeliest") == "neutral"
    assert decide_stance(worried, THRESHOLDS, "precedence") == "alarmed"
    calm = {**worried, "alarmed": 0.1}
    assert decide_stance(calm, THRESHOLDS, "precedence") == "neutral"


def test_the_rule_that_scores_better_on_the_given_posts_is_chosen() -> None:
    gold = ["alarmed", "neutral", "supportive", "critical"] * 5
    alarmed_low_but_over_its_threshold = {
        "critical": np.array([0.1, 0.1, 0.1, 0.9] * 5),
        "alarmed": np.array([0.3, 0.05, 0.05, 0.1] * 5),
        "supportive": np.array([0.1, 0.1, 0.8, 0.1] * 5),
        "neutral": np.array([0.6, 0.8, 0.1, 0.1] * 5),
    }
    rule, scores = choose_rule(alarmed_low_but_over_its_threshold, THRESHOLDS, gold)
    assert rule == "precedence"
    assert scores["precedence"] == 1.0
    assert scores["likeliest"] < 1.0

    alarmed_everywhere = {**alarmed_low_but_over_its_threshold,
                          "alarmed": np.array([0.3, 0.3, 0.3, 0.1] * 5)}
    rule, _ = choose_rule(alarmed_everywhere, THRESHOLDS, gold)
    assert rule == "likeliest"
