"""Hostile channel, forward and target names leave riftwatch printable (issue 22, points 6, 7).

Terminal escapes, NUL, CR, vertical tab and bidi overrides in a feed's title, a forward's
"Forwarded from" name and a classifier target reach neither the terminal (the text digest,
``graph``) nor a file (CSV, JSON, GEXF), and GEXF stays XML that networkx reads back: the real
CLI on a real store, and ``hypothesis`` driving arbitrary Unicode names through ``graph``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from datetime import timedelta
from pathlib import Path

import networkx as nx
import pytest
import sqlite_utils
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from config import FeedConfig, Settings
from digest.printable import printable
from riftwatch.byod.writers import neutralise_formula
from riftwatch.cli.main import main
from store.db import open_db
from store.feeds import add_feed
from store.items import save_items
from store.models import Item, to_iso, utc_now

TITLE = "\x1b]0;pwned\x07\x1b[2J\u202eЛисичанск\x00\r"
FORWARDED = "Z\x0bона\x1b[31m\r\u2066СВО\x85\x9b"
TARGET = "Шойгу\x1b[1;31m\u202e\x00"
# What must never come out: C0 and C1 controls (the line break aside), bidi controls.
UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def seed_hostile_store(db: sqlite_utils.Database, title: str = TITLE,
                       forwarded: str = FORWARDED, target: str = TARGET) -> None:
    """A channel titled ``title`` attacking ``target``; another forwarding ``forwarded``."""
    now = utc_now()
    hostile = add_feed(db, FeedConfig(name="hostile", kind="telegram", role="blogger",
                                      channel="hostile", title=title))
    calm = add_feed(db, FeedConfig(name="calm_chan", kind="telegram", role="blogger",
                                   channel="calm_chan"))
    save_items(db, hostile.id, [Item(text="Шойгу опять врёт о флангах.", channel="hostile",
                                     post_id=1, published_at=now - timedelta(hours=1))])
    save_items(db, calm.id, [Item(text="Переслано без ссылки.", channel="calm_chan", post_id=1,
                                  published_at=now - timedelta(hours=2),
                                  forwarded_from=forwarded)])
    item_id = db.execute("SELECT id FROM items WHERE key = 'tg:hostile/1'").fetchone()[0]
    db["scores"].insert({
        "item_id": item_id, "model_version": "m1", "stance": "critical", "p_supportive": 0.05,
        "p_critical": 0.85, "p_alarmed": 0.05, "p_neutral": 0.05, "themes": "{}",
        "themes_present": "[]", "targets": json.dumps([target]), "evidence": None,
        "language": "ru", "scored_at": to_iso(now)})
    db.conn.commit()


def _cli(*argv: object) -> tuple[int, str, str]:
    """``main``'s exit status, stdout (bytes written to it decoded too) and stderr."""
    out, err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline=""), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(arg) for arg in argv])
    out.flush()
    return code, out.buffer.getvalue().decode("utf-8"), err.getvalue()  # type: ignore[attr-defined]


def _assert_printable(text: str) -> None:
    found = UNPRINTABLE.findall(text)
    assert not found, f"unprintable characters came out: {found!r}"


def test_the_text_digest_prints_hostile_names_printable(
        settings: Settings, db: sqlite_utils.Database) -> None:
    seed_hostile_store(db)
    code, out, err = _cli("digest", "--since", "1d", "--db", settings.db_path)
    assert code == 0, err
    assert "Шойгу" in out and "hostile" in out  # the names are shown, only made printable
    _assert_printable(out)
    code, out, err = _cli("digest", "--since", "1d", "--format", "json", "--db", settings.db_path)
    assert code == 0, err
    _assert_printable(json.dumps(json.loads(out), ensure_ascii=False))


def test_graph_csv_and_json_carry_hostile_names_printable(
        settings: Settings, db: sqlite_utils.Database) -> None:
    seed_hostile_store(db)
    code, out, err = _cli("graph", "--since", "1d", "--format", "csv", "--db", settings.db_path)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert {(row["source"], row["target"], row["kind"]) for row in rows} == {
        ("calm_chan", printable(FORWARDED), "forward"), ("hostile", printable(TARGET), "attack")}
    for row in rows:
        _assert_printable("".join(row.values()))
    code, out, err = _cli("graph", "--since", "1d", "--format", "json", "--db", settings.db_path)
    assert code == 0, err
    document = json.loads(out)
    labels = {node["id"]: node["label"] for node in document["nodes"]}
    assert labels["hostile"] == "]0;pwned[2JЛисичанск "  # inert: no ESC, BEL, NUL, CR, RLO
    _assert_printable(json.dumps(document, ensure_ascii=False))


def _read_gexf(path: Path) -> nx.MultiDiGraph:
    return nx.read_gexf(path, node_type=str)


def test_gexf_with_a_vertical_tab_in_a_forwarded_name_reads_back(
        settings: Settings, db: sqlite_utils.Database, tmp_path: Path) -> None:
    seed_hostile_store(db, forwarded="Военкор\x0bМолния")
    out = tmp_path / "graph.gexf"
    code, _, err = _cli("graph", "--since", "1d", "--format", "gexf", "--out", out,
                        "--db", settings.db_path)
    assert code == 0, err
    back = _read_gexf(out)
    assert set(back.nodes) == {"hostile", "calm_chan", "Военкор Молния", printable(TARGET)}
    assert back.nodes["hostile"]["label"] == printable(TITLE)
    _assert_printable(out.read_text(encoding="utf-8"))


# ---- hypothesis: any Unicode name, through `graph`, read back by its own reader ---------------

PROPERTY = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
NAME = st.text(min_size=1, max_size=40)
HOSTILE_PIECES = st.lists(st.sampled_from(
    ["\x00", "\x01", "\x0b", "\x0c", "\r", "\n", "\t", "\x1b[2J", "\x1b]0;x\x07", "\x7f", "\x85",
     "\x9b", "\u202e", "\u2066", "\u2028", "\ufffe", "\uffff", "\ufeff", "\u200d", "&", "<",
     '"', "'", "=cmd|' /C calc'!A0", "Ж", "🇷🇺"]), min_size=1, max_size=6).map("".join)
HOSTILE_NAME = st.one_of(NAME, st.tuples(NAME, HOSTILE_PIECES).map("".join))


@PROPERTY
@example(title="\x0b", forwarded="a\x0bb", target="\r=cmd|' /C calc'!A0")
@given(title=HOSTILE_NAME, forwarded=HOSTILE_NAME, target=HOSTILE_NAME)
def test_graph_gexf_and_csv_read_back_for_any_names(
        settings: Settings, title: str, forwarded: str, target: str) -> None:
    assume(forwarded not in (title, "calm_chan"))  # those name a watched channel, not a forward
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        db_path = work / "r.db"
        seed_hostile_store(open_db(db_path), title, forwarded, target)
        gexf, table = work / "g.gexf", work / "g.csv"
        for file_format, out in (("gexf", gexf), ("csv", table)):
            code, _, err = _cli("graph", "--since", "1d", "--format", file_format, "--out", out,
                                "--db", db_path)
            assert code == 0, err
        back = _read_gexf(gexf)
        with table.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    expected = {("calm_chan", printable(forwarded), "forward"),
                ("hostile", printable(target), "attack")}
    assert {(u, v, data["kind"]) for u, v, data in back.edges(data=True)} == expected
    assert back.nodes["hostile"]["label"] == printable(title)
    # one row an edge (a CR or LF in a name never starts a row), formulas neutralised
    assert sorted((row["source"], row["target"], row["kind"]) for row in rows) == sorted(
        (neutralise_formula(source), neutralise_formula(target), kind)
        for source, target, kind in expected)
    for name in back.nodes:
        _assert_printable(name)


@pytest.mark.parametrize("name", ["\x00", "\x1b", "\u202e"])
def test_a_name_of_nothing_printable_still_reads_back(
        settings: Settings, db: sqlite_utils.Database, tmp_path: Path, name: str) -> None:
    seed_hostile_store(db, forwarded=name)
    out = tmp_path / "graph.gexf"
    code, _, err = _cli("graph", "--since", "1d", "--format", "gexf", "--out", out,
                        "--db", settings.db_path)
    assert code == 0, err
    assert ("calm_chan", "", "forward") in {
        (u, v, data["kind"]) for u, v, data in _read_gexf(out).edges(data=True)}
