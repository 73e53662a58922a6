"""The stance-and-themes annotated set: every row resolves to the text it was annotated on, both
readings are kept, disagreements were settled, labels come from the codebook and the taxonomy,
every post says how it was drawn; a changed text is refused, not silently relabelled."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from classifiers.training.datasets import ANNOTATIONS, DEMO_CORPUS, load_annotations
from config.settings import DEFAULT_THEMES_FILE
from config.themes import STANCE_NAMES, load_themes

THEMES = set(load_themes(DEFAULT_THEMES_FILE).theme_names())


def test_every_annotated_post_resolves_to_its_text(shared_data: Path) -> None:
    data = load_annotations(ANNOTATIONS, shared_data, DEMO_CORPUS)

    assert len(data.texts) >= 2000
    repeated = {text for text, n in Counter(data.texts).items() if n > 1}
    assert {source for text, source in zip(data.texts, data.sources, strict=True)
            if text in repeated} <= {"milblog"}, "only dev.csv's own duplicate rows repeat"
    readings = data.first + data.second + data.settled
    assert {reading.stance for reading in readings} <= set(STANCE_NAMES)
    assert set().union(*(reading.themes for reading in readings)) <= THEMES
    assert Counter(data.sources)["milblog"] == 369
    assert sum(data.is_random()) >= 1000


def test_agreements_stand_and_disagreements_were_read_a_third_time(shared_data: Path) -> None:
    data = load_annotations(ANNOTATIONS, shared_data, DEMO_CORPUS)
    rows = list(zip(data.first, data.second, data.settled, strict=True))

    assert all(settled == first for first, second, settled in rows if first == second)
    disputed = [(first, second, settled) for first, second, settled in rows if first != second]
    assert disputed, "the set records disagreements, not only agreed labels"


def test_each_post_records_how_it_was_drawn(shared_data: Path) -> None:
    data = load_annotations(ANNOTATIONS, shared_data, DEMO_CORPUS)
    kinds = Counter(how.split(":")[0] for how in data.sampled)

    assert set(kinds) <= {"all", "pilot", "random", "retrieved", "neighbour"}
    assert kinds["retrieved"] + kinds["neighbour"] > 0


def test_a_changed_text_is_refused(shared_data: Path, tmp_path: Path) -> None:
    with ANNOTATIONS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["sha1"] = "000000000000"
    edited = tmp_path / "annotations.csv"
    with edited.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    with pytest.raises(ValueError, match="not the annotated text"):
        load_annotations(edited, shared_data, DEMO_CORPUS)
