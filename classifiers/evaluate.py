"""Measure the classifier against labelled data: generic per-class metrics, and the shared sets
(milblog-criticism with cross-validation, ruw-stance, rusentne targets).

Returns plain report data and formats it as text; never trains the shipped heads, never writes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from classifiers.classifier import Classifier
from classifiers.datasets import load_milblog, load_rusentne, load_ruw_stance
from classifiers.scoring import load_classifier
from config.settings import Settings
from config.themes import RIFT_THEMES, Target, Taxonomy

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


def evaluate_milblog(classifier: Classifier, shared_dir: Path) -> list[Section]:
    """``critical`` and ``critical | rift theme`` vs is_criticism, critical head cross-validated.

    The shipped critical head was trained on this file, so its probability here comes from
    5-fold x 3 cross-validation of the same recipe; theme probabilities come from the
    taxonomy's examples (never trained on this file) and are used as they ship.
    """
    from classifiers.train import CV_REPEATS, cross_validated_critical, embed_posts

    data = load_milblog(shared_dir)
    y = np.array([label == "critical" for label in data.labels], dtype=int)
    posts = embed_posts(classifier.encoder, data.texts)
    folds = cross_validated_critical(posts, y, use_dense=classifier.uses_trained_head)
    shipped = score_all(classifier, data.texts)
    rift = np.array([max(r.themes.get(name, 0.0) for name in RIFT_THEMES) >= 0.5 for r in shipped])
    sections = []
    for name, extra in (("critical", None), ("critical | rift theme", rift)):
        gold, predicted, fold_f1 = [], [], []
        for idx, p in folds:
            positive = p >= 0.5 if extra is None else (p >= 0.5) | extra[idx]
            labels_fold = ["critical" if v else "not_critical" for v in positive]
            gold_fold = [data.labels[i] for i in idx]
            fold_f1.append(
                evaluate_labels(gold_fold, labels_fold, ["critical", "not_critical"]).macro_f1
            )
            gold.extend(gold_fold)
            predicted.extend(labels_fold)
        metrics = evaluate_labels(gold, predicted, ["critical", "not_critical"])
        sections.append(
            Section(
                f"milblog-criticism: {name} vs is_criticism",
                f"out-of-fold predictions, 5-fold x {CV_REPEATS} repeats pooled ({len(y)} posts)",
                metrics,
                [f"per-fold macro-F1 {np.mean(fold_f1):.3f} ± {np.std(fold_f1):.3f}"],
            )
        )
    return sections


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
    """The targets step: is the marked entity reported attacked when sentiment toward it is -1?"""
    rows = load_rusentne(shared_dir)
    rows = random.Random(0).sample(rows, min(sample, len(rows)))
    entities = sorted({row.entity.lower() for row in rows if row.entity.strip()})
    names = {entity: f"e{i}" for i, entity in enumerate(entities)}
    taxonomy = Taxonomy(
        themes=classifier.taxonomy.themes,
        stances=classifier.taxonomy.stances,
        targets=[Target(name=names[e], label=e, aliases=[e]) for e in entities],
    )
    probe = Classifier(classifier.encoder, classifier.heads, taxonomy, classifier.taxonomy.stances)
    results = score_all(probe, [row.sentence for row in rows])
    gold = ["attacked" if row.label == -1 else "not_attacked" for row in rows]
    predicted = [
        "attacked" if names.get(row.entity.lower()) in result.targets else "not_attacked"
        for row, result in zip(rows, results, strict=True)
    ]
    metrics = evaluate_labels(gold, predicted, ["attacked", "not_attacked"])
    return [
        Section(
            "rusentne: entity attacked (sentiment -1) vs targets step",
            f"random {len(rows)} of the news sentences (seed 0); the entity span as the only alias",
            metrics,
            ["news sentences, not blog posts: negative sentiment is not always an attack"],
        )
    ]


def evaluate_shared(
    settings: Settings, shared_dir: Path, taxonomy: Taxonomy | None = None
) -> SharedReport:
    """All three shared evaluations with the configured classifier."""
    from config.themes import load_themes

    taxonomy = taxonomy or load_themes(settings.themes_file)
    classifier = load_classifier(settings, taxonomy)
    shared_dir = Path(shared_dir)
    sections = (
        evaluate_milblog(classifier, shared_dir)
        + evaluate_ruw(classifier, shared_dir)
        + evaluate_rusentne(classifier, shared_dir)
    )
    return SharedReport(classifier.model_version, sections)


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
