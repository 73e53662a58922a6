"""Score every row of an analyst's CSV or JSONL file with the classifier, streaming.

Reads a batch, scores it, writes it, forgets it: memory stays flat on any file size. The
model comes from ``classifiers``; this module never trains and never touches the store.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers.training.evaluate import TextScorer
from config.errors import RiftwatchError
from riftwatch.byod.columns import score_columns, score_fields
from riftwatch.byod.readers import (
    MAX_RECORD_CHARS,
    BadRow,
    BadRowHandler,
    Record,
    read_records,
)
from riftwatch.byod.writers import atomic_rows, check_output_path, output_format

log = logging.getLogger(__name__)

RENAMED_INPUT_PREFIX = "input_"


class NothingToScore(RiftwatchError):
    """Not one row could be read: one line says why."""


@dataclass(frozen=True)
class ScoreFileReport:
    scored: int
    bad_rows: int
    seconds: float  # reading, scoring and writing, after the model was loaded
    load_seconds: float
    model_version: str
    out: Path

    @property
    def posts_per_second(self) -> float:
        return self.scored / self.seconds if self.seconds > 0 else 0.0


def result_fields(result: Any, model_version: str, theme_names: list[str]) -> dict[str, Any]:
    """A classifier ``ScoreResult`` under the stable score column names."""
    return score_fields(
        stance=result.stance, probabilities=result.stance_probabilities, themes=result.themes,
        present_themes=result.present_themes, targets=result.targets,
        language=result.language, evidence=result.evidence, model_version=model_version,
        theme_names=theme_names,
    )


def output_columns(input_columns: list[str], theme_names: list[str]) -> tuple[list[str], dict]:
    """Input columns (renamed ``input_X`` where a score column is also called X), then scores."""
    scores = score_columns(theme_names)
    renamed = {name: RENAMED_INPUT_PREFIX + name for name in input_columns if name in scores}
    return [renamed.get(name, name) for name in input_columns] + scores, renamed


def _batches(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    while batch := list(itertools.islice(records, size)):
        yield batch


@dataclass
class _BadRows:
    """Counts bad rows, keeps the first for the error message, passes each one on."""

    forward: BadRowHandler | None
    count: int = 0
    first: BadRow | None = None

    def __call__(self, row: BadRow) -> None:
        self.count += 1
        self.first = self.first or row
        if self.forward is not None:
            self.forward(row)


def _first_record(records: Iterator[Record], source: Path, bad: _BadRows) -> Record:
    first = next(records, None)
    if first is None:
        why = f"{bad.count} bad rows, the first {bad.first}" if bad.count else \
            "no rows after the header"
        raise NothingToScore(f"nothing to score in {source}: {why}")
    return first


def score_file(
    source: Path, out: Path, load_scorer: Callable[[], TextScorer], theme_names: list[str], *,
    text_column: str | None = None, posts_per_call: int = 128, on_bad: BadRowHandler | None = None,
    progress: Callable[[int], None] | None = None, max_record_chars: int = MAX_RECORD_CHARS,
) -> ScoreFileReport:
    """Score ``source`` into ``out`` (CSV or JSONL by extension), written atomically.

    ``load_scorer`` is called once the first row has been read, so a file that cannot be
    read fails at once: ``ReadError`` when the file cannot be opened or has no text column,
    ``NothingToScore`` when not one row can be read, ``OutputError`` when ``out`` cannot be
    written there; ``RecordTooLong`` at a line or CSV record longer than ``max_record_chars``,
    and then no output is written at all.
    """
    check_output_path(out)
    bad = _BadRows(on_bad)
    records = read_records(source, text_column, on_bad=bad, max_record_chars=max_record_chars)
    first = _first_record(records, source, bad)
    loading = time.perf_counter()
    classifier = load_scorer()
    started = time.perf_counter()
    columns, renamed = output_columns(list(first.fields), theme_names)
    scored = 0
    with atomic_rows(out, output_format(out), columns) as writer:
        for batch in _batches(itertools.chain([first], records), posts_per_call):
            results = classifier.score_texts([record.text for record in batch])
            for record, result in zip(batch, results, strict=True):
                row = {renamed.get(name, name): value for name, value in record.fields.items()}
                writer.write(row | result_fields(result, classifier.model_version, theme_names))
            scored += len(batch)
            if progress is not None:
                progress(len(batch))
    seconds = time.perf_counter() - started
    log.info("scored %d rows of %s in %.1fs, %d bad rows", scored, source, seconds, bad.count)
    return ScoreFileReport(scored=scored, bad_rows=bad.count, seconds=seconds,
                           load_seconds=started - loading,
                           model_version=classifier.model_version, out=out)
