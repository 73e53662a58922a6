"""One huge record cannot take the machine (issue 13.5): every reader reads bounded lines and
stops at one longer than RIFTWATCH_MAX_RECORD_CHARS, naming the file and line, storing and
writing nothing; the classifier reads at most RIFTWATCH_MAX_POST_CHARS of a post.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from classifiers.scoring import PostScorer
from config import Settings
from riftwatch.byod.readers import RecordTooLong, read_records

HUGE = 5_000_000  # characters on one line: five times the default cap


@pytest.fixture
def no_model(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reaching the model is a quick failure (exit 2), so a missing cap shows at once."""
    monkeypatch.setenv("RIFTWATCH_MODEL", str(tmp_path / "no-model"))


def _assert_refused(code: int, err: str, where: str) -> None:
    assert code == 1, err
    assert err.startswith(f"riftwatch: {where}: line longer than 1000000 characters")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_score_refuses_a_huge_jsonl_line(no_model: None, tmp_path: Path, run_cli) -> None:
    big = tmp_path / "big.jsonl"
    big.write_text(json.dumps({"text": "x" * HUGE}) + "\n", encoding="utf-8")
    out = tmp_path / "big-scored.jsonl"
    code, _, err = run_cli("score", big, "--out", out)
    _assert_refused(code, err, f"{big}:1")
    assert not out.exists()
    assert not list(tmp_path.glob(".big-scored*"))


def test_score_refuses_a_huge_csv_line(no_model: None, tmp_path: Path, run_cli) -> None:
    big = tmp_path / "big.csv"
    big.write_text("id,message\n1," + "y" * HUGE + "\n", encoding="utf-8")
    code, _, err = run_cli("score", big, "--out", tmp_path / "out.csv")
    _assert_refused(code, err, f"{big}:2")
    assert not (tmp_path / "out.csv").exists()


def test_eval_data_refuses_a_huge_line(no_model: None, tmp_path: Path, run_cli) -> None:
    big = tmp_path / "labels.csv"
    big.write_text("message,label\n" + "z" * HUGE + ",yes\n", encoding="utf-8")
    code, _, err = run_cli("eval", "--data", big, "--label-column", "label")
    _assert_refused(code, err, f"{big}:2")


def _multiline_field(lines: int, width: int = 50) -> str:
    """One quoted CSV field of ``lines`` short lines: no line is long, the record is."""
    inner = (f"inner line {number} ".ljust(width, "x") for number in range(lines))
    return '"' + "\n".join(inner) + '"'


def test_score_refuses_a_huge_multiline_csv_field(no_model: None, tmp_path: Path,
                                                  run_cli) -> None:
    """Issue 22.2: an 88 MB quoted field was skipped, then its inner lines scored as posts."""
    big = tmp_path / "field.csv"
    big.write_text("message\n" + _multiline_field(HUGE // 50) + "\nthe real post\n",
                   encoding="utf-8")
    out = tmp_path / "field-scored.csv"
    code, stdout, err = run_cli("score", big, "--out", out)
    assert code == 1, err
    assert err.startswith(f"riftwatch: {big}:2: record (a quoted field across lines; an "
                          "unclosed quote?) longer than 1000000 characters")
    assert err.count("\n") == 1  # no "skipped" line before it
    assert stdout == ""
    assert not out.exists()
    assert not list(tmp_path.glob(".field-scored*"))


@pytest.mark.parametrize("command", ["score", "eval"])
def test_a_long_field_under_a_small_cap_stops_before_any_row(
        no_model: None, tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch,
        command: str) -> None:
    """With the cap at 1,000 a small file gave 20 rows of inner lines and lost the real post.
    (Before any good row, so the model is never reached: reaching it fails with exit 2.)"""
    monkeypatch.setenv("RIFTWATCH_MAX_RECORD_CHARS", "1000")
    path = tmp_path / "posts.csv"
    path.write_text("message,label\n" + _multiline_field(40) + ",no\nthe real post,yes\n",
                    encoding="utf-8")
    argv = ["score", path] if command == "score" else ["eval", "--data", path,
                                                       "--label-column", "label"]
    code, _, err = run_cli(*argv)
    assert code == 1, err
    assert err.startswith(f"riftwatch: {path}:2: record")
    assert "longer than 1000 characters" in err
    assert err.count("\n") == 1
    assert not list(tmp_path.glob("posts-scored*"))


def test_a_short_multiline_field_is_one_record(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text("message\n" + _multiline_field(10) + "\nnext\n", encoding="utf-8")
    records = list(read_records(path, max_record_chars=1000))
    assert [record.line for record in records] == [2, 12]
    assert records[0].text.count("\n") == 9


def test_the_cap_is_a_setting(no_model: None, tmp_path: Path, run_cli,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIFTWATCH_MAX_RECORD_CHARS", "5000")
    path = tmp_path / "posts.jsonl"
    path.write_text(json.dumps({"text": "w" * 6000}) + "\n")
    code, _, err = run_cli("score", path)
    assert code == 1
    assert f"{path}:1: line longer than 5000 characters" in err


def test_reading_stops_at_the_long_line_after_the_good_ones(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text('{"text": "one"}\n' + json.dumps({"text": "v" * 3000}) + '\n{"text": "3"}\n')
    records = read_records(path, max_record_chars=2000)
    assert next(records).text == "one"
    with pytest.raises(RecordTooLong, match=r"posts.jsonl:2: line longer than 2000"):
        next(records)


def test_import_refuses_a_huge_message_and_stores_nothing(
        settings: Settings, db_path: Path, tmp_path: Path, run_cli) -> None:
    export = tmp_path / "result.json"
    messages = [{"id": 1, "type": "message", "date": "2026-11-20T10:00:00", "text": "fine"},
                {"id": 2, "type": "message", "date": "2026-11-20T11:00:00", "text": "u" * HUGE}]
    export.write_text(json.dumps({"name": "Big", "type": "public_channel", "id": 7,
                                  "messages": messages}, indent=1), encoding="utf-8")
    code, _, err = run_cli("import", "telegram-export", export, "--db", db_path)
    assert code == 1
    assert f"{export}:" in err
    assert "line longer than" in err
    assert err.count("\n") == 1
    db = sqlite_utils.Database(db_path)
    assert db.table("items").count == 0
    assert db.execute("SELECT count(*) FROM feeds WHERE name = 'Big'").fetchone()[0] == 0


class _RecordingClassifier:
    """Stands in for the Classifier (the TextScorer protocol): remembers what it was given."""

    model_version = "recording"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def score_texts(self, texts: list[str]) -> list[Any]:
        self.seen.extend(texts)
        return [len(text) for text in texts]


def test_the_classifier_reads_at_most_max_post_chars() -> None:
    inner = _RecordingClassifier()
    scorer = PostScorer(inner, max_post_chars=100)  # type: ignore[arg-type]
    assert scorer.score_texts(["a" * 250, "short"]) == [100, 5]
    assert inner.seen == ["a" * 100, "short"]
    assert scorer.model_version == "recording"
