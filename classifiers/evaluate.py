"""Measure the classifier against labelled data: generic per-class metrics, and the shared sets
(milblog-criticism under the nested protocol beside the lexical baseline, the annotated four
stances, ruw-stance, rusentne targets).

Returns plain report data and formats it as text; never trains the shipped heads, never writes.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from classifiers.classifier import Classifier, decided_stance
from classifiers.datasets import (
    AnnotatedStances,
    load_milblog,
    load_ruw_stance,
    load_stance_annotations,
)
from classifiers.protocol import (
    BASELINE_BLOCKS,
    INNER_FOLDS,
    OUTER_FOLDS,
    OuterFold,
    brier_score,
    nested_cv,
    recipes_for,
    reliability,
)
from classifiers.scoring import load_classifier
from config.settings import Settings
from config.themes import STANCE_NAMES, Taxonomy

RUSENTNE_SAMPLE = 1500
RUW_MAP = {"supportive": "FAVOR", "critical": "AGAINST", "alarmed": "AGAINST", "neutral": "NONE"}


@dataclass
class LabelMetrics:
    """Precision / recall / F1 / support per class, macro-F1, accuracy, confusion matrix."""

    labels: list[str]
    per_class: dict[str, dict[str, float]]
    macro_f1: float
    accuracy: float
    confusion: list[list[int]]  # rows: gold label, columns: predicted label (order: labels)
    n: int

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        width = max(8, *(len(label) for label in self.labels))
        lines = [f"{'class':<{width}}  precision  recall     f1  support"]
        for label in self.labels:
            c = self.per_class[label]
            lines.append(
                f"{label:<{width}}  {c['precision']:9.3f}  {c['recall']:6.3f}  "
                f"{c['f1']:5.3f}  {int(c['support']):7d}"
            )
        lines.append(f"macro-F1 {self.macro_f1:.3f}   accuracy {self.accuracy:.3f}   n={self.n}")
        lines.append(
            "confusion (rows gold, columns predicted): "
            + "  ".join(f"{g}={row}" for g, row in zip(self.labels, self.confusion, strict=True))
        )
        return "\n".join(lines)


def evaluate_labels(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None
) -> LabelMetrics:
    """Compare predicted labels with gold ones (same length); ``labels`` fixes the class order."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    order = list(labels) if labels else sorted(set(gold) | set(predicted))
    index = {label: i for i, label in enumerate(order)}
    confusion = np.zeros((len(order), len(order)), dtype=int)
    for g, p in zip(gold, predicted, strict=True):
        if g in index and p in index:
            confusion[index[g], index[p]] += 1
    per_class = {}
    for i, label in enumerate(order):
        tp = confusion[i, i]
        precision = tp / confusion[:, i].sum() if confusion[:, i].sum() else 0.0
        recall = tp / confusion[i].sum() if confusion[i].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "support": int(confusion[i].sum()),
        }
    total = int(confusion.sum())
    return LabelMetrics(
        labels=order,
        per_class=per_class,
        macro_f1=float(np.mean([c["f1"] for c in per_class.values()])) if order else 0.0,
        accuracy=float(np.trace(confusion) / total) if total else 0.0,
        confusion=confusion.tolist(),
        n=total,
    )


@dataclass
class Section:
    """One evaluation: what was measured, how, and the metrics."""

    name: str
    method: str
    metrics: LabelMetrics
    notes: list[str] = field(default_factory=list)


@dataclass
class SharedReport:
    model_version: str
    sections: list[Section]

    def to_dict(self) -> dict:
        return asdict(self)


class TextScorer(Protocol):
    """Anything that scores texts in order and names its model (a Classifier, a test double)."""

    model_version: str

    def score_texts(self, texts: list[str]) -> list[Any]: ...


def score_all(classifier: TextScorer, texts: list[str], batch_size: int = 64) -> list[Any]:
    """Score ``texts`` in batches of ``batch_size``; results follow the input order."""
    results: list[Any] = []
    for start in range(0, len(texts), batch_size):
        results.extend(classifier.score_texts(texts[start : start + batch_size]))
    return results


@dataclass
class NestedMilblog:
    """The nested protocol's outer folds on milblog, per candidate set, and the posts' texts."""

    texts: list[str]
    y: np.ndarray
    outer: dict[str, list[OuterFold]]

    def out_of_fold_critical(self, name: str = "shipped") -> dict[str, bool]:
        """Text → the outer fold's decision (first repeat), for posts evaluated elsewhere."""
        decided: dict[str, bool] = {}
        for fold in self.outer[name][:OUTER_FOLDS]:
            for index, positive in zip(fold.test_index, fold.predicted, strict=True):
                decided[self.texts[index]] = bool(positive)
        return decided


def nested_milblog(classifier: Classifier, shared_dir: Path) -> NestedMilblog:
    """Run the nested protocol on milblog for the shipped candidates and the plain baseline."""
    from classifiers.train import HEAD_CANDIDATES, example_posts, labelled_posts

    data = load_milblog(shared_dir)
    posts = labelled_posts(classifier.encoder, data)
    extra = example_posts(classifier.encoder, classifier.taxonomy)
    shipped = "full" if classifier.uses_trained_head else "lexical"
    if not classifier.uses_trained_head:
        posts.features.dense = extra.features.dense = None
    candidates = {
        "shipped": HEAD_CANDIDATES[shipped],
        "baseline": recipes_for([BASELINE_BLOCKS]),
    }
    return NestedMilblog(data.texts, posts.y, nested_cv(candidates, posts, extra))


def milblog_sections(nested: NestedMilblog) -> list[Section]:
    """One section per candidate set: pooled outer-fold metrics, per-fold spread, calibration."""
    titles = {
        "shipped": "milblog-criticism: shipped recipe (nested CV)",
        "baseline": "milblog-criticism: char 2-5 TF-IDF + LR baseline (nested CV)",
    }
    return [_nested_section(titles[name], folds, nested.y) for name, folds in nested.outer.items()]


def _nested_section(title: str, folds: list[OuterFold], y: np.ndarray) -> Section:
    labels = ["critical", "not_critical"]
    gold: list[str] = []
    predicted: list[str] = []
    fold_f1 = []
    for fold in folds:
        gold_fold = [labels[1 - v] for v in y[fold.test_index]]
        predicted_fold = [labels[1 - v] for v in fold.predicted]
        fold_f1.append(evaluate_labels(gold_fold, predicted_fold, labels).macro_f1)
        gold += gold_fold
        predicted += predicted_fold
    probability = np.concatenate([fold.probability for fold in folds])
    truth = np.concatenate([y[fold.test_index] for fold in folds])
    chosen = Counter(f"{fold.choice.recipe.name} @ {fold.choice.threshold:.2f}" for fold in folds)
    return Section(
        title,
        f"{len(folds)} outer folds ({OUTER_FOLDS}-fold x {len(folds) // OUTER_FOLDS}), "
        f"pooled; recipe, C, Platt calibration and threshold chosen in {INNER_FOLDS} inner "
        f"folds of each outer training part ({len(y)} posts)",
        evaluate_labels(gold, predicted, labels),
        [
            f"per-fold macro-F1 {np.mean(fold_f1):.3f} ± {np.std(fold_f1):.3f}",
            f"Brier score {brier_score(probability, truth):.3f}; reliability "
            + ", ".join(f"{r['bin']}: predicted {r['mean_predicted']:.2f} observed "
                        f"{r['observed']:.2f} (n={r['n']})"
                        for r in reliability(probability, truth)),
            "chosen per fold: " + "; ".join(f"{k} x{n}" for k, n in chosen.most_common()),
        ],
    )


def evaluate_stances(
    classifier: Classifier, annotated: AnnotatedStances, held_out_critical: dict[str, bool]
) -> list[Section]:
    """Four stances against the annotated set, beside the annotators' agreement.

    The critical head was trained on the milblog posts, so for those the critical decision is
    the nested protocol's outer fold (``held_out_critical``); the other stances and the posts
    from other sources are the shipped model's.
    """
    results = score_all(classifier, annotated.texts)
    predicted = [
        _stance_with(result, held_out_critical.get(text))
        for text, result in zip(annotated.texts, results, strict=True)
    ]
    kappa = cohens_kappa(annotated.first, annotated.second)
    raw = np.mean([a == b for a, b in zip(annotated.first, annotated.second, strict=True)])
    sources = Counter(annotated.groups)
    return [
        Section(
            "annotated posts: four stances",
            f"{len(annotated.texts)} posts annotated twice under classifiers/CODEBOOK.md "
            f"({', '.join(f'{k} {n}' for k, n in sources.items())}); disagreements settled by "
            "a third reading; critical decided out-of-fold for milblog posts",
            evaluate_labels(annotated.labels, predicted, list(STANCE_NAMES)),
            [
                f"annotator agreement: Cohen's kappa {kappa:.3f}, raw {raw:.3f}",
                "the annotators are two independent language-model passes, not human coders",
            ],
        )
    ]


def _stance_with(result: Any, critical: bool | None) -> str:
    """The result's stance, with the critical decision replaced when one is given."""
    if critical is None:
        return str(result.stance)
    return decided_stance(result.stance_probabilities, critical)


def cohens_kappa(first: Sequence[str], second: Sequence[str]) -> float:
    """Agreement between two annotators beyond chance."""
    labels = sorted(set(first) | set(second))
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    expected = sum((first.count(label) / n) * (second.count(label) / n) for label in labels)
    return float((observed - expected) / (1 - expected)) if expected < 1 else 1.0


def evaluate_ruw(classifier: Classifier, shared_dir: Path) -> list[Section]:
    """English tweets, stance toward Russia.

    Mapping: supportive→FAVOR, critical or alarmed→AGAINST, neutral→NONE.
    """
    data = load_ruw_stance(shared_dir, ("val",))
    results = score_all(classifier, data.texts)
    predicted = [RUW_MAP[r.stance] for r in results]
    three = evaluate_labels(data.labels, predicted, ["FAVOR", "AGAINST", "NONE"])
    polar = [
        (
            g,
            "FAVOR"
            if r.stance_probabilities["supportive"]
            >= r.stance_probabilities["critical"] + r.stance_probabilities["alarmed"]
            else "AGAINST",
        )
        for g, r in zip(data.labels, results, strict=True)
        if g != "NONE"
    ]
    two = evaluate_labels([g for g, _ in polar], [p for _, p in polar], ["FAVOR", "AGAINST"])
    method = "val split, shipped model, no training on this set"
    return [
        Section(
            "ruw-stance: 3-way stance toward Russia",
            method,
            three,
            [
                "English tweets by outside observers; 'critical' means pro-war criticism in "
                "riftwatch, so AGAINST Russia maps to critical or alarmed"
            ],
        ),
        Section(
            "ruw-stance: FAVOR vs AGAINST only",
            method + "; p(supportive) vs p(critical)+p(alarmed)",
            two,
        ),
    ]


def evaluate_rusentne(
    classifier: Classifier, shared_dir: Path, sample: int = RUSENTNE_SAMPLE
) -> list[Section]:
    """Is the marked entity attacked (sentiment -1)? The entity head is trained on these rows,
    so its decisions are the nested protocol's outer folds (grouped by sentence), never the
    shipped head's. Beside it, on a random sample: the targets step as shipped (the head's
    out-of-fold decision in a critical sentence) and the rule it replaced (any named entity in
    a critical sentence)."""
    from classifiers.train_entities import nested_entities, out_of_fold_attacked

    encoder = classifier.encoder if classifier.uses_trained_head else None
    entity_rows, labelled, outer = nested_entities(encoder, shared_dir)
    attacked = out_of_fold_attacked(len(labelled.y), outer)
    labels = ["attacked", "not_attacked"]
    gold = [labels[1 - v] for v in labelled.y]
    head = [labels[1 - v] for v in attacked]
    chosen = Counter(f"{fold.choice.recipe.name} @ {fold.choice.threshold:.2f}" for fold in outer)
    rows = random.Random(0).sample(range(len(gold)), min(sample, len(gold)))
    sentences = [entity_rows.entities[i].text for i in rows]
    critical = [r.stance == "critical" for r in score_all(classifier, sentences)]
    sampled_gold = [gold[i] for i in rows]
    shipped = [labels[0] if c and attacked[i] else labels[1] for i, c in zip(rows, critical,
                                                                         strict=True)]
    before = [labels[0] if c else labels[1] for c in critical]
    method = f"random {len(rows)} of the rows (seed 0); the critical head on the sentence"
    return [
        Section(
            "rusentne: entity head, attacked (nested CV)",
            f"{len(outer)} outer folds grouped by sentence, pooled; recipe, C, calibration and "
            f"threshold chosen in {INNER_FOLDS} inner folds ({len(gold)} entity rows)",
            evaluate_labels(gold, head, labels),
            ["chosen per fold: " + "; ".join(f"{k} x{n}" for k, n in chosen.most_common())],
        ),
        Section(
            "rusentne: targets step (head out-of-fold, critical sentence)",
            method, evaluate_labels(sampled_gold, shipped, labels),
            ["news sentences, not blog posts: negative sentiment is not always an attack"],
        ),
        Section(
            "rusentne: previous rule (any entity in a critical sentence)",
            method, evaluate_labels(sampled_gold, before, labels),
        ),
    ]


def evaluate_shared(
    settings: Settings,
    shared_dir: Path,
    annotations: AnnotationSources,
    taxonomy: Taxonomy | None = None,
) -> SharedReport:
    """Every shared evaluation with the configured classifier: milblog under the nested
    protocol (shipped recipe and baseline), the annotated four stances, ruw-stance, rusentne."""
    from config.themes import load_themes

    taxonomy = taxonomy or load_themes(settings.themes_file)
    classifier = load_classifier(settings, taxonomy)
    shared_dir = Path(shared_dir)
    nested = nested_milblog(classifier, shared_dir)
    annotated = load_stance_annotations(annotations.file, shared_dir, annotations.demo_corpus)
    sections = (
        milblog_sections(nested)
        + evaluate_stances(classifier, annotated, nested.out_of_fold_critical())
        + evaluate_ruw(classifier, shared_dir)
        + evaluate_rusentne(classifier, shared_dir)
    )
    return SharedReport(classifier.model_version, sections)


@dataclass
class AnnotationSources:
    """Where the four-stance annotations are, and the demo corpus some of them name."""

    file: Path
    demo_corpus: Path


def format_shared_report(report: SharedReport) -> str:
    """The report as plain text: a summary table, then each section in full."""
    lines = [f"model {report.model_version}", "", f"{'evaluation':<58} {'macro-F1':>8} {'n':>6}"]
    lines += [f"{s.name:<58} {s.metrics.macro_f1:8.3f} {s.metrics.n:6d}" for s in report.sections]
    for section in report.sections:
        lines += [
            "",
            f"== {section.name}",
            f"   ({section.method})",
            str(section.metrics),
            *section.notes,
        ]
    return "\n".join(lines)
