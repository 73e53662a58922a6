"""Targets as the classifier stored them: how often each was attacked and when first, above
all the ``unlisted:`` ones (names the target list does not hold), for the digest's new targets
and the admins' /candidates. Reads only; the classifier writes scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from store.models import from_iso, to_iso

UNLISTED_PREFIX = "unlisted:"  # a stored target the config's [[target]] list does not hold


def unlisted_target(name: str) -> str:
    """The stored form of a target named in a post but not in the config's target list."""
    return f"{UNLISTED_PREFIX}{name}"


def is_unlisted(target: str) -> bool:
    return target.startswith(UNLISTED_PREFIX)


def target_display_name(target: str) -> str:
    """An unlisted target's name without its prefix; a listed target's name as it is."""
    return target[len(UNLISTED_PREFIX):] if is_unlisted(target) else target


@dataclass(frozen=True)
class TargetTally:
    """One stored target: posts and channels attacking it, first and last attack."""

    target: str
    posts: int
    channels: int
    first_at: datetime | None
    last_at: datetime | None

    @property
    def unlisted(self) -> bool:
        return is_unlisted(self.target)


_TALLY = (
    "SELECT j.value AS target, COUNT(DISTINCT i.id) AS posts, "
    "COUNT(DISTINCT i.feed_id) AS channels, MIN(i.published_at) AS first_at, "
    "MAX(i.published_at) AS last_at "
    "FROM scores s JOIN items i ON i.id = s.item_id, json_each(s.targets) j "
    "WHERE s.model_version = ?"
)


def _tallies(db: sqlite_utils.Database, sql: str, params: list) -> list[TargetTally]:
    return [TargetTally(row["target"], int(row["posts"]), int(row["channels"]),
                        from_iso(row["first_at"]), from_iso(row["last_at"]))
            for row in db.query(sql, params)]


def unlisted_targets(db: sqlite_utils.Database, model_version: str, limit: int = 30
                     ) -> list[TargetTally]:
    """Unlisted targets, most attacked first: candidates for the config's target list."""
    sql = (f"{_TALLY} AND j.value LIKE '{UNLISTED_PREFIX}%' GROUP BY j.value "
           "ORDER BY posts DESC, channels DESC, last_at DESC LIMIT ?")
    return _tallies(db, sql, [model_version, limit])


def first_attacked_between(db: sqlite_utils.Database, model_version: str, since: datetime,
                           until: datetime) -> list[TargetTally]:
    """Targets whose first stored attack falls in [since, until): new in that window (counts
    are up to ``until``), most attacked first."""
    sql = (f"{_TALLY} AND i.published_at < ? GROUP BY j.value HAVING first_at >= ? "
           "ORDER BY posts DESC, channels DESC, j.value")
    return _tallies(db, sql, [model_version, to_iso(until), to_iso(since)])
