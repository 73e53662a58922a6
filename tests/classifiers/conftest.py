"""Classifier test fixtures: the packaged model converted once, one classifier per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.classifier import Classifier
from classifiers.convert import ensure_default_model
from classifiers.scoring import load_classifier
from config import load_settings
from config.settings import DEFAULT_THEMES_FILE
from config.themes import load_themes


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache dir holding the packaged model converted once for the whole test session."""
    cache = tmp_path_factory.mktemp("model-cache")
    ensure_default_model(cache)
    return cache


@pytest.fixture(scope="session")
def classifier(model_cache: Path) -> Classifier:
    settings = load_settings(cache_dir=model_cache, model=None, threads=2)
    return load_classifier(settings, load_themes(DEFAULT_THEMES_FILE))
