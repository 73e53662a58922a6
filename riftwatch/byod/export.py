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
from typing import Any

import sqlite_utils

from digest.compose import latest_model_version
from riftwatch.byod.columns import ITEM_COLUMNS, score_columns, stored_score_fields
from riftwatch.byod.writers import OutputFormat, atomic_rows
from store.item_history import earlier_versions_sql
from store.models import to_iso

log = logging.getLogger(__name__)

_ITEMS_SQL = (
    "SELECT i.id, i.key, f.name AS feed, f.title AS feed_title, f.role, f.channel, i.post_id, "
    "i.url, i.published_at, i.title, i.text, i.author, i.language, i.views, i.forwarded_from, "
    "i.edited, i.version, i.deleted_at, {versions} AS earlier_versions{score_select} "
    "FROM items i JOIN feeds f ON f.id = i.feed_id{score_join} "
    "WHERE i.published_at >= ?{channel_filter} ORDER BY i.published_at, i.id"
)
_SCORE_SELECT = (
    ", s.model_version, s.stance, s.p_supportive, s.p_critical, s.p_alarmed, s.p_neutral, "
    "s.themes, s.themes_present, s.targets, s.evidence, s.language AS score_language"
)
_SCORE_JOIN = " LEFT JOIN scores s ON s.item_id = i.id AND s.model_version = ?"


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


def _query(
    since: datetime, channel: str | None, model_version: str | None, with_scores: bool
) -> tuple[str, list[Any]]:
    sql = _ITEMS_SQL.format(
        versions=earlier_versions_sql("i"),
        score_select=_SCORE_SELECT if with_scores else "",
        score_join=_SCORE_JOIN if with_scores else "",
        channel_filter=" AND f.name = ?" if channel else "",
    )
    params: list[Any] = [model_version] if with_scores else []
    params.append(to_iso(since))
    if channel:
        params.append(channel)
    return sql, params


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
    sql, params = _query(since, channel, model_version, with_scores)
    columns = export_columns(theme_names)
    with atomic_rows(out, file_format, columns) as writer:
        for row in db.query(sql, params):
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
