"""How the four stance heads' calibrated probabilities become one stance, and which way of doing
it the inner folds prefer. Works on probabilities handed in; never trains a head.

``likeliest``: critical when its head reaches its threshold, else the likeliest other stance.
``precedence``: the codebook's order: critical by its threshold, then alarmed by its own, then
the likelier of supportive and neutral (alarmed is rare, so its probability seldom leads).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from config.themes import STANCE_NAMES

RULES = ("likeliest", "precedence")
DEFAULT_RULE = "likeliest"
OTHER_STANCES = tuple(name for name in STANCE_NAMES if name != "critical")


def decide_stance(probabilities: Mapping[str, float], thresholds: Mapping[str, float],
                  rule: str = DEFAULT_RULE) -> str:
    """One post's stance from its stance probabilities and the heads' thresholds."""
    if probabilities["critical"] >= thresholds["critical"]:
        return "critical"
    if rule == "precedence":
        if probabilities["alarmed"] >= thresholds["alarmed"]:
            return "alarmed"
        return max(("supportive", "neutral"), key=lambda name: probabilities[name])
    return max(OTHER_STANCES, key=lambda name: probabilities[name])


def choose_rule(probabilities: Mapping[str, np.ndarray], thresholds: Mapping[str, float],
                gold: Sequence[str]) -> tuple[str, dict[str, float]]:
    """The rule with the best four-stance macro-F1 on these (inner out-of-fold) probabilities,
    and every rule's score; ties keep ``DEFAULT_RULE``."""
    from sklearn.metrics import f1_score

    scores = {}
    for rule in RULES:
        predicted = [decide_stance({name: float(probabilities[name][i]) for name in STANCE_NAMES},
                                   thresholds, rule) for i in range(len(gold))]
        scores[rule] = round(float(f1_score(list(gold), predicted, labels=list(STANCE_NAMES),
                                            average="macro", zero_division=0)), 4)
    best = max(RULES, key=lambda rule: (scores[rule], rule == DEFAULT_RULE))
    return best, scores
