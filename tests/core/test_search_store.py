"""Search vectors in a real store and the real sqlite-vec ranking over them (issue 21, part 2),
with vectors made by hand so no model loads: round trip, ranking, filters before the ranking,
copies folded, ``--like``, the CLI's formats, and a missing extension failing search alone."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils

from config import Settings
from config.feeds import FeedConfig
from config.settings import DEFAULT_THEMES_FILE
from config.themes import load_themes
from digest.search import SearchError, SearchFilters, search_like, search_text
from riftwatch.cli.main import main
from store.feeds import add_feed
from store.items import save_items
from store.models import Item, to_iso
from store.post_vectors import (
    quantise,
    save_vectors,
    scored_items_without_vector,
    stored_vector,
    vector_count,
)
from store.vector_search import SearchUnavailable

SPACE = "test-encoder-0123"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def unit(*components: float) -> np.ndarray:
    vector = np.array(components + (0.0,) * (8 - len(components)), dtype=np.float32)
    return vector / np.linalg.norm(vector)


# the query direction is (1, 0, ...): A nearest, then B, C, D; E points the other way
POSTS = [
    {"feed": "alpha", "text": "post A", "vector": unit(1, 0.1), "stance": "critical",
     "themes": ["supply_shortage"], "age_days": 1},
    {"feed": "alpha", "text": "post B", "vector": unit(1, 0.5), "stance": "neutral",
     "themes": [], "age_days": 1},
    {"feed": "beta", "text": "post C", "vector": unit(1, 1), "stance": "critical",
     "themes": ["mod_criticism"], "age_days": 10},
    {"feed": "beta", "text": "post D", "vector": unit(0.2, 1), "stance": "supportive",
     "themes": [], "age_days": 1},
    {"feed": "beta", "text": "post E", "vector": unit(-1, 0.3), "stance": "neutral",
     "themes": ["supply_shortage"], "age_days": 1},
]


def seed(db: sqlite_utils.Database, posts: list[dict], with_vectors: bool = True) -> list[int]:
    """Feeds, items, scores (model ``m1``) and, unless told not to, vectors; the item ids."""
    feeds: dict[str, int] = {}
    ids = []
    for number, post in enumerate(posts, start=1):
        if post["feed"] not in feeds:
            feeds[post["feed"]] = add_feed(db, FeedConfig(
                name=post["feed"], kind="telegram", role="blogger", channel=post["feed"])).id
        at = NOW - timedelta(days=post["age_days"])
        item = Item(text=post["text"], channel=post["feed"], post_id=number,
                    url=f"https://t.me/{post['feed']}/{number}", published_at=at)
        save_items(db, feeds[post["feed"]], [item])
        item_id = int(db.execute("SELECT id FROM items WHERE key = ?", [item.key]).fetchone()[0])
        ids.append(item_id)
        stance = post["stance"]
        db["scores"].insert({
            "item_id": item_id, "model_version": "m1", "stance": stance,
            **{f"p_{name}": 0.7 if name == stance else 0.1
               for name in ("supportive", "critical", "alarmed", "neutral")},
            "themes": "{}", "themes_present": json.dumps(post["themes"]), "targets": "[]",
            "evidence": post["text"], "language": "ru", "scored_at": to_iso(at)})
    if with_vectors:
        with db.conn:
            save_vectors(db, SPACE, [(item_id, post["vector"])
                                     for item_id, post in zip(ids, posts, strict=True)])
    return ids


class FixedQuery:
    """A query encoder that answers one fixed vector (the real one is tested with the model
    in tests/classifiers/test_search.py)."""

    vector_space = SPACE

    def __init__(self, vector: np.ndarray) -> None:
        self.vector = vector
        self.asked: list[str] = []

    def query_vector(self, query: str) -> np.ndarray:
        self.asked.append(query)
        return self.vector


def _texts(hits: list) -> list[str]:
    return [hit.post.quote for hit in hits]


def test_int8_vectors_keep_the_cosine_of_the_float_ones() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((50, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    stored = np.stack([np.frombuffer(quantise(v), dtype=np.int8) for v in vectors])
    assert stored.shape == (50, 384)
    assert np.abs(stored).max(axis=1).min() == 127  # each vector uses the whole range
    stored = stored / np.linalg.norm(stored, axis=1, keepdims=True)
    assert np.abs(stored @ stored.T - vectors @ vectors.T).max() < 0.01
    assert quantise(np.zeros(4, dtype=np.float32)) == bytes(4)


def test_vectors_round_trip_and_a_newer_one_replaces_the_older(db: sqlite_utils.Database) -> None:
    ids = seed(db, POSTS[:2])
    assert stored_vector(db, ids[0]) == (SPACE, quantise(POSTS[0]["vector"]))
    with db.conn:
        save_vectors(db, "other-encoder", [(ids[0], unit(0, 1))])
    assert stored_vector(db, ids[0]) == ("other-encoder", quantise(unit(0, 1)))
    assert vector_count(db, SPACE) == 1
    assert vector_count(db, "other-encoder") == 1
    assert stored_vector(db, 999) is None


def test_reindex_finds_scored_posts_without_a_vector_of_this_space(
    db: sqlite_utils.Database,
) -> None:
    ids = seed(db, POSTS[:3], with_vectors=False)
    db.execute("DELETE FROM scores WHERE item_id = ?", [ids[2]])  # not scored: scoring's job
    with db.conn:
        save_vectors(db, "old-encoder", [(ids[1], unit(1))])
    assert scored_items_without_vector(db, SPACE, 10) == [(ids[0], "post A"), (ids[1], "post B")]
    assert scored_items_without_vector(db, SPACE, 1) == [(ids[0], "post A")]


def test_text_search_ranks_by_cosine_in_its_own_space(
    db: sqlite_utils.Database, db_path: Path,
) -> None:
    seed(db, POSTS)
    with db.conn:  # a post of another encoder's space is never compared
        save_vectors(db, "other", [(int(db.execute("SELECT MAX(id) FROM items").fetchone()[0]),
                                    unit(1))])
    encoder = FixedQuery(unit(1))
    hits = search_text(db, db_path, encoder, "снаряды", SearchFilters(limit=10))
    assert encoder.asked == ["снаряды"]
    assert _texts(hits) == ["post A", "post B", "post C", "post D"]
    assert hits[0].similarity == pytest.approx(float(unit(1) @ unit(1, 0.1)), abs=0.01)
    assert hits[0].similarity > hits[1].similarity > hits[2].similarity > hits[3].similarity
    assert hits[0].post.stance == "critical"
    assert hits[0].post.url == "https://t.me/alpha/1"
    with pytest.raises(SearchError, match="nothing to search"):
        search_text(db, db_path, encoder, "  ", SearchFilters())


def test_filters_apply_before_the_ranking(db: sqlite_utils.Database, db_path: Path) -> None:
    ids = seed(db, POSTS)
    encoder = FixedQuery(unit(1))

    def found(**filters: object) -> list[str]:
        return _texts(search_text(db, db_path, encoder, "q", SearchFilters(**filters)))

    # each filter finds its nearest post even when nearer ones are left out
    assert found(stance="supportive", limit=1) == ["post D"]
    assert found(theme="supply_shortage", limit=5) == ["post A", "post E"]
    assert found(channel="beta", limit=2) == ["post C", "post D"]
    assert found(since=NOW - timedelta(days=5), limit=10) == ["post A", "post B", "post D",
                                                              "post E"]
    assert found(channel="beta", stance="critical", theme="mod_criticism",
                 since=NOW - timedelta(days=30)) == ["post C"]
    assert found(channel="nosuch") == []
    like = search_like(db, db_path, ids[0], SearchFilters(limit=2))
    assert _texts(like) == ["post B", "post C"]  # A itself left out


def test_copies_of_one_text_are_one_hit(db: sqlite_utils.Database, db_path: Path) -> None:
    copies = [dict(POSTS[1], feed=feed) for feed in ("alpha", "beta", "gamma")]
    seed(db, [POSTS[0], *copies, POSTS[3]])
    hits = search_text(db, db_path, FixedQuery(unit(1)), "q", SearchFilters(limit=3))
    assert _texts(hits) == ["post A", "post B", "post D"]
    assert [hit.copies for hit in hits] == [1, 3, 1]
    assert hits[1].post.feed_name == "alpha"  # the first stored stands for them


def test_filters_are_checked() -> None:
    taxonomy = load_themes(DEFAULT_THEMES_FILE)
    with pytest.raises(SearchError, match="unknown theme"):
        SearchFilters(theme="nosuch").checked(taxonomy)
    with pytest.raises(SearchError, match="unknown stance"):
        SearchFilters(stance="angry").checked(taxonomy)
    with pytest.raises(SearchError, match="1 to 200"):
        SearchFilters(limit=0).checked(taxonomy)


def test_a_post_or_a_store_without_vectors_says_how_to_get_them(
    db: sqlite_utils.Database, db_path: Path,
) -> None:
    ids = seed(db, POSTS[:1], with_vectors=False)
    with pytest.raises(SearchError, match="riftwatch reindex"):
        search_like(db, db_path, ids[0], SearchFilters())
    with pytest.raises(SearchError, match="no stored post has a search vector from this model"):
        search_text(db, db_path, FixedQuery(unit(1)), "q", SearchFilters())


def test_cli_search_like_as_text_json_and_csv(
    db: sqlite_utils.Database, db_path: Path, settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = seed(db, [*POSTS[:3], dict(POSTS[3], text="=HYPERLINK(\"x\") \x1b[31m")])
    base = ["search", "--like", str(ids[0]), "--db", str(db_path), "--limit", "2"]
    assert main(base) == 0
    text = capsys.readouterr().out
    assert text.index("post B") < text.index("post C")
    assert f"#{ids[1]} [alpha" in text and "https://t.me/alpha/2" in text
    assert main([*base, "--format", "json", "--stance", "critical"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(row["rank"], row["item_id"], row["stance"]) for row in rows] == [
        (1, ids[2], "critical")]
    assert main(["search", "--like", str(ids[1]), "--db", str(db_path), "--format", "csv",
                 "--channel", "beta"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    # a formula stays text, the escape character is dropped
    assert [row["quote"] for row in table] == ["post C", "'=HYPERLINK(\"x\") [31m"]


def test_cli_refuses_both_or_neither_query_and_like(
    db_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in (["search", "--db", str(db_path)],
                 ["search", "words", "--like", "3", "--db", str(db_path)]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("riftwatch: give a query") and err.count("\n") == 1
    assert main(["search", "--like", "1", "--theme", "nosuch", "--db", str(db_path)]) == 1
    assert "unknown theme 'nosuch'" in capsys.readouterr().err


@pytest.mark.parametrize("missing", ["sqlite_vec", "sqlean"])
def test_without_the_extension_only_search_fails(
    db: sqlite_utils.Database, db_path: Path, settings: Settings, missing: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    ids = seed(db, POSTS[:2])
    monkeypatch.setitem(sys.modules, missing, None)  # import now raises ImportError
    with pytest.raises(SearchUnavailable, match=f"{missing} is not installed"):
        search_like(db, db_path, ids[0], SearchFilters())
    assert main(["search", "--like", str(ids[0]), "--db", str(db_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install" in err and "sqlite-vec" in err
    with db.conn:  # storing vectors (as scoring does) needs no extension
        save_vectors(db, SPACE, [(ids[1], unit(0, 1))])
    assert main(["digest", "--since", "7d", "--db", str(db_path)]) == 0
    assert "Items:" in capsys.readouterr().out


def test_an_extension_that_will_not_load_is_one_line(
    db_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sqlite_vec

    from store.vector_search import open_vector_connection

    def refuse(conn: object) -> None:
        raise AttributeError("'sqlite3.Connection' object has no attribute 'load_extension'")

    monkeypatch.setattr(sqlite_vec, "load", refuse)
    with pytest.raises(SearchUnavailable, match="loading it failed"):
        open_vector_connection(db_path)
