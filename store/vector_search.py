"""The stored posts nearest a vector, found by sqlite-vec inside SQLite over ``post_vectors``.

The one module that loads a SQLite extension. This Python's ``sqlite3`` cannot load one, so the
search opens its own connection through sqlean.py; without sqlean.py or sqlite-vec, search
raises ``SearchUnavailable`` and the rest of riftwatch (on the standard ``sqlite3``) never
notices. Reads only.

It ranks with sqlite-vec's ``vec_distance_cosine`` over the plain ``post_vectors`` table, the
filters first, an exact search in C. sqlite-vec's ``vec0`` table (exact too) measured about 1.4x
faster without filters (bench/run.py --only search), but it applies filters on joined tables
after its k nearest, and a ``vec0`` table in the store would need the extension in every
connection that reads the schema (scoring, ``riftwatch browse``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.errors import RiftwatchError
from store.db import BUSY_TIMEOUT_MS
from store.post_vectors import SCORED_TEXT_SQL
from store.scores import stance_probability_sql, theme_present_sql

COPIES_READ = 5  # the nearest limit × this are read, so copies of one text can fold into one
INSTALL_HINT = "pip install 'sqlean.py==3.50.4.5' 'sqlite-vec==0.1.9'"


class SearchUnavailable(RiftwatchError):
    """sqlite-vec cannot be loaded here: search cannot run, everything else can."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"search needs the sqlite-vec SQLite extension, which cannot be "
                         f"loaded here ({problem}); install it with {INSTALL_HINT} (nothing "
                         "else in riftwatch needs it)")


@dataclass(frozen=True)
class VectorQuery:
    """What to look for: an int8 vector of ``space``, the filters, how many posts.

    ``model_version`` names the scores whose stance and themes the filters and hits read.
    """

    vector: bytes
    space: str
    limit: int
    model_version: str | None = None
    since: str | None = None  # ISO time, as the store keeps it
    channel: str | None = None  # a feed's name
    stance: str | None = None
    theme: str | None = None
    exclude_item: int | None = None


def open_vector_connection(db_path: Path | str) -> Any:
    """A sqlean.py connection to the store with sqlite-vec loaded; ``SearchUnavailable`` when
    either cannot be had. The caller closes it."""
    try:
        import sqlean
        import sqlite_vec
    except ImportError as exc:
        raise SearchUnavailable(f"{exc.name} is not installed") from None
    conn = sqlean.connect(str(db_path), timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.enable_load_extension(True)
        sqlite_vec.load(conn)
        conn.enable_load_extension(False)
    except (AttributeError, sqlean.Error) as exc:
        conn.close()
        raise SearchUnavailable(f"loading it failed: {exc}") from None
    return conn


def _nearest_sql(query: VectorQuery) -> tuple[str, list[Any]]:
    """The inner query: the nearest ids and distances, filters applied before the ranking
    (so a filter never leaves fewer hits than there are matching posts)."""
    joins, where = [], ["v.space = ?"]
    params: list[Any] = [query.vector, query.space]
    if query.since is not None or query.channel is not None:
        joins.append("JOIN items i ON i.id = v.item_id")
    if query.since is not None:
        where.append("i.published_at >= ?")
        params.append(query.since)
    if query.channel is not None:
        joins.append("JOIN feeds f ON f.id = i.feed_id")
        where.append("f.name = ?")
        params.append(query.channel)
    if query.stance is not None or query.theme is not None:
        joins.append("JOIN scores s ON s.item_id = v.item_id AND s.model_version = ?")
        params.insert(1, query.model_version)  # the join's parameter comes before WHERE's
    if query.stance is not None:
        where.append("s.stance = ?")
        params.append(query.stance)
    if query.theme is not None:
        where.append(theme_present_sql("s"))
        params.append(query.theme)
    if query.exclude_item is not None:
        where.append("v.item_id != ?")
        params.append(query.exclude_item)
    sql = (f"SELECT v.item_id, vec_distance_cosine(vec_int8(v.vector), vec_int8(?)) AS distance "
           f"FROM post_vectors v {' '.join(joins)} WHERE {' AND '.join(where)} "
           f"ORDER BY distance, v.item_id LIMIT ?")
    return sql, [*params, query.limit * COPIES_READ]


def nearest_posts(conn: Any, query: VectorQuery) -> list[dict[str, Any]]:
    """The nearest posts, nearest first: the columns a quoted post needs, with ``distance``
    (cosine distance, 0 for the same direction), the stance of ``query.model_version`` and
    ``copies``: posts with the very same vector (a text posted again, here or in other
    channels) are one hit, the first stored, counted among the ``COPIES_READ`` × limit
    nearest."""
    inner, params = _nearest_sql(query)
    sql = f"""
        WITH nearest AS ({inner}),
        grouped AS (
            SELECT n.item_id, n.distance,
                   ROW_NUMBER() OVER (PARTITION BY v.vector ORDER BY n.distance, n.item_id)
                       AS copy_rank,
                   COUNT(*) OVER (PARTITION BY v.vector) AS copies
            FROM nearest n JOIN post_vectors v ON v.item_id = n.item_id)
        SELECT g.distance, g.copies, i.id, i.url, i.published_at, {SCORED_TEXT_SQL} AS text,
               f.name AS feed_name, f.title AS feed_title, s.stance,
               {stance_probability_sql("s")} AS stance_probability, s.evidence, s.language
        FROM grouped g JOIN items i ON i.id = g.item_id JOIN feeds f ON f.id = i.feed_id
        LEFT JOIN scores s ON s.item_id = i.id AND s.model_version = ?
        WHERE g.copy_rank = 1
        ORDER BY g.distance, i.id LIMIT ?"""
    cursor = conn.execute(sql, [*params, query.model_version, query.limit])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
