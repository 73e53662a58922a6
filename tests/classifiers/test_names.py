"""Names by natasha (slovnet NER over navec, offline) and their canonical forms, and the
targets step built on them (aliases first, other people and organisations as unlisted)."""

from __future__ import annotations

import pytest

from classifiers.heads import CompiledTaxonomy
from classifiers.names import canonical_names, find_mentions_each
from classifiers.targets import TargetFinder
from config.settings import DEFAULT_THEMES_FILE
from config.themes import load_themes


@pytest.mark.parametrize(("text", "expected"), [
    ("Генерала Лапина снова покрывают.", [("PER", "Лапин")]),
    ("Виноват Сергей Суровикин.", [("PER", "Суровикин")]),
    ("Спросите с Сергея Суровикина.", [("PER", "Суровикин")]),
    ("Суровикину стоит ответить.", [("PER", "Суровикин")]),
    ("Об этом пишет Анастасия Кашеварова.", [("PER", "Кашеварова")]),
    ("А. Н. Петров ответил, что Минобороны врёт.", [("PER", "Петров"), ("ORG", "Минобороны")]),
    ("Бойцы Росгвардии ушли.", [("ORG", "Росгвардия")]),
    ("Из Министерства обороны ответа нет.", [("ORG", "Министерство обороны")]),
    ("Bad weather in London today.", []),
])
def test_mentions_in_canonical_form(text: str, expected: list[tuple[str, str]]) -> None:
    mentions = find_mentions_each([text])[0]
    names = canonical_names([(text, mention) for mention in mentions])
    assert [(m.kind, name) for m, name in zip(mentions, names, strict=True)] == expected


def test_unlisted_names_beside_listed_aliases() -> None:
    finder = TargetFinder(CompiledTaxonomy.from_taxonomy(load_themes(DEFAULT_THEMES_FILE)), None)
    window = "Генерал Суровикин сдал Херсон, а Минобороны и Шойгу молчат."
    found = [o.target for o in finder.occurrences_each([window])[0]]
    assert found[:2] == ["ministry", "shoigu"]
    assert "unlisted:Суровикин" in found
    assert not any(t.startswith("unlisted:Херсон") for t in found)  # places are not targets
