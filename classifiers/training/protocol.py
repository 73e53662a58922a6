"""The honest protocol for the critical head: nested cross-validation with calibrated decisions.

Every choice (feature blocks, C, the Platt calibration, the decision threshold) is made by
``choose_recipe`` from inner folds of the training part only; ``nested_cv`` reports on outer
folds that chose nothing. ``train`` runs the same ``choose_recipe`` on all the data to pick
what ships. Works on features handed in (texts, lemmas, embeddings); never loads the encoder.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from classifiers.features import PostFeatures, head_probabilities
from classifiers.heads import (
    BLOCKS,
    CalibratedHead,
    LinearHead,
    block_matrix,
    make_vectorizer,
    sigmoid,
)

logger = logging.getLogger(__name__)

SEED = 0
INNER_FOLDS = 4
OUTER_FOLDS, OUTER_REPEATS = 5, 2
C_GRID = (1.0, 3.0, 10.0, 30.0)
FEATURE_SETS: tuple[tuple[str, ...], ...] = (
    ("char",),
    ("char", "lemma"),
    ("char", "embedding"),
    ("char", "lemma", "embedding"),
)
BASELINE_BLOCKS = ("char",)
THRESHOLDS = np.round(np.arange(0.20, 0.801, 0.02), 2)
# The labelled posts are long (mean ~1,300 characters); the extra examples are the codebook's
# short sentences. The posts cannot show what the examples teach about short posts, so a
# recipe with them is preferred unless it costs more than this inner macro-F1 on the posts.
EXAMPLES_TOLERANCE = 0.01


@dataclass(frozen=True)
class Recipe:
    """One candidate head: which feature blocks, the logistic regression's C, and whether the
    extra examples (short labelled sentences, never evaluated) join the training posts."""

    blocks: tuple[str, ...]
    c: float
    with_examples: bool = False

    @property
    def name(self) -> str:
        extra = " +examples" if self.with_examples else ""
        return f"{'+'.join(self.blocks)} C={self.c:g}{extra}"


def recipes_for(
    feature_sets: Iterable[tuple[str, ...]],
    c_grid: Sequence[float] = C_GRID,
    examples: Sequence[bool] = (False,),
) -> list[Recipe]:
    return [Recipe(tuple(blocks), c, extra) for blocks in feature_sets for c in c_grid
            for extra in examples]


@dataclass
class Labelled:
    """Posts' features with their yes/no labels, and optional groups that folds keep together
    (rows sharing a sentence, say: no fold may test on a sentence it trained on)."""

    features: PostFeatures
    y: np.ndarray
    groups: np.ndarray | None = None

    def take(self, index: np.ndarray) -> Labelled:
        groups = None if self.groups is None else self.groups[index]
        return Labelled(self.features.take(index), self.y[index], groups)

    def plus(self, extra: Labelled | None) -> Labelled:
        """These rows followed by ``extra``'s (for training only: the groups are dropped)."""
        if extra is None:
            return self
        return Labelled(self.features.plus(extra.features), np.concatenate([self.y, extra.y]))


def fold_splits(
    posts: Labelled, folds: int, repeats: int = 1
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(train, test) indices: stratified folds, repeated with new shuffles; grouped when the
    posts carry groups. (Ungrouped, one repeat is ``StratifiedKFold(shuffle, SEED)``.)"""
    from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedGroupKFold

    if posts.groups is None:
        splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=SEED)
        yield from splitter.split(np.zeros(len(posts.y)), posts.y)
        return
    for repeat in range(repeats):
        grouped = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=SEED + repeat)
        yield from grouped.split(np.zeros(len(posts.y)), posts.y, posts.groups)


@dataclass
class Choice:
    """What the inner folds chose: the recipe, its calibration and threshold, and their score."""

    recipe: Recipe
    platt: tuple[float, float]
    threshold: float
    inner_macro_f1: float
    scores: dict[str, float] = field(default_factory=dict)  # every recipe's inner macro-F1
    # The chosen recipe's calibrated inner out-of-fold probability of each training post, for
    # choices that combine labels (the stance decision rule) inside the same folds.
    inner_probability: np.ndarray | None = field(default=None, repr=False)
    target: str = ""  # the ``TargetVariant`` the head learned from; "" for the label's own


def fit_vectorizers(features: PostFeatures, blocks: Iterable[str]) -> dict[str, Any]:
    """Fit the TF-IDF vectoriser of each sparse block on these posts only."""
    return {
        block: make_vectorizer(block).fit(features.texts_for(block))
        for block in blocks
        if block in BLOCKS and block != "embedding"
    }


def fit_linear(recipe: Recipe, matrix: Any, y: np.ndarray) -> LinearHead:
    """A class-balanced logistic regression on the stacked blocks."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(
        C=recipe.c, solver="liblinear", max_iter=5000, class_weight="balanced",
        random_state=SEED,
    ).fit(matrix, y)
    return LinearHead(model.coef_.ravel().astype(np.float64), float(model.intercept_[0]))


def out_of_fold_decisions(
    recipes: Sequence[Recipe], posts: Labelled, extra: Labelled | None, folds: int = INNER_FOLDS
) -> dict[Recipe, np.ndarray]:
    """Each recipe's out-of-fold logit for every post (vectorisers fitted once per fold)."""
    from sklearn.model_selection import StratifiedKFold

    decisions = {recipe: np.zeros(len(posts.y)) for recipe in recipes}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for train_idx, test_idx in splitter.split(np.zeros(len(posts.y)), posts.y):
        heads = fit_heads(recipes, posts.take(train_idx), extra)
        test = _BlockRows.of(heads.vectorizers, posts.features.take(test_idx))
        for recipe, head in heads.linear.items():
            decisions[recipe][test_idx] = head.decision(test.design(recipe.blocks))
    return decisions


@dataclass
class _BlockRows:
    """Each block's feature matrix for a set of posts, computed once and shared by recipes."""

    matrices: dict[str, Any]

    @classmethod
    def of(cls, vectorizers: dict[str, Any], features: PostFeatures,
           blocks: Iterable[str] | None = None) -> _BlockRows:
        wanted = list(blocks) if blocks is not None else [*vectorizers, "embedding"]
        usable = [b for b in wanted if b != "embedding" or features.dense is not None]
        return cls({block: block_matrix(block, vectorizers, features) for block in usable})

    def design(self, blocks: Sequence[str], rows: slice = slice(None)) -> Any:
        import scipy.sparse as sp

        return sp.hstack([self.matrices[block][rows] for block in blocks]).tocsr()


@dataclass
class FittedHeads:
    """Recipes fitted on one training part: the shared vectorisers and each linear head."""

    vectorizers: dict[str, Any]
    linear: dict[Recipe, LinearHead]

    def own_vectorizers(self, recipe: Recipe) -> dict[str, Any]:
        return {b: v for b, v in self.vectorizers.items() if b in recipe.blocks}


def fit_heads(recipes: Sequence[Recipe], train: Labelled, extra: Labelled | None) -> FittedHeads:
    """Each recipe fitted on ``train`` (plus ``extra`` where it asks). The vectorisers are
    fitted once, on every training text, and each block is transformed once."""
    blocks = {block for recipe in recipes for block in recipe.blocks}
    with_extra = train.plus(extra)
    vectorizers = fit_vectorizers(with_extra.features, blocks)
    matrices = _BlockRows.of(vectorizers, with_extra.features, blocks)
    linear = {}
    for recipe in recipes:
        rows = slice(None) if recipe.with_examples else slice(0, len(train.y))
        linear[recipe] = fit_linear(recipe, matrices.design(recipe.blocks, rows),
                                    with_extra.y[rows])
    return FittedHeads(vectorizers, linear)


def fit_platt(decision: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling: P(critical) = sigmoid(a * logit + b), fitted on out-of-fold logits."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e4, max_iter=1000).fit(decision.reshape(-1, 1), y)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def binary_macro_f1(y: np.ndarray, positive: np.ndarray) -> float:
    """Macro-F1 of a yes/no decision (both classes' F1, averaged)."""
    scores = []
    for label in (1, 0):
        tp = float(np.sum((positive == label) & (y == label)))
        predicted, actual = float(np.sum(positive == label)), float(np.sum(y == label))
        scores.append(2 * tp / (predicted + actual) if predicted + actual else 0.0)
    return float(np.mean(scores))


def best_threshold(probability: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The threshold (from ``THRESHOLDS``) with the best macro-F1; ties go nearest to 0.5."""
    scored = [(binary_macro_f1(y, (probability >= t).astype(int)), -abs(t - 0.5), t)
              for t in THRESHOLDS]
    f1, _, threshold = max(scored)
    return float(threshold), float(f1)


def choose_recipes(
    candidates: Mapping[str, Sequence[Recipe]], posts: Labelled, extra: Labelled | None = None
) -> dict[str, Choice]:
    """For each named candidate set: the recipe, calibration and threshold that the inner
    out-of-fold predictions on ``posts`` favour (all sets share one pass of inner folds).
    ``extra`` examples only ever train; they are never predicted or scored."""
    union = list(dict.fromkeys(r for recipes in candidates.values() for r in recipes))
    decisions = out_of_fold_decisions(union, posts, extra)
    return {name: _best_of(recipes, decisions, posts.y) for name, recipes in candidates.items()}


def _best_of(recipes: Sequence[Recipe], decisions: dict[Recipe, np.ndarray], y: np.ndarray
             ) -> Choice:
    """The recipe with the best inner macro-F1 at its best threshold; a recipe trained with the
    extra examples wins when it is within ``EXAMPLES_TOLERANCE`` of that best."""
    choices = [_calibrated(recipe, decisions[recipe], y) for recipe in recipes]
    if not choices:
        raise ValueError("no recipes to choose from")
    best = max(choices, key=lambda choice: choice.inner_macro_f1)
    with_examples = [choice for choice in choices if choice.recipe.with_examples]
    if with_examples:
        best_with = max(with_examples, key=lambda choice: choice.inner_macro_f1)
        if best_with.inner_macro_f1 >= best.inner_macro_f1 - EXAMPLES_TOLERANCE:
            best = best_with
    best.scores = {choice.recipe.name: round(choice.inner_macro_f1, 4) for choice in choices}
    return best


def _calibrated(recipe: Recipe, decision: np.ndarray, y: np.ndarray) -> Choice:
    platt = fit_platt(decision, y)
    probability = sigmoid(platt[0] * decision + platt[1])
    threshold, f1 = best_threshold(probability, y)
    return Choice(recipe, platt, threshold, f1, inner_probability=probability)


def fit_choices(
    choices: dict[str, Choice], posts: Labelled, extra: Labelled | None = None
) -> dict[str, CalibratedHead]:
    """Each chosen recipe refitted on all of ``posts``, with its inner calibration."""
    fitted = fit_heads([choice.recipe for choice in choices.values()], posts, extra)
    return {
        name: CalibratedHead(choice.recipe.blocks, fitted.own_vectorizers(choice.recipe),
                             fitted.linear[choice.recipe], choice.platt, choice.threshold)
        for name, choice in choices.items()
    }


@dataclass
class OuterFold:
    """One outer fold: the test posts, what the inner folds chose, calibrated probabilities."""

    test_index: np.ndarray
    choice: Choice
    probability: np.ndarray

    @property
    def predicted(self) -> np.ndarray:
        return (self.probability >= self.choice.threshold).astype(int)


def nested_cv(
    candidates: Mapping[str, Sequence[Recipe]],
    posts: Labelled,
    extra: Labelled | None = None,
    folds: int = OUTER_FOLDS,
    repeats: int = OUTER_REPEATS,
) -> dict[str, list[OuterFold]]:
    """Outer ``folds`` x ``repeats``; inside each, ``choose_recipes`` on the training part only.

    Returns, per named candidate set, its outer folds: figures from these chose nothing.
    """
    outer: dict[str, list[OuterFold]] = {name: [] for name in candidates}
    for train_idx, test_idx in fold_splits(posts, folds, repeats):
        train, test = posts.take(train_idx), posts.features.take(test_idx)
        choices = choose_recipes(candidates, train, extra)
        for name, head in fit_choices(choices, train, extra).items():
            outer[name].append(OuterFold(test_idx, choices[name], head.probability(test)))
    return outer


def outer_macro_f1(folds: Sequence[OuterFold], y: np.ndarray) -> float:
    """Macro-F1 of the outer folds' decisions, pooled over every fold (as ``riftwatch eval``)."""
    truth = np.concatenate([y[fold.test_index] for fold in folds])
    return binary_macro_f1(truth, np.concatenate([fold.predicted for fold in folds]))


def brier_score(probability: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((probability - y) ** 2))


def reliability(probability: np.ndarray, y: np.ndarray, bins: int = 5) -> list[dict[str, Any]]:
    """Per probability bin: mean predicted probability, observed share critical, and count."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (probability >= low) & ((probability < high) | (high == 1.0))
        if inside.any():
            rows.append({
                "bin": f"{low:.1f}-{high:.1f}",
                "mean_predicted": round(float(probability[inside].mean()), 3),
                "observed": round(float(y[inside].mean()), 3),
                "n": int(inside.sum()),
            })
    return rows


# ---- many yes/no labels over the same posts (the stances one against the rest, the themes) ----
#
# One pass of folds serves every label: the folds are stratified by one label (the stance), the
# vectorisers are fitted and each block transformed once per fold, and every label's recipes
# are fitted on the same matrices. A label keeps its own recipe, C, calibration and threshold.

LabelTargets = Mapping[str, np.ndarray]  # label name -> 0/1 per post


def _label_fits(
    jobs: Sequence[tuple[str, Recipe]], train: _BlockRows, ys: LabelTargets
) -> dict[tuple[str, Recipe], LinearHead]:
    """Each (label, recipe) head fitted on one training part's matrices, two at a time
    (liblinear releases the GIL), each design matrix built once."""
    from concurrent.futures import ThreadPoolExecutor

    designs = {blocks: train.design(blocks) for blocks in {recipe.blocks for _, recipe in jobs}}
    with ThreadPoolExecutor(max_workers=2) as pool:
        fitted = pool.map(lambda job: fit_linear(job[1], designs[job[1].blocks], ys[job[0]]),
                          jobs)
        return dict(zip(jobs, fitted, strict=True))


def _fold_rows(features: PostFeatures, train_idx: np.ndarray, test_idx: np.ndarray,
               blocks: set[str]) -> tuple[_BlockRows, _BlockRows]:
    """Both parts' block matrices, the vectorisers fitted on the training part only."""
    train = features.take(train_idx)
    vectorizers = fit_vectorizers(train, blocks)
    return (_BlockRows.of(vectorizers, train, blocks),
            _BlockRows.of(vectorizers, features.take(test_idx), blocks))


def choose_label_recipes(
    candidates: Mapping[str, Sequence[Recipe]], features: PostFeatures, ys: LabelTargets,
    strata: np.ndarray, folds: int = INNER_FOLDS,
) -> dict[str, dict[str, Choice]]:
    """label → candidate set → what the inner out-of-fold predictions favour (as
    ``choose_recipes``, for every label in one pass of folds stratified by ``strata``)."""
    from sklearn.model_selection import StratifiedKFold

    union = list(dict.fromkeys(r for recipes in candidates.values() for r in recipes))
    blocks = {block for recipe in union for block in recipe.blocks}
    decisions = {label: {r: np.zeros(len(strata)) for r in union} for label in ys}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for train_idx, test_idx in splitter.split(np.zeros(len(strata)), strata):
        train, test = _fold_rows(features, train_idx, test_idx, blocks)
        jobs = [(label, recipe) for label in ys for recipe in union]
        fits = _label_fits(jobs, train, {label: y[train_idx] for label, y in ys.items()})
        for (label, recipe), head in fits.items():
            decisions[label][recipe][test_idx] = head.decision(test.design(recipe.blocks))
    return {label: {name: _best_of(recipes, decisions[label], ys[label])
                    for name, recipes in candidates.items()} for label in ys}


def fit_label_choices(
    choices: Mapping[str, Mapping[str, Choice]], features: PostFeatures, ys: LabelTargets
) -> tuple[dict[str, Any], dict[str, dict[str, CalibratedHead]]]:
    """The shared vectorisers and, per label and candidate set, the chosen recipe refitted on
    all of ``features`` with its inner calibration and threshold."""
    blocks = {b for by_name in choices.values() for c in by_name.values() for b in c.recipe.blocks}
    vectorizers = fit_vectorizers(features, blocks)
    jobs = list(dict.fromkeys((label, choice.recipe) for label, by_name in choices.items()
                              for choice in by_name.values()))
    fits = _label_fits(jobs, _BlockRows.of(vectorizers, features, blocks), ys)
    heads: dict[str, dict[str, CalibratedHead]] = {}
    for label, by_name in choices.items():
        heads[label] = {}
        for name, choice in by_name.items():
            own = {b: v for b, v in vectorizers.items() if b in choice.recipe.blocks}
            heads[label][name] = CalibratedHead(choice.recipe.blocks, own,
                                                fits[(label, choice.recipe)], choice.platt,
                                                choice.threshold)
    return vectorizers, heads


# The heads' probabilities over posts (``head_probabilities``) are computed at run time too, so
# they live in ``classifiers.features`` with ``PostFeatures``; the scorer never imports this.


@dataclass(frozen=True)
class TargetVariant:
    """A second target one label may learn from: the label's own 0/1 target with the posts in
    ``rows`` relabelled from another labelling of them (the milblog posts' ``critical`` from
    their source's own is_criticism, say).

    The inner folds fit a head on each target and keep the one whose inner out-of-fold
    decisions score higher by one criterion fixed in advance: the mean of the decisions'
    macro-F1 against the label's own target on every post and against this target on ``rows``.
    Ties keep the label's own target.
    """

    label: str
    name: str
    y: np.ndarray
    rows: np.ndarray  # bool per post: relabelled by the other labelling

    @property
    def key(self) -> str:
        """The name the variant's head goes by among the labels while both are fitted."""
        return f"{self.label}~{self.name}"

    def take(self, index: np.ndarray) -> TargetVariant:
        return TargetVariant(self.label, self.name, self.y[index], self.rows[index])

    def criterion(self, own_y: np.ndarray, choice: Choice) -> float:
        """The fixed score of a choice's inner out-of-fold decisions."""
        if choice.inner_probability is None:
            raise ValueError("a target choice needs the inner out-of-fold probabilities")
        decided = (choice.inner_probability >= choice.threshold).astype(int)
        return (binary_macro_f1(own_y, decided)
                + binary_macro_f1(self.y[self.rows], decided[self.rows])) / 2


def choose_and_fit_labels(
    candidates: Mapping[str, Sequence[Recipe]], features: PostFeatures, ys: LabelTargets,
    strata: np.ndarray, variants: Sequence[TargetVariant] = (),
) -> tuple[dict[str, dict[str, Choice]], dict[str, dict[str, CalibratedHead]]]:
    """Every label's choice (inner folds) and head fitted on all of ``features``; a label with
    a ``TargetVariant`` keeps the target its criterion prefers, per candidate set."""
    all_ys = {**ys, **{variant.key: variant.y for variant in variants}}
    choices = choose_label_recipes(candidates, features, all_ys, strata)
    _, heads = fit_label_choices(choices, features, all_ys)
    for variant in variants:
        variant_choices, variant_heads = choices.pop(variant.key), heads.pop(variant.key)
        for name, own in choices[variant.label].items():
            challenger = variant_choices[name]
            if variant.criterion(ys[variant.label], challenger) > \
                    variant.criterion(ys[variant.label], own):
                choices[variant.label][name] = replace(challenger, target=variant.name)
                heads[variant.label][name] = variant_heads[name]
    return choices, heads


def nested_cv_labels(
    candidates: Mapping[str, Sequence[Recipe]], features: PostFeatures, ys: LabelTargets,
    strata: np.ndarray, folds: int = OUTER_FOLDS, repeats: int = 1,
    variants: Sequence[TargetVariant] = (),
) -> dict[str, dict[str, list[OuterFold]]]:
    """label → candidate set → outer folds; each outer training part chooses (inner folds) and
    fits every label's heads (and target, where a label has a variant); the outer test part
    only receives probabilities."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    outer: dict[str, dict[str, list[OuterFold]]] = {
        label: {name: [] for name in candidates} for label in ys}
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=SEED)
    for number, (train_idx, test_idx) in enumerate(
            splitter.split(np.zeros(len(strata)), strata), start=1):
        logger.info("outer fold %d of %d", number, folds * repeats)
        choices, heads = choose_and_fit_labels(
            candidates, features.take(train_idx), {label: y[train_idx] for label, y in ys.items()},
            strata[train_idx], [variant.take(train_idx) for variant in variants])
        test = features.take(test_idx)
        for label, by_name in heads.items():
            probabilities = head_probabilities(by_name, test)
            for name, probability in probabilities.items():
                outer[label][name].append(
                    OuterFold(test_idx, choices[label][name], probability))
    return outer
