"""The nested protocol: outer folds choose nothing, choices come from training posts only,
calibration and thresholds behave, and shipped heads round-trip through the artefact files."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score, f1_score

from classifiers.features import PostFeatures, head_probabilities
from classifiers.heads import load_heads, save_heads
from classifiers.training import protocol
from classifiers.training.evaluate import cohens_kappa
from classifiers.training.protocol import (
    Labelled,
    Recipe,
    best_threshold,
    binary_macro_f1,
    brier_score,
    choose_recipes,
    nested_cv,
    recipes_for,
    reliability,
)

CRITICAL_WORDS = ["генералы провалили", "министерство врёт", "бардак в штабе", "никто не ответит"]
OTHER_WORDS = ["наши герои наступают", "сводка за сутки", "враг бежит", "погода в Москве"]


def synthetic_posts(n: int = 80, seed: int = 0) -> Labelled:
    """Posts whose label follows their phrases (with some noise), and random embeddings."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        critical = i % 2 == 0
        words = CRITICAL_WORDS if critical != (rng.random() < 0.1) else OTHER_WORDS
        texts.append(" ".join(rng.choice(words) for _ in range(4)) + f" пост {i}")
        labels.append(int(critical))
    dense = np.random.default_rng(seed).normal(size=(n, 8))
    return Labelled(PostFeatures.of(texts, dense), np.array(labels))


def test_binary_macro_f1_is_sklearn_macro_f1() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        y, predicted = rng.integers(0, 2, 30), rng.integers(0, 2, 30)
        assert binary_macro_f1(y, predicted) == pytest.approx(
            f1_score(y, predicted, average="macro", zero_division=0)
        )


def test_best_threshold_separates_a_separable_set() -> None:
    y = np.array([0, 0, 0, 1, 1, 1])
    threshold, f1 = best_threshold(np.array([0.1, 0.3, 0.35, 0.62, 0.7, 0.9]), y)
    assert 0.35 < threshold <= 0.62
    assert f1 == 1.0


def test_nested_cv_tests_every_post_once_per_repeat_and_never_trains_on_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    posts = synthetic_posts()
    features, y = posts.features, posts.y
    extra = synthetic_posts(10, seed=5)
    seen_by_choice: list[set[str]] = []
    real_choose = protocol.choose_recipes

    def recording_choose(candidates, train, examples):  # type: ignore[no-untyped-def]
        seen_by_choice.append(set(train.features.cleaned))
        assert examples is extra
        return real_choose(candidates, train, examples)

    monkeypatch.setattr(protocol, "choose_recipes", recording_choose)
    candidates = {
        "all": recipes_for([("char",), ("char", "lemma")], (1.0, 10.0), examples=(False, True))
    }
    outer = nested_cv(candidates, posts, extra, folds=4, repeats=2)["all"]

    assert len(outer) == 8
    for repeat in (outer[:4], outer[4:]):
        tested = np.sort(np.concatenate([fold.test_index for fold in repeat]))
        assert tested.tolist() == list(range(len(y)))
    for fold, inner_posts in zip(outer, seen_by_choice, strict=True):
        tested_texts = {features.cleaned[i] for i in fold.test_index}
        assert tested_texts.isdisjoint(inner_posts)
        assert fold.choice.threshold in protocol.THRESHOLDS
    pooled = np.concatenate([fold.predicted for fold in outer[:4]])
    gold = np.concatenate([y[fold.test_index] for fold in outer[:4]])
    assert binary_macro_f1(gold, pooled) > 0.75


def test_choices_share_inner_folds_and_report_every_recipe() -> None:
    candidates = {
        "lexical": recipes_for([("char",), ("char", "lemma")], (1.0, 10.0)),
        "baseline": recipes_for([("char",)], (1.0, 10.0)),
    }
    choices = choose_recipes(candidates, synthetic_posts(60))
    assert set(choices["lexical"].scores) == {r.name for r in candidates["lexical"]}
    assert choices["baseline"].recipe.blocks == ("char",)
    assert choices["lexical"].inner_macro_f1 >= choices["baseline"].inner_macro_f1


def test_extra_examples_train_only_the_recipes_that_ask_and_are_never_scored() -> None:
    posts = synthetic_posts(40)
    flipped = synthetic_posts(40, seed=2)
    flipped.y = 1 - flipped.y  # examples that contradict the posts: they must move the head
    plain, with_examples = Recipe(("char",), 3.0), Recipe(("char",), 3.0, with_examples=True)
    decisions = protocol.out_of_fold_decisions([plain, with_examples], posts, flipped)

    assert decisions[plain].shape == decisions[with_examples].shape == (40,)
    assert binary_macro_f1(posts.y, (decisions[plain] > 0).astype(int)) > binary_macro_f1(
        posts.y, (decisions[with_examples] > 0).astype(int)
    )


def multi_label_posts(n: int = 90, seed: int = 0) -> tuple[PostFeatures, dict[str, np.ndarray],
                                                         np.ndarray]:
    """Posts with three labels, each carried by its own phrase (a little noise), and strata."""
    rng = random.Random(seed)
    phrases = {"critical": "генералы провалили", "alarmed": "фронт сыпется",
               "supply": "нет снарядов"}
    texts, ys = [], {name: [] for name in phrases}
    for i in range(n):
        present = {name for k, name in enumerate(phrases) if (i + k) % 3 == 0}
        noisy = {name for name in phrases if (name in present) != (rng.random() < 0.05)}
        words = [phrases[name] for name in noisy] + ["сводка за сутки"] * 2
        texts.append(" ".join(rng.sample(words, len(words))) + f" пост {i}")
        for name in phrases:
            ys[name].append(int(name in present))
    dense = np.random.default_rng(seed).normal(size=(n, 8))
    arrays = {name: np.array(y) for name, y in ys.items()}
    return PostFeatures.of(texts, dense), arrays, arrays["critical"]


def test_nested_cv_over_many_labels_tests_each_post_once_and_learns_each_label(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    features, ys, strata = multi_label_posts()
    seen_by_choice: list[set[str]] = []
    real_choose = protocol.choose_label_recipes

    def recording_choose(candidates, train, train_ys, train_strata):  # type: ignore[no-untyped-def]
        seen_by_choice.append(set(train.cleaned))
        return real_choose(candidates, train, train_ys, train_strata)

    monkeypatch.setattr(protocol, "choose_label_recipes", recording_choose)
    candidates = {"model": recipes_for([("char",), ("char", "lemma")], (1.0, 10.0)),
                  "baseline": recipes_for([("char",)], (1.0, 10.0))}
    outer = protocol.nested_cv_labels(candidates, features, ys, strata, folds=3)

    assert set(outer) == set(ys)
    for label, by_name in outer.items():
        assert set(by_name) == {"model", "baseline"}
        folds = by_name["model"]
        tested = np.sort(np.concatenate([fold.test_index for fold in folds]))
        assert tested.tolist() == list(range(len(strata)))
        for fold, inner in zip(folds, seen_by_choice, strict=True):
            assert {features.cleaned[i] for i in fold.test_index}.isdisjoint(inner)
        assert protocol.outer_macro_f1(folds, ys[label]) > 0.8, label
        assert all(fold.choice.recipe.blocks == ("char",) for fold in by_name["baseline"])


def test_heads_of_one_run_share_their_vectorisers_and_round_trip(tmp_path: Path) -> None:
    features, ys, strata = multi_label_posts(60)
    candidates = {"model": [Recipe(("char", "lemma", "embedding"), 3.0)],
                  "baseline": [Recipe(("char",), 3.0)]}
    choices = protocol.choose_label_recipes(candidates, features, ys, strata)
    vectorizers, heads = protocol.fit_label_choices(choices, features, ys)
    stances = {"critical": heads["critical"]["model"], "alarmed": heads["alarmed"]["model"]}
    themes = {"supply": heads["supply"]["model"]}
    assert heads["supply"]["model"].vectorizers["char"] is vectorizers["char"]
    save_heads(tmp_path, stances, themes, heads["critical"]["baseline"], np.arange(4.0),
               {"k": "v"})

    loaded = load_heads(tmp_path)

    assert set(loaded.stances) == {"critical", "alarmed"}
    assert set(loaded.themes) == {"supply"}
    saved = {**stances, **themes}
    for name, head in {**loaded.stances, **loaded.themes}.items():
        assert head.blocks == saved[name].blocks
        assert head.threshold == saved[name].threshold
        np.testing.assert_allclose(head.probability(features), saved[name].probability(features),
                                   atol=1e-5)
    shared = head_probabilities({**loaded.stances, **loaded.themes}, features)
    np.testing.assert_allclose(shared["supply"], loaded.themes["supply"].probability(features))
    assert loaded.critical_head(with_embedding=False) is loaded.lexical
    assert loaded.critical_head(with_embedding=True) is loaded.stances["critical"]


def test_heads_with_their_own_vectorisers_cannot_be_saved_together(tmp_path: Path) -> None:
    features, ys, strata = multi_label_posts(60)
    candidates = {"model": [Recipe(("char",), 3.0)]}
    choices = protocol.choose_label_recipes(candidates, features, ys, strata)
    _, first = protocol.fit_label_choices(choices, features, ys)
    _, second = protocol.fit_label_choices(choices, features, ys)
    with pytest.raises(ValueError, match="share their char vectoriser"):
        save_heads(tmp_path, {"critical": first["critical"]["model"]},
                   {"supply": second["supply"]["model"]}, first["critical"]["model"],
                   np.arange(4.0), {})


def test_platt_probabilities_are_calibrated_on_a_noisy_set() -> None:
    posts = synthetic_posts(200, seed=3)
    y = posts.y
    candidates = {"char": [Recipe(("char",), 3.0)]}
    outer = nested_cv(candidates, posts, folds=5, repeats=1)["char"]
    probability = np.concatenate([fold.probability for fold in outer])
    truth = np.concatenate([y[fold.test_index] for fold in outer])
    assert brier_score(probability, truth) < 0.15
    for row in reliability(probability, truth):
        if row["n"] >= 20:
            assert abs(row["mean_predicted"] - row["observed"]) < 0.25, row


def test_cohens_kappa_matches_sklearn() -> None:
    first = ["critical", "neutral", "supportive", "critical", "alarmed", "neutral"] * 5
    second = ["critical", "supportive", "supportive", "critical", "neutral", "neutral"] * 5
    assert cohens_kappa(first, second) == pytest.approx(cohen_kappa_score(first, second))


def test_a_recipe_with_examples_wins_within_the_tolerance_and_loses_beyond_it() -> None:
    y = np.array([0, 1] * 20)
    clean = np.where(y == 1, 2.0, -2.0)  # separates perfectly
    noisy = clean.copy()
    noisy[:4] = -noisy[:4]  # four posts wrong: macro-F1 0.9
    plain, examples = Recipe(("char",), 1.0), Recipe(("char",), 1.0, with_examples=True)

    assert protocol._best_of([plain, examples], {plain: clean, examples: clean}, y).recipe == (
        examples
    )
    assert protocol._best_of([plain, examples], {plain: clean, examples: noisy}, y).recipe == (
        plain
    )


def test_features_built_without_lemmas_refuse_the_lemma_block() -> None:
    features = PostFeatures.of(["Генералы врут."], None, with_lemmas=False)
    assert features.texts_for("char") == ["Генералы врут."]
    with pytest.raises(ValueError, match="without lemmas"):
        features.texts_for("lemma")
