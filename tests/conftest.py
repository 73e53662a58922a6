"""Fixtures shared by every test: a fresh store, settings, the shared data folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from config import Settings, load_settings
from store.db import open_db

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or skip: a user's checkout has no shared folder."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent (only in the team's checkout)")
    return SHARED_DATA


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "riftwatch.db"


@pytest.fixture
def db(db_path: Path) -> sqlite_utils.Database:
    return open_db(db_path)


@pytest.fixture
def settings(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings isolated from the developer's environment, pointing at a tmp store."""
    for name in list(__import__("os").environ):
        if name.startswith("RIFTWATCH_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return load_settings(db_path=db_path, cache_dir=tmp_path / "cache", allow_private_urls=True)
