"""Every invalid setting ends as one stderr line naming the variable and the fix, exit status 2.

tests/core/test_config.py checks a handful of variables at ``load_settings``; here every
validated ``Settings`` field gets an invalid value derived from its type and bounds, through
the real CLI, and a few run as a child process to see the real stderr and exit status.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, get_args

import pytest
from annotated_types import Ge, Gt, Le

from config import Settings
from riftwatch.cli.main import main

PATH_CASES = [
    ("RIFTWATCH_FEEDS_FILE", "{tmp}/absent.toml", "file not found"),
    ("RIFTWATCH_FEEDS_FILE", "{tmp}", "Is a directory"),
    ("RIFTWATCH_FEEDS_FILE", "{binary}", "not UTF-8"),
    ("RIFTWATCH_THEMES_FILE", "{tmp}/absent.toml", "file not found"),
    ("RIFTWATCH_THEMES_FILE", "{tmp}", "Is a directory"),
    ("RIFTWATCH_DB_PATH", "{tmp}", "cannot open the store"),
    ("RIFTWATCH_DB_PATH", "{tmp}/file.bin/inside.db", "cannot open the store"),
]
NAMED_CASES = [
    ("RIFTWATCH_TIMEZONE", "Mars/Olympus", "unknown time zone"),
    ("RIFTWATCH_LOG_LEVEL", "LOUD", "must be DEBUG"),
    ("RIFTWATCH_ADMIN_IDS", "12;@someone", "valid integer"),
    ("RIFTWATCH_ANALYST_IDS", "x", "valid integer"),
]


def _bad_values(name: str, field: Any) -> list[str]:
    """Invalid environment strings for a numeric or boolean field, from its type and bounds."""
    kind = field.annotation
    if kind is bool:
        return ["maybe"]
    if kind not in (int, float):
        return []
    values = ["not-a-number"]
    for bound in field.metadata:
        if isinstance(bound, Ge):
            values.append(str(bound.ge - 1))
        elif isinstance(bound, Gt):
            values.append(str(bound.gt))
        elif isinstance(bound, Le):
            values.append(str(bound.le + 1))
    return values


def _generated_cases() -> list[tuple[str, str, str]]:
    cases = []
    for name, field in Settings.model_fields.items():
        for value in _bad_values(name, field):
            cases.append((f"RIFTWATCH_{name.upper()}", value, name))
    return cases


GENERATED = _generated_cases()


def test_every_numeric_and_boolean_setting_is_covered() -> None:
    covered = {variable for variable, _, _ in GENERATED}
    numeric = {f"RIFTWATCH_{name.upper()}" for name, field in Settings.model_fields.items()
               if field.annotation in (int, float, bool)}
    assert covered == numeric
    assert len(numeric) >= 15
    assert all(get_args(Settings.model_fields[name].annotation) == () for name in
               (variable.removeprefix("RIFTWATCH_").lower() for variable in covered))


def _fill(value: str, tmp_path: Path) -> str:
    binary = tmp_path / "file.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage\x81")
    return value.format(tmp=tmp_path, binary=binary)


@pytest.mark.parametrize(("variable", "value", "fragment"),
                         GENERATED + PATH_CASES + NAMED_CASES,
                         ids=lambda part: str(part)[:40])
def test_invalid_value_is_one_line_naming_the_variable_and_fix(
        settings, tmp_path, capsys, monkeypatch, variable, value, fragment) -> None:
    monkeypatch.setenv(variable, _fill(value, tmp_path))
    code = main(["feeds", "list"])
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("riftwatch: ")
    assert variable in captured.err
    assert fragment in captured.err
    assert "fix:" in captured.err


@pytest.mark.parametrize(("command", "variable", "value", "fragment"), [
    (["feeds", "list"], "RIFTWATCH_HTTP_MAX_BYTES", "-5", "http_max_bytes"),
    (["fetch", "--no-score"], "RIFTWATCH_DB_PATH", "{tmp}", "cannot open the store"),
    (["digest"], "RIFTWATCH_THEMES_FILE", "{binary}", "not UTF-8"),
    (["score-pending"], "RIFTWATCH_MODEL", "{tmp}/no-model-here", "point it at"),
])
def test_the_real_process_prints_one_line_and_exits_2(kit, tmp_path, command, variable, value,
                                                     fragment) -> None:
    env = kit.child_env(tmp_path / "store.db", **{variable: _fill(value, tmp_path)})
    done = subprocess.run([kit.PYTHON, "-m", "riftwatch", *command], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert variable in done.stderr
    assert fragment in done.stderr
    assert "fix:" in done.stderr or "point it at" in done.stderr
