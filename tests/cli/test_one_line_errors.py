"""Expected failures are one line on stderr and a non-zero exit, never a traceback (issue 13.4).

Each runs the real CLI entry point on real files; the error tree is checked class by class.
Issue 22, point 10: an ``--out`` in a missing folder or naming a folder (``graph``, ``export``,
``score``), a Telegram export whose ``media_type`` is a list, and a setting 100 KB long are one
short line too, repeating at most a short piece of what was given.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlite_utils

from bot.commands import UsageError
from classifiers.convert import ConversionError
from classifiers.model_files import ModelLoadError
from config import ConfigError, RiftwatchError, Settings
from digest.compose import WindowError, parse_window
from digest.graph import UnknownKindError
from monitors.errors import MonitorError
from riftwatch.byod.evaluate_file import EvaluationError
from riftwatch.byod.positive import PositiveError
from riftwatch.byod.readers import ReadError
from riftwatch.byod.score_file import NothingToScore
from riftwatch.byod.telegram_export import ExportError
from riftwatch.byod.writers import OutputError
from riftwatch.cli.common import CommandError
from riftwatch.cli.main import main
from riftwatch.opml import OpmlError
from store.feeds import FeedNotFound
from store.labels import LabelError

EXPECTED_FAILURES = [CommandError, OpmlError, ExportError, PositiveError, EvaluationError,
                     ReadError, NothingToScore, FeedNotFound, LabelError, MonitorError,
                     ModelLoadError, ConversionError, UsageError, ConfigError, WindowError,
                     OutputError, UnknownKindError]


def _run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str]:
    code = main([str(arg) for arg in argv])
    return code, capsys.readouterr().err


def _assert_one_line(err: str, *fragments: str) -> None:
    assert err.startswith("riftwatch: "), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


@pytest.mark.parametrize("error", EXPECTED_FAILURES, ids=lambda error: error.__name__)
def test_every_expected_failure_is_a_riftwatch_error(error: type[Exception]) -> None:
    assert issubclass(error, RiftwatchError)


def test_second_bases_are_kept_for_callers_that_catch_them() -> None:
    assert issubclass(FeedNotFound, LookupError)
    assert issubclass(LabelError, ValueError)
    assert issubclass(OpmlError, ValueError)
    assert issubclass(PositiveError, ValueError)
    assert issubclass(WindowError, ValueError)
    assert issubclass(ConversionError, RuntimeError)


@pytest.mark.parametrize("command", ["digest", "export"])
def test_an_absurd_since_is_one_line(settings: Settings, capsys, command: str) -> None:  # type: ignore[no-untyped-def]
    code, err = _run(capsys, command, "--since", "99999999999999999999d")
    assert code == 1
    _assert_one_line(err, "too long a window", "3650d")


def test_parse_window_bounds() -> None:
    assert parse_window("3650d").days == 3650
    for text in ("3651d", "522w", "99999999999999999999d", "9" * 5000 + "m"):
        with pytest.raises(WindowError):
            parse_window(text)


def test_fetch_of_an_unknown_feed_is_one_line(settings: Settings, capsys) -> None:  # type: ignore[no-untyped-def]
    code, err = _run(capsys, "fetch", "--feed", "nosuch", "--no-score")
    assert code == 1
    _assert_one_line(err, "no feed named 'nosuch'")


def test_an_unknown_edge_kind_is_one_line(settings: Settings, capsys) -> None:  # type: ignore[no-untyped-def]
    code, err = _run(capsys, "graph", "--kind", "forward,retweet", "--format", "csv")
    assert code == 1
    _assert_one_line(err, "unknown edge kind 'retweet'", "kinds: forward")


def _export(path: Path, message: dict[str, object]) -> Path:
    data = {"name": "Sample", "type": "public_channel", "id": 42,
            "messages": [{"id": 1, "type": "message", "date": "2026-11-20T10:00:00",
                          "text": "a good post"}, message]}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(("message", "fragment"), [
    ({"id": 2, "type": "message", "date": "yesterday", "text": "x"}, "'yesterday' is not a date"),
    ({"id": 2, "type": "message", "date_unixtime": "9" * 30, "text": "x"}, "is not a date"),
    ({"id": 2**70, "type": "message", "date": "2026-11-20T10:00:00", "text": "x"},
     "is not a Telegram post id"),
], ids=["date-yesterday", "date-overflow", "id-2**70"])
def test_a_bad_exported_message_is_one_line_and_stores_nothing(
        settings: Settings, db_path: Path, tmp_path: Path, capsys,  # type: ignore[no-untyped-def]
        message: dict[str, object], fragment: str) -> None:
    path = _export(tmp_path / "result.json", message)
    code, err = _run(capsys, "import", "telegram-export", str(path), "--db", str(db_path))
    assert code == 1
    _assert_one_line(err, str(path), fragment)
    db = sqlite_utils.Database(db_path)
    assert db.table("items").count == 0
    assert db.execute("SELECT count(*) FROM feeds WHERE name = 'Sample'").fetchone()[0] == 0


LONG = "9x" * 50_000  # 100 KB
SHORT_LINE = 600  # characters: an error line that echoes a capped value stays below this


@pytest.mark.parametrize("argv", [
    ["graph", "--format", "csv"], ["graph", "--format", "json"], ["graph", "--format", "gexf"],
    ["graph", "--format", "png"], ["export", "--since", "1d"], ["export", "--format", "jsonl"],
], ids=" ".join)
def test_out_in_a_missing_folder_is_one_line(settings: Settings, tmp_path: Path, capsys,  # type: ignore[no-untyped-def]
                                             argv: list[str]) -> None:
    out = tmp_path / "no-such-folder" / "result.out"
    code, err = _run(capsys, *argv, "--out", out)
    assert code == 1
    _assert_one_line(err, f"cannot write {out}: there is no folder {out.parent}")
    assert not out.parent.exists()


@pytest.mark.parametrize("argv", [
    ["graph", "--format", "csv"], ["graph", "--format", "gexf"], ["graph", "--format", "png"],
    ["export", "--since", "1d"],
], ids=" ".join)
def test_out_naming_a_folder_is_one_line(settings: Settings, tmp_path: Path, capsys,  # type: ignore[no-untyped-def]
                                         argv: list[str]) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    code, err = _run(capsys, *argv, "--out", folder)
    assert code == 1
    _assert_one_line(err, f"cannot write {folder}: it is a folder")
    assert list(folder.iterdir()) == []


def test_score_out_in_a_missing_folder_fails_before_the_model(
        settings: Settings, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RIFTWATCH_MODEL", str(tmp_path / "no-model"))  # reaching it: exit 2
    source = tmp_path / "posts.csv"
    source.write_text("message\nfirst post\n", encoding="utf-8")
    out = tmp_path / "missing" / "scored.csv"
    code, err = _run(capsys, "score", source, "--out", out)
    assert code == 1
    _assert_one_line(err, "there is no folder")
    assert not out.parent.exists()


def test_a_media_type_list_in_a_telegram_export_is_a_document(
        settings: Settings, db_path: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    messages = [{"id": 1, "type": "message", "date": "2026-11-20T10:00:00", "text": "a post",
                 "media_type": ["video_file"]},
                {"id": 2, "type": "message", "date": "2026-11-20T11:00:00", "text": "",
                 "media_type": {"kind": "sticker"}}]
    export = tmp_path / "result.json"
    export.write_text(json.dumps({"name": "Sample", "type": "public_channel", "id": 7,
                                  "messages": messages}), encoding="utf-8")
    code, err = _run(capsys, "import", "telegram-export", export, "--channel", "@sample_media",
                     "--db", db_path)
    assert code == 0, err
    stored = sqlite_utils.Database(db_path).execute(
        "SELECT key, media FROM items ORDER BY key").fetchall()
    assert stored == [("tg:sample_media/1", '["document"]'), ("tg:sample_media/2", '["document"]')]


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_a_100_kb_setting_is_never_echoed_in_full(
        settings: Settings, capsys, monkeypatch: pytest.MonkeyPatch, name: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(f"RIFTWATCH_{name.upper()}", LONG)
    code, err = _run(capsys, "feeds", "list")
    if code == 0:  # a setting any text may be (a token, a URL the bot checks when it starts)
        return
    assert code == 2
    _assert_one_line(err, f"RIFTWATCH_{name.upper()}")
    assert len(err) < SHORT_LINE, len(err)


@pytest.mark.parametrize("command", [["score-pending"], ["digest"]])
@pytest.mark.parametrize("variable", ["RIFTWATCH_MODEL", "RIFTWATCH_CACHE_DIR",
                                      "RIFTWATCH_DB_PATH"])
def test_a_path_longer_than_the_system_allows_is_one_line(
        settings: Settings, capsys, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
        command: list[str], variable: str) -> None:
    monkeypatch.setenv(variable, LONG)  # was "File name too long" in a traceback
    code, err = _run(capsys, *command)
    assert code == 2
    _assert_one_line(err, variable, "longer than a path can be")
    assert len(err) < SHORT_LINE


def test_a_long_path_in_an_error_keeps_its_start_and_its_file_name(
        settings: Settings, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    feeds = tmp_path / ("a" * 200) / ("b" * 200) / ("c" * 200) / "absent-feeds.toml"
    monkeypatch.setenv("RIFTWATCH_FEEDS_FILE", str(feeds))
    code, err = _run(capsys, "feeds", "list")
    assert code == 2
    _assert_one_line(err, "file not found", "RIFTWATCH_FEEDS_FILE")
    assert err.startswith(f"riftwatch: {str(feeds)[:60]}")
    assert "…" in err and "cccc/absent-feeds.toml: -: file not found" in err
    assert len(err) < SHORT_LINE
