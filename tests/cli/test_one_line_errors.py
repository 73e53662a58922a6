"""Expected failures are one line on stderr and a non-zero exit, never a traceback (issue 13.4).

Each runs the real CLI entry point on real files; the error tree is checked class by class.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlite_utils

from bot.commands import UsageError
from classifiers.convert import ConversionError
from classifiers.encoder import ModelLoadError
from config import ConfigError, RiftwatchError, Settings
from digest.compose import WindowError, parse_window
from monitors.errors import MonitorError
from riftwatch.byod.evaluate_file import EvaluationError
from riftwatch.byod.positive import PositiveError
from riftwatch.byod.readers import ReadError
from riftwatch.byod.score_file import NothingToScore
from riftwatch.byod.telegram_export import ExportError
from riftwatch.cli import main
from riftwatch.cli_common import CommandError
from riftwatch.opml import OpmlError
from store.feeds import FeedNotFound
from store.labels import LabelError

EXPECTED_FAILURES = [CommandError, OpmlError, ExportError, PositiveError, EvaluationError,
                     ReadError, NothingToScore, FeedNotFound, LabelError, MonitorError,
                     ModelLoadError, ConversionError, UsageError, ConfigError, WindowError]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
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
