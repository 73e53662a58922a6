"""Give posts scored before search vectors were stored (or by another encoder) their vector in
the current encoder's space; never scores and never searches.
"""

from __future__ import annotations

import logging

import sqlite_utils

from classifiers.scoring import PostScorer
from store.post_vectors import save_vectors, scored_items_without_vector

logger = logging.getLogger(__name__)


def reindex_vectors(db: sqlite_utils.Database, scorer: PostScorer, batch_size: int = 16) -> int:
    """Embed every scored post that has no vector in ``scorer.vector_space``, committing each
    batch (safe to stop and run again); return how many got one."""
    done = 0
    while batch := scored_items_without_vector(db, scorer.vector_space, batch_size):
        vectors = scorer.passage_vectors([text for _, text in batch])
        with db.conn:
            save_vectors(db, scorer.vector_space,
                         [(item_id, vector)
                          for (item_id, _), vector in zip(batch, vectors, strict=True)])
        done += len(batch)
        logger.debug("reindexed %d posts (%d so far)", len(batch), done)
    return done
