"""The demo digest, as text and as Telegram HTML, matches its golden files to the character.

The demo corpus is fetched through the real monitors at a fixed "now"; scores and search
vectors come from files (written by the packaged model), so a change of model or machine cannot
move the digest. An item the files have no score for stays unscored. Set
RIFTWATCH_UPDATE_GOLDEN=1 to rewrite the golden files after a change meant to alter the digest
(the packaged model then scores the demo afresh into demo_scores.jsonl and
demo_vectors.jsonl), and read their diff.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from config import Settings, load_themes
from config.settings import DEFAULT_THEMES_FILE
from digest.compose import compose_digest
from digest.model import Digest
from digest.render_text import render_text
from digest.telegram_html import render_digest
from riftwatch.demo import run_demo
from store.db import open_db
from store.models import to_iso
from store.post_vectors import stored_vector

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "golden"
NOW = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
MODEL = "golden-fixed-scores"
TAXONOMY = load_themes(DEFAULT_THEMES_FILE)
UPDATE = os.environ.get("RIFTWATCH_UPDATE_GOLDEN") == "1"  # read before fixtures clear RIFTWATCH_*


def _store_fixed_scores(db: sqlite_utils.Database) -> None:
    """The stored scores of the demo items, read from demo_scores.jsonl by item key."""
    ids = dict(db.execute("SELECT key, id FROM items").fetchall())
    lines = (GOLDEN / "demo_scores.jsonl").read_text(encoding="utf-8").splitlines()
    for record in map(json.loads, lines):
        if record["key"] not in ids:
            continue
        db.table("scores").insert({
            **{name: value for name, value in record.items() if name != "key"},
            "item_id": ids[record["key"]], "model_version": MODEL, "scored_at": to_iso(NOW),
            "themes": json.dumps(record["themes"]), "targets": json.dumps(record["targets"]),
            "themes_present": json.dumps(record["themes_present"]),
        })
    vectors = (GOLDEN / "demo_vectors.jsonl").read_text(encoding="utf-8").splitlines()
    with db.conn:
        db.conn.executemany(
            "INSERT INTO post_vectors (item_id, space, vector) VALUES (?, ?, ?)",
            [(ids[record["key"]], record["space"], base64.b64decode(record["vector"]))
             for record in map(json.loads, vectors) if record["key"] in ids])


SCORE_FIELDS = ("stance", "p_supportive", "p_critical", "p_alarmed", "p_neutral", "themes",
                "themes_present", "targets", "evidence", "language")


def _vector_line(db: sqlite_utils.Database, key: str, item_id: int) -> str | None:
    """One demo_vectors.jsonl line: an item's stored vector by item key, None without one."""
    found = stored_vector(db, item_id)
    return json.dumps({"key": key, "space": found[0],
                       "vector": base64.b64encode(found[1]).decode("ascii")}) if found else None


def _write_fixed_scores(settings: Settings) -> None:
    """Score the demo with the packaged model and keep its scores and search vectors by item
    key (updates only)."""
    scored = settings.model_copy(update={"db_path": settings.db_path.with_name("scored.db")})
    run_demo(scored, TAXONOMY, score=True, now=NOW)
    db = open_db(scored.db_path)
    rows = list(db.query(
        "SELECT i.key, s.* FROM scores s JOIN items i ON i.id = s.item_id ORDER BY i.key"))
    lines = [json.dumps({"key": row["key"], **{name: row[name] for name in SCORE_FIELDS},
                         **{name: json.loads(row[name]) for name in
                            ("themes", "themes_present", "targets")}}, ensure_ascii=False)
             for row in rows]
    (GOLDEN / "demo_scores.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    vectors = [line for row in rows if (line := _vector_line(db, row["key"], row["item_id"]))]
    (GOLDEN / "demo_vectors.jsonl").write_text("\n".join(vectors) + "\n", encoding="utf-8")


@pytest.fixture
def demo_digest(settings: Settings) -> Digest:
    one_at_a_time = settings.model_copy(update={"fetch_workers": 1})  # item ids in feed order
    if UPDATE:
        _write_fixed_scores(one_at_a_time)
    run_demo(one_at_a_time, TAXONOMY, score=False, now=NOW)
    db = open_db(settings.db_path)
    _store_fixed_scores(db)
    return compose_digest(db, settings, TAXONOMY, NOW - timedelta(hours=24), NOW)


def _assert_golden(name: str, rendered: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(rendered + "\n", encoding="utf-8")
    assert rendered + "\n" == path.read_text(encoding="utf-8")


def test_demo_digest_text_is_golden(demo_digest: Digest) -> None:
    _assert_golden("demo_digest.txt", render_text(demo_digest))


def test_demo_digest_telegram_html_is_golden(demo_digest: Digest) -> None:
    _assert_golden("demo_digest.html", render_digest(demo_digest))


def test_demo_digest_shows_its_deleted_and_its_edited_critical_post(demo_digest: Digest) -> None:
    deleted, edited = sorted(demo_digest.changes, key=lambda change: change.deleted, reverse=True)
    assert (deleted.deleted, deleted.versions, deleted.post.stance) == (True, 1, "critical")
    assert deleted.post.quote.startswith("Штаб группировки сдал высоту")
    assert (edited.deleted, edited.versions) == (False, 2)
    assert edited.removed == ["Шойгу и его генералы должны ответить", "погибшего."]
    assert edited.added == ["Кто ответит", "погибшего?"]


def test_demo_digest_shows_the_new_storyline_of_its_appended_posts(demo_digest: Digest) -> None:
    assert demo_digest.storylines is not None
    (starlink,) = [story for story in demo_digest.storylines.new if "старлинк" in story.lemmas]
    assert len(starlink.channels) >= 2 and starlink.nearest_earlier is not None
    assert starlink.nearest_earlier < 0.93  # nothing like it in the channels' earlier days
    assert "старлинки" in starlink.central.quote
