"""Measure the classifier against labelled data: generic per-class metrics, and the shared sets
(the annotated stances and themes under the nested protocol beside the tuned baseline, the
milblog is_criticism labels, ruw-stance, rusentne targets).

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

from classifiers.classifier import Classifier
from classifiers.scoring import load_classifier
from classifiers.stance_rule import DEFAULT_RULE, choose_rule, decide_stance
from classifiers.training.datasets import (
    STORE_SOURCE,
    AnnotatedPosts,
    load_annotations,
    load_ruw_stance,
    load_store_annotations,
    milblog_is_criticism,
)
from classifiers.training.protocol import INNER_FOLDS, OUTER_FOLDS, OuterFold, nested_cv_labels
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
    tables: list[LabelTable] = field(default_factory=list)

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
class LabelRow:
    """One label's outer-fold precision / recall / F1 for the model and the tuned baseline,
    beside the annotators' agreement on it (Cohen's kappa, one label against the rest)."""

    label: str
    support: int
    model: dict[str, float]
    baseline: dict[str, float]
    kappa: float | None
    note: str = ""


@dataclass
class LabelTable:
    """Per-label rows for one part of the annotated set, and the macro-F1s over them."""

    name: str
    method: str
    rows: list[LabelRow]
    macro_f1: dict[str, float]  # "model" / "baseline"
    n: int
    notes: list[str] = field(default_factory=list)


@dataclass
class OutOfFold:
    """Every annotated post's outer-fold decisions, per candidate set ("model", "baseline"):
    its stance and the trained themes it carries."""

    stances: dict[str, list[str]]
    themes: dict[str, dict[str, np.ndarray]]  # candidate set -> theme -> 0/1 per post


def out_of_fold(outer: dict[str, dict[str, list[OuterFold]]], gold: Sequence[str]) -> OutOfFold:
    """Pool the outer folds (one repeat) into one decision per post and label; each fold turns
    stance probabilities into stances by the rule its own inner folds chose."""
    names = next(iter(outer.values())).keys()
    stances: dict[str, list[str]] = {}
    themes: dict[str, dict[str, np.ndarray]] = {}
    for name in names:
        stances[name] = [""] * len(gold)
        decided = {label: np.zeros(len(gold), dtype=int) for label in outer}
        for label, by_name in outer.items():
            for fold in by_name[name]:
                decided[label][fold.test_index] = fold.predicted
        for k in range(len(outer["critical"][name])):
            _decide_fold_stances(stances[name], {s: outer[s][name][k] for s in STANCE_NAMES},
                                 gold)
        themes[name] = {label: decided[label] for label in outer if label not in STANCE_NAMES}
    return OutOfFold(stances, themes)


def _decide_fold_stances(stances: list[str], folds: dict[str, OuterFold], gold: Sequence[str]
                         ) -> None:
    """Fill one outer fold's posts' stances, by the rule its inner folds favour (the default
    rule when the folds carry no inner probabilities)."""
    test_index = folds["critical"].test_index
    thresholds = {name: fold.choice.threshold for name, fold in folds.items()}
    inner = {name: p for name, fold in folds.items()
             if (p := fold.choice.inner_probability) is not None}
    rule = DEFAULT_RULE
    if len(inner) == len(folds):
        training = np.setdiff1d(np.arange(len(gold)), test_index)
        rule, _ = choose_rule(inner, thresholds, [gold[i] for i in training])
    for j, post in enumerate(test_index):
        probabilities = {name: float(fold.probability[j]) for name, fold in folds.items()}
        stances[post] = decide_stance(probabilities, thresholds, rule)


def _binary_scores(gold: Sequence[bool], predicted: Sequence[bool]) -> dict[str, float]:
    metrics = evaluate_labels(["yes" if g else "no" for g in gold],
                              ["yes" if p else "no" for p in predicted], ["yes", "no"])
    return {k: round(v, 4) for k, v in metrics.per_class["yes"].items() if k != "support"}


def label_table(
    name: str, data: AnnotatedPosts, decisions: OutOfFold, rows: Sequence[int],
    untrained: Sequence[str], theme_names: Sequence[str],
) -> LabelTable:
    """Four stances (one 4-way decision per post) and every theme, on the posts ``rows``."""
    def pick(values: Sequence[Any] | np.ndarray) -> list[Any]:
        return [values[i] for i in rows]

    gold = pick(data.stances)
    first, second = pick(data.first), pick(data.second)
    table = LabelTable(name, "", [], {}, len(rows))
    four = {cand: evaluate_labels(gold, pick(decisions.stances[cand]), list(STANCE_NAMES))
            for cand in decisions.stances}
    for stance in STANCE_NAMES:
        table.rows.append(LabelRow(
            stance, int(four["model"].per_class[stance]["support"]),
            _scores(four["model"], stance), _scores(four["baseline"], stance),
            _kappa_of([r.stance == stance for r in first], [r.stance == stance for r in second]),
        ))
    theme_f1: dict[str, list[float]] = {"model": [], "baseline": []}
    for theme in theme_names:
        truth = [theme in reading.themes for reading in pick(data.settled)]
        kappa = _kappa_of([theme in r.themes for r in first], [theme in r.themes for r in second])
        if theme in untrained:
            table.rows.append(LabelRow(f"theme:{theme}", sum(truth), {}, {}, kappa,
                                       "untrained: zero-shot (too few labelled posts)"))
            continue
        scores = {cand: _binary_scores(truth, pick(decisions.themes[cand][theme]))
                  for cand in ("model", "baseline")}
        for cand, row in scores.items():
            theme_f1[cand].append(row["f1"])
        table.rows.append(LabelRow(f"theme:{theme}", sum(truth), scores["model"],
                                   scores["baseline"], kappa))
    for cand in ("model", "baseline"):
        table.macro_f1[f"{cand}_four_stances"] = round(four[cand].macro_f1, 4)
        table.macro_f1[f"{cand}_themes"] = round(float(np.mean(theme_f1[cand])), 4) \
            if theme_f1[cand] else 0.0
    return table


def _scores(metrics: LabelMetrics, label: str) -> dict[str, float]:
    return {k: round(v, 4) for k, v in metrics.per_class[label].items() if k != "support"}


def _kappa_of(first: Sequence[bool], second: Sequence[bool]) -> float | None:
    if first == second:
        return 1.0 if first else None
    return round(cohens_kappa([str(v) for v in first], [str(v) for v in second]), 3)


@dataclass
class NestedAnnotated:
    """The nested protocol over the annotated set: the posts, the label set, the outer
    decisions of the model's recipes and of the tuned baseline."""

    data: AnnotatedPosts
    untrained: list[str]
    decisions: OutOfFold
    original_critical: list[bool | None]  # the milblog posts' own is_criticism, else None
    critical_targets: dict[str, list[str]]  # candidate set -> each outer fold's critical target


def nested_annotated(settings: Settings, data: AnnotatedPosts, taxonomy: Taxonomy,
                     original_critical: list[bool | None]) -> NestedAnnotated:
    """Outer folds over every annotated post: each training part chooses every label's recipe,
    C, calibration and threshold in its inner folds (and the critical head's target, where
    posts carry ``original_critical`` labels), the baseline's C likewise."""
    from classifiers.training.train import (
        LABEL_CANDIDATES,
        embed_posts,
        label_set,
        training_encoder,
    )

    features = embed_posts(training_encoder(settings), data.texts).features
    labels = label_set(features, data, taxonomy, original_critical)
    outer = nested_cv_labels(LABEL_CANDIDATES, labels.features, labels.ys, labels.strata,
                             variants=labels.variants)
    targets = {name: [fold.choice.target or "annotation" for fold in folds]
               for name, folds in outer["critical"].items()}
    return NestedAnnotated(data, labels.untrained_themes, out_of_fold(outer, data.stances),
                           original_critical, targets)


def annotated_tables(nested: NestedAnnotated, theme_names: Sequence[str]) -> list[LabelTable]:
    """The whole set, its random part, and the analysts' /label posts when there are any."""
    data = nested.data
    everything = list(range(len(data.texts)))
    parts = [
        ("annotated set, every post", everything),
        ("annotated set, random part (no retrieved posts)",
         [i for i, random_ in enumerate(data.is_random()) if random_]),
        ("annotated set, milblog dev posts (2023 critical patriots, as the hidden check)",
         [i for i, source in enumerate(data.sources) if source == "milblog"]),
        ("analysts' /label posts", [i for i, s in enumerate(data.sources) if s == STORE_SOURCE]),
    ]
    kappa = cohens_kappa([r.stance for r in data.first], [r.stance for r in data.second])
    tables = []
    for title, rows in parts:
        if not rows:
            continue
        table = label_table(title, data, nested.decisions, rows, nested.untrained, theme_names)
        table.method = (
            f"nested CV, {OUTER_FOLDS} outer folds stratified by stance; per label the recipe, "
            f"C, Platt calibration and threshold chosen in {INNER_FOLDS} inner folds of each "
            "outer training part; baseline = char 2-5 TF-IDF + LR with C chosen the same way")
        table.notes = [
            f"annotators' four-stance kappa {kappa:.3f} (whole set); per-label kappa in the "
            "table; two independent language-model passes, a third on disagreements",
            "the four-stance decision: critical when its head says so, else by the stance rule "
            "each outer training part chose in its inner folds (likeliest other stance, or the "
            "codebook's precedence: alarmed by its own threshold first)",
            "the critical head's target, chosen in each outer training part's inner folds "
            "(annotation, or the milblog posts' own is_criticism): "
            + "; ".join(f"{cand} {', '.join(targets)}"
                        for cand, targets in nested.critical_targets.items()),
        ]
        tables.append(table)
    return tables


def is_criticism_section(nested: NestedAnnotated) -> list[Section]:
    """The milblog posts' original ``is_criticism`` labels against the outer folds' critical
    decisions (a fold's critical head learned them on its training posts only, where its
    inner folds chose that target)."""
    rows = [i for i, label in enumerate(nested.original_critical) if label is not None]
    gold = ["critical" if nested.original_critical[i] else "not_critical" for i in rows]
    sections = []
    for cand in ("model", "baseline"):
        predicted = ["critical" if nested.decisions.stances[cand][i] == "critical"
                     else "not_critical" for i in rows]
        sections.append(Section(
            f"milblog-criticism is_criticism: {cand} (nested CV)",
            "outer-fold critical decisions of the annotated-set protocol on the milblog posts, "
            "against the set's own is_criticism labels",
            evaluate_labels(gold, predicted, ["critical", "not_critical"]),
        ))
    return sections


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
    from classifiers.training.train_entities import nested_entities, out_of_fold_attacked

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
    """Every shared evaluation: the annotated set's stances and themes under the nested
    protocol (the model's recipes and the tuned baseline), the milblog is_criticism labels from
    the same outer folds, then the configured classifier on ruw-stance and rusentne."""
    from config.themes import load_themes

    taxonomy = taxonomy or load_themes(settings.themes_file)
    shared_dir = Path(shared_dir)
    data = load_annotations(annotations.file, shared_dir, annotations.demo_corpus)
    if annotations.labels_db is not None:
        data = data.plus(load_store_annotations(annotations.labels_db))
    nested = nested_annotated(settings, data, taxonomy, milblog_is_criticism(data, shared_dir))
    classifier = load_classifier(settings, taxonomy)
    sections = (
        is_criticism_section(nested)
        + evaluate_ruw(classifier, shared_dir)
        + evaluate_rusentne(classifier, shared_dir)
    )
    return SharedReport(classifier.model_version, sections,
                        annotated_tables(nested, taxonomy.theme_names()))


@dataclass
class AnnotationSources:
    """Where the annotations are, the demo corpus some of them name, and an optional store
    whose /label feedback joins them (reported separately as well)."""

    file: Path
    demo_corpus: Path
    labels_db: Path | None = None


def format_label_table(table: LabelTable) -> list[str]:
    """One table as text: per label the model's and the baseline's P / R / F1, support, kappa."""
    lines = [f"== {table.name} (n={table.n})", f"   ({table.method})",
             f"{'label':<26} {'model P':>7} {'R':>6} {'F1':>6}   {'baseline P':>10} {'R':>6} "
             f"{'F1':>6} {'support':>7} {'kappa':>6}"]
    for row in table.rows:
        kappa = "-" if row.kappa is None else f"{row.kappa:.3f}"
        if not row.model:
            lines.append(f"{row.label:<26} {row.note:<49} {row.support:7d} {kappa:>6}")
            continue
        m, b = row.model, row.baseline
        lines.append(f"{row.label:<26} {m['precision']:7.3f} {m['recall']:6.3f} {m['f1']:6.3f}"
                     f"   {b['precision']:10.3f} {b['recall']:6.3f} {b['f1']:6.3f} "
                     f"{row.support:7d} {kappa:>6}")
    lines.append("macro-F1: " + ", ".join(f"{k.replace('_', ' ')} {v:.3f}"
                                          for k, v in table.macro_f1.items()))
    return lines + table.notes


def format_shared_report(report: SharedReport) -> str:
    """The report as plain text: a summary table, the annotated set's per-label tables, then
    each section in full."""
    lines = [f"model {report.model_version}", "", f"{'evaluation':<58} {'macro-F1':>8} {'n':>6}"]
    lines += [f"{t.name + ': ' + k.replace('_', ' '):<58} {v:8.3f} {t.n:6d}"
              for t in report.tables for k, v in t.macro_f1.items()]
    lines += [f"{s.name:<58} {s.metrics.macro_f1:8.3f} {s.metrics.n:6d}" for s in report.sections]
    for table in report.tables:
        lines += ["", *format_label_table(table)]
    for section in report.sections:
        lines += [
            "",
            f"== {section.name}",
            f"   ({section.method})",
            str(section.metrics),
            *section.notes,
        ]
    return "\n".join(lines)
