"""The vector arithmetic of storylines: fold reposts into the post they copy, cluster the rest
with HDBSCAN, find a cluster's most central post and its nearest earlier post.

Pure computation on unit vectors it is handed (rows of float32); never reads the store.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sklearn.cluster import HDBSCAN

NOISE = -1  # HDBSCAN's label for a post in no cluster
# Two posts make a dense neighbourhood, and clusters are HDBSCAN's leaves: on a busy pool day
# (bench/storylines.py) the defaults (min_samples = the cluster size, "eom") merged a third of
# the day into one 65-post cluster of unrelated war news; these give a dozen single subjects.
MIN_SAMPLES = 2
SELECTION = "leaf"


def fold_copies(vectors: np.ndarray, cosine: float) -> np.ndarray:
    """For each row (oldest first), the index of the row it copies: the first earlier kept row
    at least ``cosine`` alike, else itself. A forward or a quoted repost folds into the post it
    repeats, so copies never make a cluster on their own."""
    original = np.arange(len(vectors))
    kept: list[int] = []
    for row in range(len(vectors)):
        if kept:
            alike = vectors[kept] @ vectors[row]
            best = int(np.argmax(alike))
            if alike[best] >= cosine:
                original[row] = kept[best]
                continue
        kept.append(row)
    return original


def cluster_labels(vectors: np.ndarray, min_cluster_size: int) -> np.ndarray:
    """HDBSCAN's cluster label per row (``NOISE`` for none). On unit vectors the Euclidean
    distance orders pairs as the cosine does, so the tree is the cosine's. A window holds
    hundreds of critical posts, not millions: the whole distance matrix ("brute") is faster
    than a tree in 384 dimensions."""
    if len(vectors) < max(min_cluster_size, 2):
        return np.full(len(vectors), NOISE)
    model = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=MIN_SAMPLES,
                    cluster_selection_method=SELECTION, metric="euclidean", algorithm="brute",
                    copy=True)
    return np.asarray(model.fit_predict(vectors))


def central_row(vectors: np.ndarray) -> int:
    """The row nearest (by cosine) the mean direction of ``vectors``."""
    mean = vectors.mean(axis=0)
    return int(np.argmax(vectors @ (mean / (np.linalg.norm(mean) or 1.0))))


def nearest_cosines(vectors: np.ndarray, earlier: Iterable[np.ndarray]) -> np.ndarray | None:
    """Per row, the highest cosine with any earlier vector (read in chunks); None when there
    are no earlier vectors at all."""
    best: np.ndarray | None = None
    for chunk in earlier:
        if len(chunk) == 0:
            continue
        found = (vectors @ chunk.T).max(axis=1)
        best = found if best is None else np.maximum(best, found)
    return best
