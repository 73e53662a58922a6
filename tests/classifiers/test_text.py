"""Sentence splitting (razdel), windows and language identification (lingua), table-driven."""

from __future__ import annotations

import time

import pytest

from classifiers.text import detect_language, sentence_windows, split_sentences

SENTENCES = [
    ("line breaks and links",
     "Шойгу опять врёт. Позиции сданы!\nПодробности https://t.me/x/1 позже…  Ждём.",
     ["Шойгу опять врёт.", "Позиции сданы!", "Подробности позже…", "Ждём."]),
    ("year abbreviation and initials",
     "В 2023 г. ВСУ отошли. А. Н. Петров ответил, что Минобороны врёт.",
     ["В 2023 г. ВСУ отошли.", "А. Н. Петров ответил, что Минобороны врёт."]),
    ("т.е., decimals and ВС РФ",
     "Прошли 3.5 км, т.е. почти до окраины. ВС РФ закрепились.",
     ["Прошли 3.5 км, т.е. почти до окраины.", "ВС РФ закрепились."]),
    ("closing quote stays with its sentence",
     'Он написал: "Снарядов нет." Потом удалил пост.',
     ['Он написал: "Снарядов нет."', "Потом удалил пост."]),
    ("trailing emoji stays on its sentence",
     "Ужас! Ведь ему выдают всего 2500 фунтов! 😭",
     ["Ужас!", "Ведь ему выдают всего 2500 фунтов! 😭"]),
    ("Ukrainian",
     "Ворог знову б'є по Херсону. Тримаємось!",
     ["Ворог знову б'є по Херсону.", "Тримаємось!"]),
    ("mixed Russian and English",
     "Reuters пишет: the ministry denies it. Посмотрим.",
     ["Reuters пишет: the ministry denies it.", "Посмотрим."]),
    ("only a link", "https://t.me/rybar/1", []),
]


@pytest.mark.parametrize(("text", "expected"), [case[1:] for case in SENTENCES],
                         ids=[case[0] for case in SENTENCES])
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


LANGUAGES = [
    ("Наши подразделения отошли с позиций, это ясно.", "ru"),
    ("Минобороны молчит.", "ru"),
    ("В 2023 г. ВСУ отошли. А. Н. Петров ответил, что Минобороны врёт.", "ru"),
    ("Продвинулись на 3.5 км, т.е. почти до окраины.", "ru"),
    ("ВС РФ заняли село.", "ru"),
    ("Пригожин заявил, что the Ministry of Defence lied again, и это видно всем.", "ru"),
    ("Подробности по ссылке https://t.me/rybar/1234 — смотрите сами.", "ru"),
    ("Наші підрозділи відійшли з позицій, це зрозуміло.", "uk"),
    ("Слава Україні! Героям слава!", "uk"),
    ("Ворог знову б'є по Херсону.", "uk"),  # no і, ї or є
    ("Хто за це заплатить?", "uk"),
    ("Беларусь — краіна з багатай гісторыяй.", "be"),
    ("Мы жывём у Мінску і шмат працуем.", "be"),
    ("Сёння ў горадзе адбыўся вялікі сход.", "be"),
    ("България е член на Европейския съюз от 2007 година.", "bg"),
    ("Войната в Украйна продължава вече втора година.", "bg"),
    ("Днес времето ще бъде слънчево.", "bg"),
    ("Србија је земља у југоисточној Европи.", "sr"),
    ("Рат у Украјини траје већ две године.", "sr"),
    ("Қазақстан Республикасы — Орталық Азиядағы мемлекет.", "kk"),
    ("Бүгін Алматыда ауа райы жылы болады.", "kk"),
    ("Prigozhin says the ministry lied.", "en"),
    ("Die Bundeswehr übt nächste Woche in Bayern.", "de"),
    ("Le ministère de la Défense a démenti ces informations.", "fr"),
    ("Wojska rosyjskie wycofały się z miasta.", "pl"),
    ("12:00 — 💥💥", "other"),
    ("ок", "other"),
    ("https://t.me/rybar/1", "other"),
    ("", "other"),
]


@pytest.mark.parametrize(("text", "expected"), LANGUAGES)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_windows_pack_sentences_and_cap_long_posts() -> None:
    sentence = "Снарядов нет и не будет до конца месяца."
    windows = sentence_windows(" ".join([sentence] * 200), max_chars=120, max_windows=5)
    assert len(windows) == 5
    assert all(len(window) <= 120 for window in windows)
    assert windows[0].startswith(sentence)


def test_windows_keep_abbreviations_inside_one_sentence() -> None:
    windows = sentence_windows("В 2023 г. ВСУ отошли. А. Н. Петров ответил.", max_chars=25)
    assert windows == ["В 2023 г. ВСУ отошли.", "А. Н. Петров ответил."]


def test_window_cuts_one_endless_sentence() -> None:
    windows = sentence_windows("слово " * 300, max_chars=100, max_windows=100)
    assert all(0 < len(window) <= 100 for window in windows)
    assert " ".join(windows) == ("слово " * 300).strip()


def test_empty_text_gives_one_empty_window() -> None:
    assert sentence_windows("") == [""]


@pytest.mark.parametrize("post", ["слово " * 20_000, "Снарядов нет и не будет. " * 4_000,
                                  "ок\n" * 40_000], ids=["endless", "sentences", "lines"])
def test_a_100k_character_post_costs_what_a_short_long_post_does(post: str) -> None:
    """Windows read a bounded prefix: the same windows as for the post's first part, fast."""
    started = time.perf_counter()
    windows = sentence_windows(post)
    assert time.perf_counter() - started < 0.25
    assert windows == sentence_windows(post[:12_000])
    assert len(windows) <= 8
    assert all(len(window) <= 360 for window in windows)
