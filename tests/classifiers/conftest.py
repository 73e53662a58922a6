"""Classifier test fixtures: one classifier per session over the shared model cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.classifier import Classifier
from classifiers.scoring import load_classifier
from config import load_settings
from config.settings import DEFAULT_THEMES_FILE
from config.themes import load_themes


@pytest.fixture(scope="session")
def classifier(model_cache: Path) -> Classifier:
    """The shipped heads on the reference arithmetic they were trained on (fp32): these tests
    judge the heads; what another precision costs is the int8 record's and
    test_batch_invariance's business (on int8 the attack below loses its Shoigu target, a
    borderline entity-head call)."""
    settings = load_settings(cache_dir=model_cache, model=None, threads=2, precision="fp32")
    return load_classifier(settings, load_themes(DEFAULT_THEMES_FILE))
