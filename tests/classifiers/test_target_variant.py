"""A label's target variant: the inner folds keep whichever target (the label's own, or the
one with some posts relabelled by their original labelling) the fixed criterion prefers, and
the variant never shows up as a label of its own."""

from __future__ import annotations

import random

import numpy as np

from classifiers.features import PostFeatures
from classifiers.training import protocol
from classifiers.training.protocol import Recipe, TargetVariant
from classifiers.training.train import CRITICAL_VARIANT, critical_variant

CANDIDATES = {"model": [Recipe(("char",), 3.0)], "baseline": [Recipe(("char",), 1.0)]}


def posts_with_a_second_labelling(n: int = 120, seed: int = 0
                                  ) -> tuple[PostFeatures, dict[str, np.ndarray], TargetVariant]:
    """The first half of the posts carry a second labelling. Elsewhere critical follows one
    phrase in both labellings; in the first half the annotation says never critical, while
    the original labels follow a second phrase, which a head can learn only from them."""
    rng = random.Random(seed)
    texts, own, original = [], [], []
    relabelled = np.arange(n) < n // 2
    for i in range(n):
        marked = i % 2 == 0
        phrase = "нет снарядов" if relabelled[i] else "генералы провалили"
        words = ["сводка за сутки", "погода"] + ([phrase] if marked else [])
        texts.append(" ".join(rng.sample(words, len(words))) + f" пост {i}")
        own.append(int(marked and not relabelled[i]))
        original.append(int(marked))
    features = PostFeatures.of(texts, np.random.default_rng(seed).normal(size=(n, 4)))
    ys = {"critical": np.array(own), "other": np.array([i % 3 == 0 for i in range(n)], int)}
    variant = TargetVariant("critical", "original", np.array(original), relabelled)
    return features, ys, variant


def test_the_variant_trains_the_head_when_its_labels_teach_what_the_criterion_asks() -> None:
    features, ys, variant = posts_with_a_second_labelling()

    choices, heads = protocol.choose_and_fit_labels(CANDIDATES, features, ys, ys["critical"],
                                                    [variant])

    assert set(choices) == set(heads) == {"critical", "other"}
    assert {choice.target for choice in choices["critical"].values()} == {"original"}
    assert choices["other"]["model"].target == ""
    probability = heads["critical"]["model"].probability(features)
    learned = probability >= choices["critical"]["model"].threshold
    assert protocol.binary_macro_f1(variant.y, learned.astype(int)) > 0.9


def test_a_variant_that_changes_nothing_keeps_the_labels_own_target() -> None:
    features, ys, _ = posts_with_a_second_labelling()
    same = TargetVariant("critical", "original", ys["critical"].copy(),
                         np.ones(len(ys["critical"]), dtype=bool))

    choices, _ = protocol.choose_and_fit_labels(CANDIDATES, features, ys, ys["critical"], [same])

    assert {choice.target for choice in choices["critical"].values()} == {""}


def test_nested_folds_choose_the_target_on_training_posts_and_report_only_labels() -> None:
    features, ys, variant = posts_with_a_second_labelling()

    outer = protocol.nested_cv_labels(CANDIDATES, features, ys, ys["critical"], folds=3,
                                      variants=[variant])

    assert set(outer) == {"critical", "other"}
    folds = outer["critical"]["model"]
    assert [fold.choice.target for fold in folds] == ["original"] * 3
    assert all(len(fold.choice.inner_probability) == len(ys["critical"]) - len(fold.test_index)
               for fold in folds if fold.choice.inner_probability is not None)
    tested = np.sort(np.concatenate([fold.test_index for fold in folds]))
    assert tested.tolist() == list(range(len(ys["critical"])))


def test_the_critical_variant_relabels_only_the_posts_with_an_original_label() -> None:
    annotated = np.array([1, 0, 1, 0])

    variant = critical_variant(annotated, [None, True, False, None])

    assert variant is not None
    assert (variant.label, variant.name) == ("critical", CRITICAL_VARIANT)
    assert variant.y.tolist() == [1, 1, 0, 0]
    assert variant.rows.tolist() == [False, True, True, False]
    assert annotated.tolist() == [1, 0, 1, 0]
    assert critical_variant(annotated, [None] * 4) is None
    assert critical_variant(annotated, []) is None
