"""Helpers for the bring-your-own-data tests: run the real CLI in-process, find fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from riftwatch.cli.main import main

BYOD_DATA = Path(__file__).resolve().parent.parent / "data" / "byod"


@pytest.fixture
def byod_data() -> Path:
    return BYOD_DATA


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """``run_cli(*argv)`` → (exit code, stdout, stderr) of ``riftwatch.cli.main``."""

    def run(*argv: object) -> tuple[int, str, str]:
        code = main([str(arg) for arg in argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def model_env(settings, model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # type: ignore[no-untyped-def]
    """CLI runs in this test use the session's converted model (loaded once per process)."""
    monkeypatch.setenv("RIFTWATCH_CACHE_DIR", str(model_cache))
    return model_cache
