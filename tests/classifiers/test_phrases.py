"""Config phrases matched by lemma (pymorphy3 over razdel tokens): base forms in config find
every inflection, multi-word aliases find their words in sequence."""

from __future__ import annotations

import pytest

from classifiers.heads import CompiledTaxonomy
from classifiers.phrases import PhraseMatcher, text_lemmas
from config.settings import DEFAULT_THEMES_FILE
from config.themes import load_themes

COMPILED = CompiledTaxonomy.from_taxonomy(load_themes(DEFAULT_THEMES_FILE))


@pytest.mark.parametrize(("phrase", "text", "found"), [
    ("Герасимов", "Генерала Герасимова пора снимать.", True),
    ("Герасимов", "Герасимову всё равно.", True),
    ("Пригожин", "Слова Пригожина подтвердились.", True),
    ("министерство обороны", "Министерства обороны РФ опять молчит.", True),
    ("министерство обороны", "В министерствах обороны и финансов.", True),
    ("министерство обороны", "Министерство финансов и оборона.", False),
    ("соседнее подразделение", "Соседние подразделения бегут с флангов.", True),
    ("МО РФ", "в МО РФ врут", True),
    ("жёстче", "надо бить жестче", True),
    ("тикток", "Ахмат снимает тикток-войска.", True),
    ("генерал", "паркетные генералы отчитались", True),
    ("Defence Ministry", "the defence ministry keeps lying", True),
    ("Шойгу", "Шойгун пришёл", False),
    ("власть", "властный голос", False),
])
def test_phrase_matches_by_lemma(phrase: str, text: str, found: bool) -> None:
    assert PhraseMatcher.of([phrase]).found(text_lemmas(text)) is found


@pytest.mark.parametrize(("text", "targets"), [
    ("Генштаб и лично Герасимова надо гнать", ["gerasimov"]),
    ("Позор Министерству обороны и Шойгу!", ["ministry", "shoigu"]),
    ("Кадыров ответил Пригожину", ["wagner", "kadyrov"]),
    ("Чеченцы снова снимают видео", ["kadyrov"]),
    ("Кремлёвские чиновники молчат", ["kremlin"]),
    ("Смежников опять подвели", ["other_units"]),
    ("Погода в Москве хорошая", []),
])
def test_shipped_aliases_find_inflected_targets(text: str, targets: list[str]) -> None:
    assert COMPILED.targets_in(text) == targets


@pytest.mark.parametrize(("text", "theme", "hits"), [
    ("Снарядов нет, боеприпасов не хватает", "supply_shortage", 3),
    ("Никто ни с кем не может договориться", "command_chaos", 0),
    ("никто не может договориться, приказы противоречат", "command_chaos", 2),
    ("Наши отступили, позиции оставлены", "retreat_admission", 2),
    ("Пора объявить мобилизацию и военное положение", "escalation_demand", 2),
])
def test_keyword_hits_count_each_occurrence(text: str, theme: str, hits: int) -> None:
    index = [t.name for t in COMPILED.themes].index(theme)
    assert COMPILED.keyword_hits(text, index) == hits


def test_spans_prefer_the_longest_phrase() -> None:
    matcher = PhraseMatcher.of(["министерство", "министерство обороны"])
    assert matcher.spans(text_lemmas("Министерства обороны нет")) == [(0, 2)]
