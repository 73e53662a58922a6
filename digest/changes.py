"""Compose the "Deleted or edited" section: critical posts deleted or edited in a window, each
with the words an edit removed (a word-level diff of its earliest kept text and its latest).

Reads stored items, versions and scores; never records changes or renders.
"""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Any

import sqlite_utils

from digest.model import ChangedPost, PostRef, trim_quote
from store.item_history import ItemVersion, changed_between, versions_of
from store.models import from_iso

CRITICAL = "critical"


def word_diff(before: str, after: str) -> tuple[list[str], list[str]]:
    """(runs of words ``before`` has and ``after`` lacks, runs ``after`` added), in order."""
    old, new = before.split(), after.split()
    removed: list[str] = []
    added: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag in ("delete", "replace"):
            removed.append(" ".join(old[old_start:old_end]))
        if tag in ("insert", "replace"):
            added.append(" ".join(new[new_start:new_end]))
    return removed, added


def _text(title: str | None, text: str | None) -> str:
    return text or title or ""


def _changed_post(row: dict[str, Any], versions: list[ItemVersion]) -> ChangedPost:
    latest = _text(row["title"], row["text"])
    first = versions[0] if versions else None
    removed, added = word_diff(_text(first.title, first.text), latest) if first else ([], [])
    post = PostRef(item_id=row["id"], feed_name=row["feed_name"], feed_title=row["feed_title"],
                   url=row["url"], published_at=from_iso(row["published_at"]),
                   quote=trim_quote(latest), stance=row["stance"],
                   stance_probability=row["p_critical"] if row["stance"] == CRITICAL else None,
                   edited=int(row["version"]) > 1, deleted=row["deleted_at"] is not None)
    before = first.stance if first is not None else None
    return ChangedPost(post=post, changed_at=from_iso(row["changed_at"]),
                       deleted=post.deleted, versions=int(row["version"]), removed=removed,
                       added=added, stance_before=before if before != row["stance"] else None)


def _was_critical(row: dict[str, Any], versions: list[ItemVersion]) -> bool:
    return row["stance"] == CRITICAL or any(old.stance == CRITICAL for old in versions)


def compose_changes(db: sqlite_utils.Database, since: datetime, until: datetime,
                    model_version: str | None) -> list[ChangedPost]:
    """Posts deleted or edited in [since, until) that are, or were before an edit, critical;
    the latest change first."""
    rows = changed_between(db, since, until, model_version)
    versions = versions_of(db, [row["id"] for row in rows])
    return [_changed_post(row, versions.get(row["id"], [])) for row in rows
            if _was_critical(row, versions.get(row["id"], []))]
