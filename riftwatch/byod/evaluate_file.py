"""Evaluate the shipped model against labels an analyst brings: a labelled file, or /label feedback.

Scores the texts and compares; it never trains, and the metrics come from
``classifiers.training.evaluate``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from classifiers.training.datasets import parse_bool_label
from classifiers.training.evaluate import TextScorer, evaluate_labels, score_all
from config.errors import RiftwatchError
from config.themes import STANCE_NAMES, Taxonomy
from riftwatch.byod.positive import PositiveError, PositiveRule, default_positive, parse_positive
from riftwatch.byod.readers import (
    MAX_RECORD_CHARS,
    BadRow,
    BadRowHandler,
    ReadError,
    Record,
    read_records,
)
from store.labels import labelled_items, latest_stance_labels

POSITIVE, NEGATIVE = "yes", "no"


class EvaluationError(RiftwatchError):
    """Nothing to evaluate, or options that do not fit the labels: one line says why."""


@dataclass
class Evaluation:
    """What was evaluated and how the model did (``metrics`` as ``evaluate_labels`` gives it)."""

    source: str
    task: str  # 'yes/no' or 'stance'
    positive: str | None
    model_version: str
    rows: int
    bad_rows: int
    metrics: Any
    notes: list[str] = field(default_factory=list)


# ---- labels -------------------------------------------------------------------------------------

def read_label(value: object, task: str | None) -> tuple[str, str]:
    """A label cell → (task, class): yes/no words give 'yes'/'no', stance names themselves."""
    text = "" if value is None else str(value).strip()
    if task in (None, "stance") and text.lower() in STANCE_NAMES:
        return "stance", text.lower()
    if task in (None, "yes/no"):
        try:
            return "yes/no", POSITIVE if parse_bool_label(text) else NEGATIVE
        except ValueError:
            pass
    expected = "a stance name" if task == "stance" else "yes/no (1/0, true/false, yes/no)"
    raise ValueError(f"label {text!r} is not {expected}")


@dataclass
class _LabelledRows:
    """Pairs each good record with its label class; rows with unreadable labels go to on_bad."""

    column: str
    on_bad: BadRowHandler
    task: str | None = None

    def pairs(self, records: Iterator[Record]) -> Iterator[tuple[str, str]]:
        for record in records:
            if self.column not in record.fields:
                raise ReadError(f"no label column {self.column!r}; the file has: "
                                f"{', '.join(record.fields)}")
            try:
                self.task, gold = read_label(record.fields[self.column], self.task)
            except ValueError as exc:
                self.on_bad(BadRow(record.line, str(exc)))
                continue
            yield record.text, gold


# ---- predictions --------------------------------------------------------------------------------

def predicted_class(result: Any, task: str, rule: PositiveRule | None) -> str:
    """The model's answer in the labels' terms: its stance, or yes/no by the positive rule."""
    if task == "stance":
        return str(result.stance)
    assert rule is not None
    return POSITIVE if rule.matches(result.stance, result.present_themes) else NEGATIVE


def _predict_all(
    pairs: Iterator[tuple[str, str]], scorer: TextScorer, posts_per_call: int,
    task_of: _LabelledRows, rule: PositiveRule | None,
) -> tuple[list[str], list[str]]:
    gold: list[str] = []
    predicted: list[str] = []
    while batch := list(itertools.islice(pairs, posts_per_call)):
        results = scorer.score_texts([text for text, _ in batch])
        assert task_of.task is not None
        gold.extend(label for _, label in batch)
        predicted.extend(predicted_class(result, task_of.task, rule) for result in results)
    return gold, predicted


def classes_for(task: str) -> list[str]:
    return [POSITIVE, NEGATIVE] if task == "yes/no" else list(STANCE_NAMES)


def evaluate_predictions(gold: list[str], predicted: list[str], task: str) -> Any:
    """The metrics for already-made predictions (the deterministic half of an evaluation)."""
    return evaluate_labels(gold, predicted, labels=classes_for(task))


def _rule(positive: str | None, label_column: str, taxonomy: Taxonomy) -> PositiveRule:
    try:
        return parse_positive(positive or default_positive(label_column), taxonomy.theme_names())
    except PositiveError as exc:
        raise EvaluationError(str(exc)) from None


def evaluate_file(
    path: Path, load_scorer: Callable[[], TextScorer], taxonomy: Taxonomy, *,
    label_column: str, positive: str | None = None, text_column: str | None = None,
    posts_per_call: int = 128, on_bad: BadRowHandler | None = None,
    max_record_chars: int = MAX_RECORD_CHARS,
) -> Evaluation:
    """Score every labelled row of ``path`` and compare with its label (streaming).

    ``load_scorer`` is called once the first labelled row is read, so a file that cannot be
    used fails before the model loads.
    """
    rule = _rule(positive, label_column, taxonomy)
    bad: list[BadRow] = []

    def report(row: BadRow) -> None:
        bad.append(row)
        if on_bad is not None:
            on_bad(row)

    labelled = _LabelledRows(label_column, report)
    pairs = labelled.pairs(read_records(Path(path), text_column, on_bad=report,
                                        max_record_chars=max_record_chars))
    first = next(pairs, None)
    if first is None:
        why = f"; the first bad row: {bad[0]}" if bad else ""
        raise EvaluationError(f"no labelled rows to evaluate in {path}{why}")
    scorer = load_scorer()
    gold, predicted = _predict_all(itertools.chain([first], pairs), scorer, posts_per_call,
                                   labelled, rule)
    task = labelled.task or "yes/no"
    return Evaluation(
        source=str(path), task=task, positive=rule.expression if task == "yes/no" else None,
        model_version=scorer.model_version, rows=len(gold), bad_rows=len(bad),
        metrics=evaluate_predictions(gold, predicted, task),
    )


# ---- stored /label feedback ---------------------------------------------------------------------

def evaluate_stored_labels(
    db: sqlite_utils.Database, load_scorer: Callable[[], TextScorer], *, posts_per_call: int = 128,
) -> Evaluation:
    """The model against analysts' stance labels (the latest per item), with theme and
    ``wrong`` labels summarised in the notes."""
    labels = labelled_items(db)
    chosen = latest_stance_labels(labels)
    if not chosen:
        raise EvaluationError(f"no stance labels stored yet ({len(labels)} labels in all); "
                              "analysts add them with /label in the bot")
    scorer = load_scorer()
    results = score_all(scorer, [label.text for label in chosen], posts_per_call)
    gold = [label.label for label in chosen]
    predicted = [str(result.stance) for result in results]
    evaluation = Evaluation(
        source="stored /label feedback", task="stance", positive=None,
        model_version=scorer.model_version, rows=len(gold), bad_rows=0,
        metrics=evaluate_predictions(gold, predicted, "stance"),
    )
    evaluation.notes = _other_label_notes(labels, scorer, posts_per_call)
    return evaluation


def _other_label_notes(labels: list, scorer: TextScorer, posts_per_call: int) -> list[str]:
    themed = [label for label in labels if label.kind == "theme"]
    notes = []
    if themed:
        results = score_all(scorer, [label.text for label in themed], posts_per_call)
        found = sum(rule_for_theme(label.theme).matches(result.stance, result.present_themes)
                    for label, result in zip(themed, results, strict=True))
        notes.append(f"theme labels: the model finds the labelled theme in {found} of "
                     f"{len(themed)} posts")
    wrong = [label for label in labels if label.kind == "wrong"]
    if wrong:
        versions = sorted({label.model_version or "?" for label in wrong})
        notes.append(f"'wrong' labels: {len(wrong)} (on scores of {', '.join(versions)})")
    return notes


def rule_for_theme(theme: str | None) -> PositiveRule:
    return PositiveRule(f"theme:{theme}", frozenset(), frozenset({theme or ""}))


# ---- output -------------------------------------------------------------------------------------

def evaluation_dict(evaluation: Evaluation) -> dict[str, Any]:
    data = asdict(evaluation)
    metrics = evaluation.metrics
    data["metrics"] = metrics.to_dict() if hasattr(metrics, "to_dict") else metrics
    return data


def format_evaluation(evaluation: Evaluation, output: str = "text") -> str:
    if output == "json":
        return json.dumps(evaluation_dict(evaluation), ensure_ascii=False, indent=2)
    head = [f"{evaluation.source}: {evaluation.rows} labelled rows "
            f"({evaluation.bad_rows} skipped), model {evaluation.model_version}"]
    if evaluation.positive:
        head.append(f"positive prediction: {evaluation.positive}")
    return "\n".join(head + [str(evaluation.metrics)] + evaluation.notes)
