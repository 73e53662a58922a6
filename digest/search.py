"""Semantic search: the stored posts nearest a query (the encoder's ``query:`` side against the
posts' passage vectors) or nearest a stored post, with the digest's filters.

Composes plain hits (``SearchHit``) and their rows for JSON and CSV; never renders HTML, never
scores a post (a query is embedded, posts' vectors are read as scoring stored them).
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import sqlite_utils

from config.errors import RiftwatchError
from config.themes import STANCE_NAMES, Taxonomy
from digest.model import PostRef, post_ref_from_row
from store.models import to_iso
from store.post_vectors import quantise, stored_vector, vector_count
from store.scores import latest_model_version
from store.vector_search import VectorQuery, nearest_posts, open_vector_connection

DEFAULT_LIMIT = 10
MAX_LIMIT = 200
HIT_COLUMNS = ["rank", "similarity", "item_id", "feed", "published_at", "stance", "copies",
               "url", "quote"]


class SearchError(RiftwatchError):
    """A search that cannot be asked as given: ``str()`` says what and the fix."""


class QueryEncoder(Protocol):
    """What a text search needs of the classifier: its vector space and a query's vector."""

    vector_space: str

    def query_vector(self, query: str) -> np.ndarray: ...


@dataclass(frozen=True)
class SearchFilters:
    """The digest's slicing, for search: a start time, a feed, a stance, a theme, how many."""

    since: datetime | None = None
    channel: str | None = None
    stance: str | None = None
    theme: str | None = None
    limit: int = DEFAULT_LIMIT

    def checked(self, taxonomy: Taxonomy) -> SearchFilters:
        """These filters, or SearchError naming the unknown stance or theme or the bad limit."""
        if self.stance is not None and self.stance not in STANCE_NAMES:
            raise SearchError(f"unknown stance {self.stance!r}; use one of "
                              f"{', '.join(STANCE_NAMES)}")
        if self.theme is not None and self.theme not in taxonomy.theme_names():
            raise SearchError(f"unknown theme {self.theme!r}; themes: "
                              f"{', '.join(taxonomy.theme_names())}")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise SearchError(f"a search shows 1 to {MAX_LIMIT} posts, not {self.limit}")
        return self


@dataclass(frozen=True)
class SearchHit:
    """One post found, with its cosine similarity to the query (1: the same direction) and
    how many stored posts carry its very text (1: only this one)."""

    post: PostRef
    similarity: float
    copies: int = 1


def search_text(db: sqlite_utils.Database, db_path: Path | str, encoder: QueryEncoder,
                text: str, filters: SearchFilters) -> list[SearchHit]:
    """The stored posts nearest ``text``, nearest first."""
    if not text.strip():
        raise SearchError("nothing to search for; give a few words")
    vector = quantise(encoder.query_vector(text))
    hits = _hits(db_path, _query(db, vector, encoder.vector_space, filters))
    if not hits and vector_count(db, encoder.vector_space) == 0:
        raise SearchError("no stored post has a search vector from this model yet: "
                          "riftwatch reindex gives scored posts theirs")
    return hits


def search_like(db: sqlite_utils.Database, db_path: Path | str, item_id: int,
                filters: SearchFilters) -> list[SearchHit]:
    """The stored posts nearest post ``item_id`` (itself left out), nearest first."""
    stored = stored_vector(db, item_id)
    if stored is None:
        raise SearchError(f"post #{item_id} has no search vector: it is not stored or not "
                          "scored yet (riftwatch reindex gives posts scored before search "
                          "existed theirs)")
    space, vector = stored
    return _hits(db_path, replace(_query(db, vector, space, filters), exclude_item=item_id))


def _query(db: sqlite_utils.Database, vector: bytes, space: str,
           filters: SearchFilters) -> VectorQuery:
    return VectorQuery(vector=vector, space=space, limit=filters.limit,
                       model_version=latest_model_version(db), since=to_iso(filters.since),
                       channel=filters.channel, stance=filters.stance, theme=filters.theme)


def _hits(db_path: Path | str, query: VectorQuery) -> list[SearchHit]:
    with closing(open_vector_connection(db_path)) as conn:
        rows = nearest_posts(conn, query)
    return [SearchHit(post_ref_from_row(row, text_field="text"), 1.0 - float(row["distance"]),
                      int(row["copies"]))
            for row in rows]


def hit_rows(hits: list[SearchHit]) -> list[dict[str, Any]]:
    """The hits as plain rows (``HIT_COLUMNS``) for JSON and CSV."""
    return [{"rank": rank, "similarity": round(hit.similarity, 4), "item_id": hit.post.item_id,
             "feed": hit.post.feed_name, "published_at": to_iso(hit.post.published_at),
             "stance": hit.post.stance, "copies": hit.copies, "url": hit.post.url,
             "quote": hit.post.quote}
            for rank, hit in enumerate(hits, start=1)]
