"""Compose the window's storylines: its critical posts clustered by their stored search vectors
(reposts folded into the post they repeat), kept when several channels wrote them, named by
their distinctive lemmas and most central post, and marked new when no post of theirs has a
near neighbour among the same role's posts of the earlier days.

Reads stored posts and vectors (``store.posts``, ``store.post_vectors``); never embeds or
renders.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlite_utils

from config import Settings
from digest.model import Storyline, StorylineReport, post_ref_from_row
from digest.storyline_clusters import (
    NOISE,
    central_row,
    cluster_labels,
    fold_copies,
    nearest_cosines,
)
from digest.storyline_names import distinctive_lemmas
from store.post_vectors import unit_vectors, vectors_published_between
from store.posts import PostSlice, critical_posts_with_vectors

LEMMAS_NAMED = 5  # lemmas kept per storyline


def _clustered_space(rows: list[dict[str, Any]]) -> str | None:
    """The vector space most of the posts have a vector in (a model change leaves a mix
    until ``riftwatch reindex`` runs); vectors of two spaces never compare."""
    spaces = Counter(row["space"] for row in rows if row["space"] is not None)
    return spaces.most_common(1)[0][0] if spaces else None


def _clusters(rows: list[dict[str, Any]], vectors: np.ndarray, settings: Settings
              ) -> tuple[list[list[int]], np.ndarray]:
    """(each qualifying cluster's rows, reposts left out; each row's original row): clusters of
    at least ``storyline_min_channels`` channels."""
    original = fold_copies(vectors, settings.storyline_copy_cosine)
    kept = np.flatnonzero(original == np.arange(len(rows)))
    labels = cluster_labels(vectors[kept], settings.storyline_min_cluster_size)
    clusters = [[int(row) for row in kept[labels == label]]
                for label in sorted(set(labels.tolist()) - {NOISE})]
    return [members for members in clusters
            if len({rows[row]["feed_id"] for row in members})
            >= settings.storyline_min_channels], original


def _storyline(rows: list[dict[str, Any]], vectors: np.ndarray, members: list[int],
               original: np.ndarray, lemmas: list[str], nearest: float | None,
               settings: Settings) -> Storyline:
    copies = [row for row in range(len(rows))
              if original[row] != row and int(original[row]) in members]
    central = rows[members[central_row(vectors[members])]]
    channels = list(dict.fromkeys(rows[row]["feed_name"] for row in members))
    return Storyline(
        lemmas=lemmas, central=post_ref_from_row(central), posts=len(members) + len(copies),
        copies=len(copies), channels=channels,
        new=nearest is None or nearest < settings.storyline_novelty_cosine,
        nearest_earlier=nearest, item_ids=sorted(rows[row]["id"] for row in members + copies))


def _earlier_nearest(db: sqlite_utils.Database, vectors: np.ndarray, space: str, role: str,
                     since: datetime, days: int) -> np.ndarray | None:
    """Per row of ``vectors``, its highest cosine with a post of the ``days`` before ``since``."""
    chunks = (unit_vectors(blobs) for blobs in vectors_published_between(
        db, space, role, since - timedelta(days=days), since))
    return nearest_cosines(vectors, chunks)


def compose_storylines(db: sqlite_utils.Database, settings: Settings, since: datetime,
                       until: datetime, model_version: str | None, role: str = "blogger"
                       ) -> StorylineReport | None:
    """The storylines of ``role`` feeds' critical posts in [since, until), new ones first, then
    the largest; None before anything is scored."""
    if model_version is None:
        return None
    rows = critical_posts_with_vectors(db, model_version, PostSlice(role, since, until))
    space = _clustered_space(rows)
    usable = [row for row in rows if space is not None and row["space"] == space]
    report = StorylineReport([], len(rows), len(rows) - len(usable),
                             settings.storyline_novelty_days)
    if space is None:
        return report
    vectors = unit_vectors([row["vector"] for row in usable])
    clusters, original = _clusters(usable, vectors, settings)
    if not clusters:
        return report
    in_clusters = {row for members in clusters for row in members}
    rest = [row for row in range(len(usable)) if original[row] == row and row not in in_clusters]
    names = distinctive_lemmas([[usable[row]["scored_text"] for row in members]
                                for members in clusters],
                               [usable[row]["scored_text"] for row in rest], LEMMAS_NAMED)
    nearest = _earlier_nearest(db, vectors[sorted(in_clusters)], space, role, since,
                               settings.storyline_novelty_days)
    by_row = dict(zip(sorted(in_clusters), nearest.tolist(), strict=True)) \
        if nearest is not None else {}
    report.storylines = [
        _storyline(usable, vectors, members, original, lemmas,
                   max((by_row[row] for row in members), default=None), settings)
        for members, lemmas in zip(clusters, names, strict=True)]
    report.storylines.sort(key=lambda found: (not found.new, -found.posts, found.item_ids[0]))
    return report
