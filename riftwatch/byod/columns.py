"""The stable column names of every file riftwatch writes (score output, export).

Names only, and the one mapping from a stored score to those names; no I/O here.
"""

from __future__ import annotations

import json
from typing import Any

from config.themes import STANCE_NAMES
from riftwatch.byod.writers import NameList
from store.scores import PROBABILITY_COLUMNS

ITEM_COLUMNS = [
    "id", "key", "feed", "feed_title", "role", "channel", "post_id", "url", "published_at",
    "title", "text", "author", "language", "views", "forwarded_from", "edited",
    "version", "deleted_at", "earlier_versions",
]
PROBABILITY_DIGITS = 4


def theme_column(theme: str) -> str:
    return f"theme_{theme}"


def probability_column(stance: str) -> str:
    return f"p_{stance}"


def score_columns(theme_names: list[str]) -> list[str]:
    """stance, the four stance probabilities, one probability column per theme, the themes
    present (by each theme head's own threshold), targets, language, evidence, model_version:
    in this order, in every file."""
    return [
        "stance", *(probability_column(stance) for stance in STANCE_NAMES),
        *(theme_column(name) for name in theme_names), "themes",
        "targets", "language", "evidence", "model_version",
    ]


def score_fields(
    stance: str, probabilities: dict[str, float], themes: dict[str, float],
    present_themes: list[str], targets: list[str], language: str | None, evidence: str | None,
    model_version: str, theme_names: list[str],
) -> dict[str, Any]:
    """One score as a row fragment under ``score_columns`` (probabilities rounded)."""
    fields: dict[str, Any] = {"stance": stance}
    for name in STANCE_NAMES:
        probability = float(probabilities.get(name, 0.0))
        fields[probability_column(name)] = round(probability, PROBABILITY_DIGITS)
    for name in theme_names:
        fields[theme_column(name)] = round(float(themes.get(name, 0.0)), PROBABILITY_DIGITS)
    fields.update(themes=NameList(present_themes), targets=list(targets), language=language,
                  evidence=evidence, model_version=model_version)
    return fields


def stored_score_fields(row: dict[str, Any], theme_names: list[str]) -> dict[str, Any]:
    """A ``scores`` table row (themes and targets as JSON text) under ``score_columns``."""
    if row.get("stance") is None:
        return {}
    return score_fields(
        stance=row["stance"],
        probabilities={name: row[column] for name, column in PROBABILITY_COLUMNS.items()},
        themes=json.loads(row["themes"] or "{}"),
        present_themes=json.loads(row.get("themes_present") or "[]"),
        targets=json.loads(row["targets"] or "[]"),
        language=row.get("score_language") or row.get("language"),
        evidence=row.get("evidence"),
        model_version=row["model_version"],
        theme_names=theme_names,
    )
