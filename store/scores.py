"""How a stored score is read back: the one SQL expression for the probability of its stance,
the one for whether it carries a theme, which model scored last and what it has not scored.

Reads only; the classifier writes scores. Every figure labelled with a stance (a digest line,
the /label reply) takes its number from ``stance_probability_sql`` so they cannot disagree;
every count of posts with a theme asks ``theme_present_sql`` (the theme head's own threshold,
decided when the post was scored).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlite_utils

from config.themes import STANCE_NAMES
from store.post_vectors import SCORED_TEXT_SQL, save_vectors

# The ``scores`` column that holds each stance's probability.
PROBABILITY_COLUMNS = {stance: f"p_{stance}" for stance in STANCE_NAMES}


def stance_probability_sql(alias: str = "s") -> str:
    """SQL for the probability of the row's own stance (``alias`` names the scores table)."""
    cases = " ".join(f"WHEN '{stance}' THEN {alias}.{column}"
                     for stance, column in PROBABILITY_COLUMNS.items())
    return f"CASE {alias}.stance {cases} END"


def theme_present_sql(alias: str = "s") -> str:
    """SQL that is 1 when the score carries the theme bound to its one ``?`` parameter."""
    return f"EXISTS (SELECT 1 FROM json_each({alias}.themes_present) WHERE value = ?)"


LATEST_MODEL_SQL = "SELECT model_version FROM scores ORDER BY scored_at DESC LIMIT 1"


def latest_model_version(db: sqlite_utils.Database) -> str | None:
    """The model version that scored last; None before anything was scored."""
    row = db.execute(LATEST_MODEL_SQL).fetchone()
    return row[0] if row else None


def count_unscored_items(db: sqlite_utils.Database, model_version: str | None) -> int:
    """Stored items that ``model_version`` has not scored (every item when it is None)."""
    return int(db.execute(
        "SELECT COUNT(*) FROM items WHERE id NOT IN "
        "(SELECT item_id FROM scores WHERE model_version = ?)", [model_version or ""]
    ).fetchone()[0])


def unscored_items(db: sqlite_utils.Database, model_version: str, limit: int
                   ) -> list[tuple[int, str]]:
    """Up to ``limit`` (id, text) pairs without a score for ``model_version``, oldest id first
    (the text a post is scored on: its text, else its title)."""
    rows = db.execute(
        f"""SELECT i.id, {SCORED_TEXT_SQL} FROM items i
           WHERE NOT EXISTS (SELECT 1 FROM scores s
                             WHERE s.item_id = i.id AND s.model_version = ?)
           ORDER BY i.id LIMIT ?""",
        [model_version, limit],
    ).fetchall()
    return [(int(item_id), str(text)) for item_id, text in rows]


def save_scored_batch(db: sqlite_utils.Database, rows: Sequence[dict[str, Any]], space: str,
                      vectors: Sequence[tuple[int, np.ndarray]]) -> None:
    """One scoring batch's ``scores`` rows and search vectors, in one transaction (``INSERT
    OR IGNORE``: a second process that scored the same posts first wins, nothing doubles)."""
    with db.conn:
        db.table("scores").insert_all(rows, ignore=True)
        save_vectors(db, space, vectors)
