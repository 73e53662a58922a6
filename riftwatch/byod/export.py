"""Export stored items (and optionally their scores) for a window as CSV or JSON Lines.

One row per item, stable column names, streamed from SQLite and written atomically; never
fetches or scores. A row holds the latest text, its version number, when covering fetches
found it deleted, and its kept earlier versions (a JSON list) when it was edited.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlite_utils

from riftwatch.byod.columns import ITEM_COLUMNS, score_columns, stored_score_fields
from riftwatch.byod.writers import OutputFormat, atomic_rows
from store.models import to_iso
from store.posts import posts_for_export
from store.scores import latest_model_version

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class ExportReport:
    rows: int
    path: Path | None
    model_version: str | None


def export_columns(theme_names: list[str] | None) -> list[str]:
    """The file's columns: the item's, then (with scores) the score's, ``language`` once."""
    if theme_names is None:
        return list(ITEM_COLUMNS)
    return ITEM_COLUMNS + [name for name in score_columns(theme_names) if name != "language"]


def export_items(
    db: sqlite_utils.Database, out: Path | None, file_format: OutputFormat, since: datetime,
    *, theme_names: list[str] | None = None, model_version: str | None = None,
    channel: str | None = None,
) -> ExportReport:
    """Write items published since ``since`` to ``out`` (None: stdout), oldest first.

    With ``theme_names`` the rows carry the scores of ``model_version`` (default: the model
    that scored last); items it has not scored have empty score columns.
    """
    with_scores = theme_names is not None
    if with_scores and model_version is None:
        model_version = latest_model_version(db)
    columns = export_columns(theme_names)
    rows = posts_for_export(db, since, channel, with_scores=with_scores,
                            model_version=model_version)
    with atomic_rows(out, file_format, columns) as writer:
        for row in rows:
            fields = dict.fromkeys(columns) | {name: row.get(name) for name in ITEM_COLUMNS}
            fields["edited"] = bool(fields["edited"])
            if fields["earlier_versions"]:
                fields["earlier_versions"] = json.loads(fields["earlier_versions"])
            if theme_names is not None:
                scored = stored_score_fields(row, theme_names)
                scored["language"] = scored.get("language") or fields["language"]
                fields.update(scored)
            writer.write(fields)
    log.info("exported %d items since %s to %s", writer.count, to_iso(since), out or "stdout")
    return ExportReport(rows=writer.count, path=out, model_version=model_version)
