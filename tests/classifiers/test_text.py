"""Sentence splitting, windows and language detection (no model)."""

from classifiers.text import detect_language, sentence_windows, split_sentences


def test_split_sentences_at_ends_and_line_breaks() -> None:
    text = "Шойгу опять врёт. Позиции сданы!\nПодробности https://t.me/x/1 позже…  Ждём."
    assert split_sentences(text) == [
        "Шойгу опять врёт.",
        "Позиции сданы!",
        "Подробности позже…",
        "Ждём.",
    ]


def test_windows_pack_sentences_and_cap_long_posts() -> None:
    sentence = "Снарядов нет и не будет до конца месяца."
    windows = sentence_windows(" ".join([sentence] * 200), max_chars=120, max_windows=5)
    assert len(windows) == 5
    assert all(len(window) <= 120 for window in windows)
    assert windows[0].startswith(sentence)


def test_window_cuts_one_endless_sentence() -> None:
    windows = sentence_windows("слово " * 300, max_chars=100)
    assert all(0 < len(window) <= 100 for window in windows)


def test_empty_text_gives_one_empty_window() -> None:
    assert sentence_windows("") == [""]


def test_detect_language_by_script() -> None:
    assert detect_language("Наши подразделения отошли с позиций, это ясно.") == "ru"
    assert detect_language("Наші підрозділи відійшли з позицій, це зрозуміло.") == "uk"
    assert detect_language("Prigozhin says the ministry lied.") == "en"
    assert detect_language("12:00 — 💥💥") == "other"
    assert detect_language("Die Bundeswehr übt nächste Woche in Bayern.") == "other"
