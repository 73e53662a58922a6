"""Watches as typed and as matched: every inflection of a phrase, RE2 patterns in linear time,
attacked targets (listed and unlisted), a channel's critical posts, exclusions, stances, and
the clear refusals of what cannot be run."""

from __future__ import annotations

import pytest

from config.settings import DEFAULT_THEMES_FILE
from config.themes import Taxonomy, load_themes
from digest.watch_match import WatchMatcher
from digest.watch_spec import WatchError, describe_rule, parse_watch
from store.watches import WatchedPost, WatchRule

TAXONOMY: Taxonomy = load_themes(DEFAULT_THEMES_FILE)


def _post(text: str, feed: str = "rybar", stance: str | None = "critical",
          targets: tuple[str, ...] = (), evidence: str | None = None, item_id: int = 1
          ) -> WatchedPost:
    return WatchedPost(item_id=item_id, feed=feed, url=f"https://t.me/{feed}/{item_id}",
                       text=text, published_at=None, fetched_at=None, stance=stance,
                       targets=targets, evidence=evidence)


def _matches(watch: str, post: WatchedPost) -> list[tuple[int, str]]:
    rule = parse_watch(watch, TAXONOMY, 200).rule
    return WatchMatcher([(7, rule)], TAXONOMY, 20_000).matches(post)


@pytest.mark.parametrize("sentence", [
    "Генерал опять ничего не сказал.",
    "Где генералы?",
    "Снова ни одного генерала на передовой.",
    "Спросите у генералов, куда делись снаряды.",
    "ГЕНЕРАЛАМ всё равно.",
])
def test_a_phrase_matches_every_inflection_and_quotes_its_sentence(sentence: str) -> None:
    post = _post(f"Вступление без слова. {sentence} Потом ещё одно.")
    assert _matches("генерал", post) == [(7, sentence)]


def test_a_two_word_phrase_matches_in_order_by_lemma() -> None:
    assert _matches("министерство обороны", _post("Министерства обороны опять молчат."))
    assert not _matches("министерство обороны", _post("Обороны министерство — не то."))
    assert not _matches("министерство обороны", _post("Министерство просвещения."))


def test_exclusions_drop_a_post_that_names_them_in_any_form() -> None:
    watch = "министерство обороны -учения -парад"
    assert _matches(watch, _post("Министерство обороны врёт про фланги."))
    assert not _matches(watch, _post("Министерство обороны провело учения."))
    assert not _matches(watch, _post("Министерство обороны готовит парады."))


def test_a_stance_filter_keeps_only_those_stances() -> None:
    watch = "шойгу stance:critical,alarmed"
    assert _matches(watch, _post("Шойгу снова на совещании.", stance="alarmed"))
    assert not _matches(watch, _post("Шойгу снова на совещании.", stance="supportive"))
    assert not _matches(watch, _post("Шойгу снова на совещании.", stance=None))  # unscored


def test_a_pattern_runs_case_insensitively_and_quotes_the_sentence() -> None:
    ((_, evidence),) = _matches(r"re:брос(ил|или|ила)\s+позиции",
                                _post("Всё тихо. Соседи БРОСИЛИ позиции без приказа. Итог."))
    assert evidence == "Соседи БРОСИЛИ позиции без приказа."


def test_a_catastrophic_pattern_is_answered_correctly_on_100_kb() -> None:
    """``(a+)+$`` backtracks exponentially in Python's re; RE2 answers in one pass."""
    rule = parse_watch("re:(a+)+$", TAXONOMY, 200).rule
    matcher = WatchMatcher([(1, rule)], TAXONOMY, 20_000)
    assert not matcher.matches(_post("a" * 100_000 + "b"))
    assert [key for key, _ in matcher.matches(_post("a" * 100_000))] == [1]
    assert not matcher.matches(_post("a" * 50_000 + "!" + "a" * 49_999 + "b"))


@pytest.mark.parametrize("pattern, reason", [
    ("(a", "missing )"),
    ("(?=x)y", "invalid perl operator"),
    (r"(a)\1", "invalid escape"),
    ("a{1000}{1000}", "bad repetition"),
])
def test_a_pattern_re2_cannot_run_is_refused_with_its_reason(pattern: str, reason: str) -> None:
    with pytest.raises(WatchError, match="RE2 cannot run") as refused:
        parse_watch(f"re:{pattern}", TAXONOMY, 200)
    assert reason in str(refused.value)


def test_hostile_watches_are_refused_in_one_line() -> None:
    with pytest.raises(WatchError, match="at most 200 characters"):
        parse_watch("re:" + "a" * 300, TAXONOMY, 200)
    with pytest.raises(WatchError, match="control or direction"):
        parse_watch("шойгу\x1b[2J", TAXONOMY, 200)
    with pytest.raises(WatchError, match="control or direction"):
        parse_watch("шойгу \u202eugiohs", TAXONOMY, 200)
    with pytest.raises(WatchError, match="Unknown stance 'angry'"):
        parse_watch("шойгу stance:angry", TAXONOMY, 200)
    with pytest.raises(WatchError, match="At most 10 exclusions"):
        parse_watch("шойгу " + " ".join(f"-слово{n}" for n in range(11)), TAXONOMY, 200)
    with pytest.raises(WatchError, match="1 to 8 words"):
        parse_watch("раз два три четыре пять шесть семь восемь девять", TAXONOMY, 200)
    with pytest.raises(WatchError, match="Nothing to watch"):
        parse_watch("stance:critical", TAXONOMY, 200)


def test_a_listed_target_is_named_by_its_name_label_or_alias() -> None:
    for typed in ("target:shoigu", "target:Shoigu", "target:Шойгу", "target:Шойгу"):
        assert parse_watch(typed, TAXONOMY, 200).rule.subject == "shoigu"
    assert parse_watch("target:Министерство обороны", TAXONOMY, 200).rule.subject == "ministry"
    assert parse_watch("target:Стрелков", TAXONOMY, 200).rule.subject == "unlisted:Стрелков"
    assert parse_watch("target:unlisted:Стрелков", TAXONOMY, 200).rule.subject == \
        "unlisted:Стрелков"


def test_a_target_watch_matches_posts_that_attack_it_and_quotes_where_it_is_named() -> None:
    text = "Сводка за день. Шойгу опять доложил о полном контроле. Верить ему нельзя."
    ((_, evidence),) = _matches("target:shoigu", _post(text, targets=("shoigu", "gerasimov")))
    assert evidence == "Шойгу опять доложил о полном контроле."
    assert not _matches("target:shoigu", _post(text, targets=("gerasimov",)))  # named, not attacked
    attacked = _post("Стрелкова опять не услышали.", targets=("unlisted:Стрелкова",))
    assert _matches("target:unlisted:Стрелков", attacked)


def test_a_channel_watch_takes_its_critical_posts_with_the_models_evidence() -> None:
    post = _post("Первое. Второе предложение, злое.", feed="Rybar",
                 evidence="Второе предложение, злое.")
    assert _matches("channel:rybar", post) == [(7, "Второе предложение, злое.")]
    assert not _matches("channel:rybar", _post("Сводка.", feed="rybar", stance="neutral"))
    assert not _matches("channel:rybar", _post("Злое.", feed="wargonzo"))
    assert _matches("channel:rybar stance:neutral", _post("Сводка.", stance="neutral"))


def test_many_watches_match_each_post_once_in_order() -> None:
    rules = [(number, parse_watch(watch, TAXONOMY, 200).rule) for number, watch in enumerate(
        ["снаряд", "генерал -учения", "re:позици[яи]", "target:shoigu", "channel:rybar"], 1)]
    rules += [(100 + n, parse_watch(f"слово{n}", TAXONOMY, 200).rule) for n in range(500)]
    matcher = WatchMatcher(rules, TAXONOMY, 20_000)
    post = _post("Снарядов нет. Генералы молчат. Позиции оставлены.", targets=("shoigu",),
                 evidence="Генералы молчат.")
    assert [key for key, _ in matcher.matches(post)] == [1, 2, 3, 4, 5]


def test_a_rule_reads_back_as_the_words_that_add_it() -> None:
    for typed in ("министерство обороны -учения stance:critical,alarmed", "re:(a+)+$",
                  "target:shoigu", "channel:rybar", "channel:rybar stance:alarmed"):
        assert describe_rule(parse_watch(typed, TAXONOMY, 200).rule) == typed


def test_a_stored_rule_that_cannot_run_is_skipped_and_the_rest_still_match() -> None:
    rules = [(1, WatchRule("regex", "(?=x)y")), (2, parse_watch("генерал", TAXONOMY, 200).rule)]
    matcher = WatchMatcher(rules, TAXONOMY, 20_000)
    assert [key for key, _ in matcher.matches(_post("Генералы молчат."))] == [2]
