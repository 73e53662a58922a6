"""Compose the digest's fastest-spreading-by-views line: critical posts of a window whose views
per hour run furthest above their channel's usual at the same age (the median of its other
recent posts' views per hour in the same age bucket, ``store.item_history.age_bucket``).

Reads stored view samples, items and scores; never samples views or renders.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from config import Settings
from digest.model import PostRef, ViewSpeed, trim_quote
from store.item_history import (
    critical_posts_with_views,
    latest_view_sample,
    samples_in_bucket,
)
from store.models import from_iso

MIN_AGE_HOURS = 0.25  # a younger sample's views per hour say little yet


def _hours(start: str, end: str) -> float:
    first, last = from_iso(start), from_iso(end)
    age = (last - first).total_seconds() / 3600 if first and last else 0.0
    return max(age, MIN_AGE_HOURS)


Rates = dict[int, float]  # item id → views per hour at its sample in one age bucket


class _ChannelUsual:
    """Views per hour of a channel's posts in one age bucket, read once per (feed, bucket)."""

    def __init__(self, db: sqlite_utils.Database, settings: Settings, until: datetime) -> None:
        self.db, self.settings, self.until = db, settings, until
        self.cache: dict[tuple[int, int], Rates] = {}

    def rates(self, feed_id: int, bucket: int, published: datetime) -> Rates:
        key = (feed_id, bucket)
        if key not in self.cache:
            since = published - timedelta(days=self.settings.baseline_days)
            self.cache[key] = {item_id: views / _hours(published_at, seen_at)
                               for item_id, published_at, seen_at, views in samples_in_bucket(
                                   self.db, feed_id, bucket, since, self.until)}
        return self.cache[key]


def _speed(db: sqlite_utils.Database, row: dict[str, Any], usual: _ChannelUsual,
           until: datetime) -> ViewSpeed | None:
    latest = latest_view_sample(db, row["id"], until)
    if latest is None:
        return None
    bucket, seen_at, views = latest
    published = from_iso(row["published_at"]) or until
    others = [rate for item_id, rate in usual.rates(row["feed_id"], bucket, published).items()
              if item_id != row["id"]]
    typical = statistics.median(others) if others else 0.0
    if len(others) < usual.settings.views_min_channel_posts or typical <= 0:
        return None
    age = _hours(row["published_at"], seen_at)
    post = PostRef(item_id=row["id"], feed_name=row["feed_name"], feed_title=row["feed_title"],
                   url=row["url"], published_at=published,
                   quote=trim_quote(row.get("evidence") or row.get("text")),
                   stance=row["stance"], stance_probability=row["stance_probability"],
                   language=row["language"], edited=int(row["version"]) > 1,
                   deleted=row["deleted_at"] is not None)
    return ViewSpeed(post=post, views=views, age_hours=age, per_hour=views / age,
                     usual_per_hour=typical, ratio=views / age / typical,
                     channel_posts=len(others))


def fastest_by_views(db: sqlite_utils.Database, settings: Settings, since: datetime,
                     until: datetime, model_version: str | None) -> list[ViewSpeed]:
    """Critical posts of [since, until) with enough of their channel's posts sampled near
    their age, fastest against that usual first, ``settings.views_fastest_shown`` at most."""
    if model_version is None:
        return []
    usual = _ChannelUsual(db, settings, until)
    speeds = [_speed(db, row, usual, until)
              for row in critical_posts_with_views(db, since, until, model_version)]
    found = [speed for speed in speeds if speed is not None]
    found.sort(key=lambda speed: (-speed.ratio, -speed.views, speed.post.item_id))
    return found[:settings.views_fastest_shown]
