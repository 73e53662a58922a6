"""Compose the Spreading section: critical posts other watched channels passed on in a window,
with how many, how fast and the path, and the busiest amplifier pairs against their normal.

Reads stored edges, items and scores; never extracts edges or renders.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from classifiers.baseline import lift_against_baseline
from config import Settings
from digest.model import AmplifierPair, Pickup, Spreading, SpreadPost, post_ref_from_row
from store.edges import (
    SPREAD_KINDS,
    EdgeEvidence,
    evidence_between,
    spread_pair_counts,
    spread_parent_keys,
)
from store.models import from_iso
from store.posts import post_urls, posts_by_key

MAX_PATH_DEPTH = 4  # a forward of a quote of a forward… is followed this far to its origin


def _origins(db: sqlite_utils.Database, evidence: list[EdgeEvidence],
             model_version: str | None) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Item rows for every referenced key, and each key's origin key (itself if none): a
    referenced post that was itself a pick-up leads on to the post it passed on."""
    rows = posts_by_key(db, {row.ref_key for row in evidence if row.ref_key}, model_version)
    parent_of: dict[str, str] = {}
    frontier = set(rows)
    for _ in range(MAX_PATH_DEPTH):
        key_of = {rows[key]["id"]: key for key in frontier}
        for item_id, parent in spread_parent_keys(db, set(key_of)).items():
            parent_of[key_of[item_id]] = parent
        fresh = posts_by_key(db, set(parent_of.values()) - set(rows), model_version)
        rows.update(fresh)
        frontier = set(fresh)
        if not frontier:
            break

    def root(key: str) -> str:
        seen = {key}
        while parent_of.get(key) in rows and parent_of[key] not in seen:
            key = parent_of[key]
            seen.add(key)
        return key

    return rows, {key: root(key) for key in rows}


def spread_posts(db: sqlite_utils.Database, since: datetime, until: datetime,
                 model_version: str | None, min_channels: int) -> list[SpreadPost]:
    """Critical posts picked up in [since, until) by at least ``min_channels`` other watched
    channels, most channels first."""
    evidence = [row for row in evidence_between(db, since, until, SPREAD_KINDS) if row.ref_key]
    rows, origin = _origins(db, evidence, model_version)
    urls = post_urls(db, {row.item_id for row in evidence})
    grouped: dict[str, list[Pickup]] = defaultdict(list)
    for row in evidence:
        if row.ref_key not in rows:
            continue
        root = origin[row.ref_key]
        if row.source == rows[root]["feed_name"]:
            continue
        grouped[root].append(Pickup(row.source, row.kind, rows[row.ref_key]["feed_name"],
                                    row.item_id, urls.get(row.item_id), from_iso(row.seen_at)))
    found = [_spread_post(rows[root], pickups) for root, pickups in grouped.items()
             if rows[root].get("stance") == "critical"]
    return sorted((post for post in found if post.channels >= min_channels),
                  key=lambda post: (-post.channels, post.first_pickup or until))


def _spread_post(row: dict[str, Any], pickups: list[Pickup]) -> SpreadPost:
    first_by_channel: dict[str, Pickup] = {}
    for pickup in sorted(pickups, key=lambda entry: (entry.published_at or datetime.max,
                                                     entry.item_id)):
        first_by_channel.setdefault(pickup.channel, pickup)
    path = list(first_by_channel.values())
    times = [pickup.published_at for pickup in path if pickup.published_at]
    return SpreadPost(post=post_ref_from_row(row), channels=len(path),
                      first_pickup=min(times) if times else None,
                      last_pickup=max(times) if times else None, pickups=path)


def amplifier_pairs(db: sqlite_utils.Database, since: datetime, until: datetime,
                    baseline_days: int, limit: int) -> list[AmplifierPair]:
    """The busiest source → target pairs now, each with its share of all pick-ups against
    the same share over the ``baseline_days`` before (lift and z as for themes)."""
    now = spread_pair_counts(db, since, until)
    base = spread_pair_counts(db, since - timedelta(days=baseline_days), since)
    total, base_total = sum(now.values()), sum(base.values())
    # Only pairs as busy as the limit-th busiest can be listed (lift breaks ties among them),
    # so only theirs are computed: 200 channels have ~20,000 pairs, at 0.15 ms each.
    cutoff = sorted(now.values(), reverse=True)[limit - 1] if len(now) > limit > 0 else 0
    pairs = []
    for (source, target), count in ((pair, n) for pair, n in now.items() if n >= cutoff):
        lift = lift_against_baseline(count, total, base.get((source, target), 0), base_total)
        pairs.append(AmplifierPair(source, target, count, total, lift.reference_count,
                                   base_total, lift.lift, lift.z))
    pairs.sort(key=lambda pair: (-pair.count, -pair.lift, pair.source, pair.target))
    return pairs[:limit]


def compose_spreading(db: sqlite_utils.Database, settings: Settings, since: datetime,
                      until: datetime, model_version: str | None) -> Spreading:
    """The Spreading section of the digest for [since, until)."""
    return Spreading(
        posts=spread_posts(db, since, until, model_version, settings.spread_min_channels),
        pairs=amplifier_pairs(db, since, until, settings.baseline_days,
                              settings.spread_top_pairs),
        min_channels=settings.spread_min_channels, baseline_days=settings.baseline_days)
