"""Readers for labelled texts: the shared data folder's sets (paths given by callers) and the
analysts' /label feedback in a store.

Only reads into plain lists; never trains or scores, never copies data into the package.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

from store.db import open_db
from store.labels import labelled_items, latest_stance_labels

csv.field_size_limit(sys.maxsize)

TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f"}


def parse_bool_label(value: str) -> bool:
    """``1/0``, ``true/false`` (any case), ``yes/no`` to a bool; ValueError otherwise."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"not a yes/no label: {value!r}")


@dataclass
class LabelledTexts:
    """Texts with one label each (and an optional group, e.g. the channel)."""

    texts: list[str]
    labels: list[str]
    groups: list[str]


@dataclass
class EntitySentence:
    """One RuSentNE row: a sentence, the entity span and sentiment toward it (-1/0/1)."""

    sentence: str
    entity: str
    start: int
    end: int
    label: int


def load_milblog(shared_dir: Path) -> LabelledTexts:
    """``milblog-criticism/dev.csv``: labels ``critical`` / ``not_critical``."""
    path = Path(shared_dir) / "milblog-criticism" / "dev.csv"
    texts, labels, groups = [], [], []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = (row.get("message") or "").strip()
            if not text:
                continue
            texts.append(text)
            labels.append("critical" if parse_bool_label(row["is_criticism"]) else "not_critical")
            groups.append(row.get("channel_name") or "")
    return LabelledTexts(texts, labels, groups)


def load_store_labels(db_path: Path) -> LabelledTexts:
    """Analysts' /label stance feedback from a store: ``critical`` / ``not_critical``.

    The newest stance label per item counts; theme and ``wrong`` labels are not used here.
    """
    db = open_db(db_path)
    try:
        chosen = latest_stance_labels(labelled_items(db))
    finally:
        db.conn.close()
    return LabelledTexts(
        texts=[label.text for label in chosen],
        labels=["critical" if label.label == "critical" else "not_critical" for label in chosen],
        groups=[label.feed for label in chosen],
    )


def load_ruw_stance(shared_dir: Path, splits: tuple[str, ...] = ("val",)) -> LabelledTexts:
    """``ruw-stance`` tweets with their stance toward Russia (FAVOR / AGAINST / NONE)."""
    texts, labels, groups = [], [], []
    for split in splits:
        path = Path(shared_dir) / "ruw-stance" / f"raw_{split}_Russia_Ukraine.csv"
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            for row in csv.DictReader(handle):
                stance = _stance_toward(row, "Russia")
                text = (row.get("Tweet") or "").strip()
                if stance and text:
                    texts.append(text)
                    labels.append(stance)
                    groups.append(split)
    return LabelledTexts(texts, labels, groups)


def _stance_toward(row: dict[str, str], target: str) -> str | None:
    for index in ("1", "2"):
        if (row.get(f"Target {index}") or "").strip() == target:
            return (row.get(f"Stance {index}") or "").strip().upper() or None
    return None


def load_rusentne(shared_dir: Path) -> list[EntitySentence]:
    """``rusentne/train_data.csv`` (tab-separated despite the name)."""
    path = Path(shared_dir) / "rusentne" / "train_data.csv"
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            try:
                rows.append(
                    EntitySentence(
                        row["sentence"],
                        row["entity"],
                        int(row["entity_pos_start_rel"]),
                        int(row["entity_pos_end_rel"]),
                        int(row["label"]),
                    )
                )
            except (KeyError, TypeError, ValueError):
                continue
    return rows
