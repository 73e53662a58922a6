"""Compose the digest's fastest-spreading-by-views line: critical posts of a window whose views
per hour run furthest above their channel's usual at the same age.

Reads stored view samples, items and scores; never samples views or renders.
"""

from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from config import Settings
from digest.model import PostRef, ViewSpeed, trim_quote
from store.item_history import latest_view_sample, samples_at_age
from store.models import from_iso, to_iso
from store.scores import stance_probability_sql

MIN_AGE_HOURS = 0.25  # a younger sample's views per hour say little yet
AGE_FACTOR = 2.0  # another post's sample counts as "the same age" within this factor


def _critical_posts(db: sqlite_utils.Database, since: datetime, until: datetime,
                    model_version: str) -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT i.id, i.feed_id, i.url, i.published_at, i.text, i.version, i.deleted_at, "
        f"f.name AS feed_name, f.title AS feed_title, s.stance, {stance_probability_sql('s')} "
        "AS stance_probability, s.evidence, s.language FROM items i "
        "JOIN feeds f ON f.id = i.feed_id "
        "JOIN scores s ON s.item_id = i.id AND s.model_version = ? "
        "WHERE s.stance = 'critical' AND i.views IS NOT NULL "
        "AND i.published_at >= ? AND i.published_at < ?",
        [model_version, to_iso(since), to_iso(until)]))


def _hours(start: str, end: str) -> float:
    first, last = from_iso(start), from_iso(end)
    return (last - first).total_seconds() / 3600 if first and last else 0.0


def channel_usual(samples: list[tuple[int, str, str, int]], item_id: int, age_hours: float
                  ) -> tuple[float, int]:
    """(median views per hour, posts) over the other posts' samples, each post's sample
    nearest in age (on a log scale) to ``age_hours``."""
    nearest: dict[int, tuple[float, float]] = {}
    for other, published_at, seen_at, views in samples:
        age = max(_hours(published_at, seen_at), MIN_AGE_HOURS)
        if other == item_id:
            continue
        distance = abs(math.log(age / age_hours))
        if other not in nearest or distance < nearest[other][0]:
            nearest[other] = (distance, views / age)
    rates = [rate for _, rate in nearest.values()]
    return (statistics.median(rates) if rates else 0.0), len(rates)


def _speed(db: sqlite_utils.Database, row: dict[str, Any], settings: Settings,
           until: datetime) -> ViewSpeed | None:
    latest = latest_view_sample(db, row["id"], until)
    if latest is None:
        return None
    seen_at, views = latest
    age = max(_hours(row["published_at"], seen_at), MIN_AGE_HOURS)
    published = from_iso(row["published_at"]) or until
    samples = samples_at_age(db, row["feed_id"],
                             published - timedelta(days=settings.baseline_days),
                             int(age * 3600 / AGE_FACTOR), int(age * 3600 * AGE_FACTOR), until)
    usual, posts = channel_usual(samples, row["id"], age)
    if posts < settings.views_min_channel_posts or usual <= 0:
        return None
    post = PostRef(item_id=row["id"], feed_name=row["feed_name"], feed_title=row["feed_title"],
                   url=row["url"], published_at=published,
                   quote=trim_quote(row.get("evidence") or row.get("text")),
                   stance=row["stance"], stance_probability=row["stance_probability"],
                   language=row["language"], edited=int(row["version"]) > 1,
                   deleted=row["deleted_at"] is not None)
    return ViewSpeed(post=post, views=views, age_hours=age, per_hour=views / age,
                     usual_per_hour=usual, ratio=views / age / usual, channel_posts=posts)


def fastest_by_views(db: sqlite_utils.Database, settings: Settings, since: datetime,
                     until: datetime, model_version: str | None) -> list[ViewSpeed]:
    """Critical posts of [since, until) with enough of their channel's posts sampled near
    their age, fastest against that usual first, ``settings.views_fastest_shown`` at most."""
    if model_version is None:
        return []
    speeds = [_speed(db, row, settings, until)
              for row in _critical_posts(db, since, until, model_version)]
    found = [speed for speed in speeds if speed is not None]
    found.sort(key=lambda speed: (-speed.ratio, -speed.views, speed.post.item_id))
    return found[:settings.views_fastest_shown]
