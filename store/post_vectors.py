"""The posts' search vectors: one int8 vector per post, written as the post is scored, read back
as unit vectors (storylines), and the scored posts a reindex still has to embed.

Plain SQLite, no extension: scoring never needs sqlite-vec. ``store.vector_search`` reads these
rows through sqlite-vec; this module never searches.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import numpy as np
import sqlite_utils

from store.models import to_iso

# The text a post is scored (and embedded) on: its text, else its title (RSS items).
SCORED_TEXT_SQL = "COALESCE(NULLIF(i.text, ''), i.title, '')"
INT8_PEAK = 127


def quantise(vector: np.ndarray) -> bytes:
    """A vector as int8 bytes, scaled so its largest component is ±127.

    Cosine distance ignores a vector's length, so each vector takes its own scale: nothing is
    clipped, and every vector uses the whole int8 range (cosine within about 0.002 of fp32's).
    """
    peak = float(np.abs(vector).max(initial=0.0))
    scaled = vector * (INT8_PEAK / peak) if peak > 0 else vector
    return np.round(scaled).astype(np.int8).tobytes()


def unit_vectors(blobs: Sequence[bytes]) -> np.ndarray:
    """(len(blobs), dim) float32 unit vectors of stored int8 vectors (one space, one width)."""
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    matrix = np.frombuffer(b"".join(blobs), dtype=np.int8).reshape(len(blobs), -1)
    vectors = matrix.astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def save_vectors(
    db: sqlite_utils.Database, space: str, vectors: Sequence[tuple[int, np.ndarray]]
) -> None:
    """Store each (item id, vector) in ``space``, replacing a post's older vector; the caller
    commits (scoring writes them in its batch's transaction)."""
    db.conn.executemany(
        "INSERT OR REPLACE INTO post_vectors (item_id, space, vector) VALUES (?, ?, ?)",
        [(item_id, space, quantise(vector)) for item_id, vector in vectors],
    )


def stored_vector(db: sqlite_utils.Database, item_id: int) -> tuple[str, bytes] | None:
    """(space, int8 bytes) of a post's vector, or None when it has none."""
    row = db.execute("SELECT space, vector FROM post_vectors WHERE item_id = ?",
                     [item_id]).fetchone()
    return (str(row[0]), bytes(row[1])) if row else None


def scored_items_without_vector(
    db: sqlite_utils.Database, space: str, limit: int
) -> list[tuple[int, str]]:
    """Up to ``limit`` (id, text) of scored posts with no vector in ``space``, oldest id first
    (posts not scored yet get theirs when they are)."""
    rows = db.execute(
        f"""SELECT i.id, {SCORED_TEXT_SQL} FROM items i
            WHERE EXISTS (SELECT 1 FROM scores s WHERE s.item_id = i.id)
              AND NOT EXISTS (SELECT 1 FROM post_vectors v
                              WHERE v.item_id = i.id AND v.space = ?)
            ORDER BY i.id LIMIT ?""",
        [space, limit],
    ).fetchall()
    return [(int(item_id), str(text)) for item_id, text in rows]


def vector_count(db: sqlite_utils.Database, space: str) -> int:
    """How many posts have a vector in ``space``."""
    return int(db.execute("SELECT COUNT(*) FROM post_vectors WHERE space = ?",
                          [space]).fetchone()[0])


def vectors_published_between(
    db: sqlite_utils.Database, space: str, role: str, since: datetime, until: datetime,
    batch: int = 4096,
) -> Iterator[list[bytes]]:
    """The ``space`` vectors of ``role`` feeds' posts published in [since, until), ``batch``
    at a time (a storyline's earlier neighbours are looked for among them)."""
    cursor = db.execute(
        "SELECT v.vector FROM post_vectors v JOIN items i ON i.id = v.item_id "
        "JOIN feeds f ON f.id = i.feed_id WHERE v.space = ? AND f.role = ? "
        "AND i.published_at >= ? AND i.published_at < ?",
        [space, role, to_iso(since), to_iso(until)])
    while rows := cursor.fetchmany(batch):
        yield [bytes(row[0]) for row in rows]
