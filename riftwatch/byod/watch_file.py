"""The posts of an analyst's CSV or JSONL file as a watch reads them (``riftwatch watch test
WATCH FILE``), scored first only when the watch reads scores (a target, a stance) and the file
carries none (a file ``riftwatch score`` wrote has a ``stance`` column).

Reads only; bad rows are skipped as ``riftwatch score`` skips them.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from riftwatch.byod.readers import BadRowHandler, Record, read_records
from store.models import from_iso
from store.watches import WatchedPost, WatchRule

CHANNEL_COLUMNS = ("channel", "feed", "source", "from")
TIME_COLUMNS = ("published_at", "date", "time")
SCORE_BATCH = 64
Scorer = Callable[[list[str]], list[Any]]  # texts → ScoreResult-like (stance, targets, evidence)


def needs_scores(rule: WatchRule) -> bool:
    """A target, a channel's stance or a stance filter reads the classifier's scores."""
    return rule.kind in ("target", "channel") or bool(rule.stances)


def _first(fields: dict[str, Any], names: tuple[str, ...]) -> Any:
    return next((fields[name] for name in names if fields.get(name) not in (None, "")), None)


def _when(value: Any) -> datetime | None:
    try:
        return from_iso(str(value)) if value else None
    except ValueError:
        return None


def _targets(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            value = json.loads(value) if value else []
        except ValueError:
            value = value.split(";")
    return tuple(str(name) for name in value or ())


def _post(record: Record, scored: Any = None) -> WatchedPost:
    fields = record.fields
    when = _when(_first(fields, TIME_COLUMNS))
    return WatchedPost(
        item_id=record.line, feed=str(_first(fields, CHANNEL_COLUMNS) or ""),
        url=_first(fields, ("url", "link")), text=record.text, published_at=when,
        fetched_at=when,
        stance=scored.stance if scored is not None else fields.get("stance"),
        targets=tuple(scored.targets) if scored is not None else _targets(fields.get("targets")),
        evidence=scored.evidence if scored is not None else fields.get("evidence"))


def file_posts(path: Path, rule: WatchRule, load_scorer: Callable[[], Scorer], *,
               text_column: str | None = None, on_bad: BadRowHandler | None = None,
               max_record_chars: int) -> Iterator[WatchedPost]:
    """The file's posts (``item_id`` is the line each starts on), scored by ``load_scorer()``'s
    scorer when the rule needs scores the file lacks."""
    records = read_records(path, text_column, on_bad=on_bad, max_record_chars=max_record_chars)
    first = next(records, None)
    if first is None:
        return
    rows = itertools.chain([first], records)
    if not needs_scores(rule) or "stance" in first.fields:
        yield from (_post(record) for record in rows)
        return
    scorer = load_scorer()
    while batch := list(itertools.islice(rows, SCORE_BATCH)):
        results = scorer([record.text for record in batch])
        yield from (_post(record, result) for record, result in zip(batch, results, strict=True))
