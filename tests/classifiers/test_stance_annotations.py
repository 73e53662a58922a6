"""The four-stance annotated set: every row resolves to the text it was annotated on, twice
annotated, with labels from the codebook; a changed text is refused, not silently relabelled."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from classifiers.datasets import STANCE_ANNOTATIONS, load_stance_annotations
from config.themes import STANCE_NAMES
from riftwatch.demo_server import CORPUS_FILE


def test_every_annotated_post_resolves_to_its_text(shared_data: Path) -> None:
    data = load_stance_annotations(STANCE_ANNOTATIONS, shared_data, CORPUS_FILE)

    assert len(data.texts) >= 400
    assert set(data.labels) <= set(STANCE_NAMES)
    assert set(data.first) | set(data.second) <= set(STANCE_NAMES)
    assert Counter(data.groups)["milblog"] == 369
    settled_by_third = [
        (a, b, label) for a, b, label in zip(data.first, data.second, data.labels, strict=True)
        if a != b
    ]
    assert settled_by_third, "the set records disagreements, not only agreed labels"


def test_a_changed_text_is_refused(shared_data: Path, tmp_path: Path) -> None:
    with STANCE_ANNOTATIONS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["sha1"] = "000000000000"
    edited = tmp_path / "annotations.csv"
    with edited.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    with pytest.raises(ValueError, match="not the annotated text"):
        load_stance_annotations(edited, shared_data, CORPUS_FILE)
