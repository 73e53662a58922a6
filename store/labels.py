"""Analysts' labels on items (the bot's ``/label`` feedback): checked on the way in, joined
with their item's text on the way out.

Persists and reads; never scores, and never decides who may label (the bot checks that).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from config.errors import RiftwatchError
from config.themes import STANCE_NAMES
from store.models import normalise_url, to_iso, utc_now

WRONG = "wrong"
THEME_PREFIX = "theme:"
_THEME_NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


class LabelError(RiftwatchError, ValueError):
    """A label that cannot be stored: unknown word, unknown theme, or no such item."""


@dataclass(frozen=True)
class Label:
    """One stored label with the text of the item it is about."""

    id: int
    item_id: int
    user_id: int
    chat_id: int | None
    label: str
    model_version: str | None
    created_at: str
    text: str
    feed: str

    @property
    def kind(self) -> str:
        """``stance``, ``theme`` or ``wrong``."""
        if self.label.startswith(THEME_PREFIX):
            return "theme"
        return WRONG if self.label == WRONG else "stance"

    @property
    def theme(self) -> str | None:
        return self.label.removeprefix(THEME_PREFIX) if self.kind == "theme" else None


def normalise_label(text: str, theme_names: Collection[str] | None = None) -> str:
    """``Critical`` → ``critical``, ``theme:Supply_Shortage`` → ``theme:supply_shortage``;
    LabelError naming the accepted words otherwise (themes checked when names are given)."""
    label = text.strip().lower()
    if label in STANCE_NAMES or label == WRONG:
        return label
    if label.startswith(THEME_PREFIX):
        theme = label.removeprefix(THEME_PREFIX).strip()
        known = theme_names is None or theme in theme_names
        if _THEME_NAME.match(theme) and known:
            return THEME_PREFIX + theme
        choices = ", ".join(sorted(theme_names or [])) or "a theme name"
        raise LabelError(f"unknown theme {theme!r}; use one of: {choices}")
    raise LabelError(f"unknown label {text.strip()!r}; use {', '.join(STANCE_NAMES)}, "
                     f"theme:NAME or {WRONG}")


def add_label(
    db: sqlite_utils.Database, item_id: int, user_id: int, label: str, *,
    chat_id: int | None = None, model_version: str | None = None,
    theme_names: Collection[str] | None = None, now: datetime | None = None,
) -> Label:
    """Check and store one analyst's label for an item; return it as stored."""
    word = normalise_label(label, theme_names)
    if db.execute("SELECT 1 FROM items WHERE id = ?", [item_id]).fetchone() is None:
        raise LabelError(f"no stored item with id {item_id}")
    with db.conn:
        cursor = db.execute(
            "INSERT INTO labels (item_id, user_id, chat_id, label, model_version, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [item_id, user_id, chat_id, word, model_version, to_iso(now or utc_now())],
        )
    label_id = int(cursor.lastrowid or 0)
    return labelled_items(db, label_id=label_id)[0]


_LABELS_SQL = (
    "SELECT l.*, i.text AS text, f.name AS feed FROM labels l "
    "JOIN items i ON i.id = l.item_id JOIN feeds f ON f.id = i.feed_id"
)


def labelled_items(
    db: sqlite_utils.Database, *, since: datetime | None = None, label_id: int | None = None,
) -> list[Label]:
    """Stored labels (all, those since a time, or one), oldest first, with their item text."""
    where: list[str] = []
    params: list[Any] = []
    if since is not None:
        where.append("l.created_at >= ?")
        params.append(to_iso(since))
    if label_id is not None:
        where.append("l.id = ?")
        params.append(label_id)
    sql = _LABELS_SQL + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY l.id"
    return [Label(**row) for row in db.query(sql, params)]


def latest_stance_labels(labels: list[Label]) -> list[Label]:
    """The newest stance label per item (analysts may correct each other), in item order."""
    latest = {label.item_id: label for label in labels if label.kind == "stance"}
    return [latest[item_id] for item_id in sorted(latest)]


def item_id_for_url(db: sqlite_utils.Database, url: str) -> int | None:
    """The stored item a permalink (as quoted in a digest) points at, if any."""
    wanted = normalise_url(url)
    for item_id, stored in db.execute(
        "SELECT id, url FROM items WHERE url = ? OR url = ?", [url, wanted]
    ).fetchall():
        if stored and normalise_url(stored) == wanted:
            return int(item_id)
    return None
