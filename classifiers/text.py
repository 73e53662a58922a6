"""Plain-text handling for scoring: sentences, encoder-sized windows, script-based language.

Pure string work; it never loads a model.
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"»”)]*\s+(?=[\"«“(]?[A-ZА-ЯЁІЇЄҐ0-9])|\n\s*")
_URL = re.compile(r"https?://\S+")
_SPACE = re.compile(r"[ \t\u00a0]+")

UK_ONLY = set("іїєґІЇЄҐ")
RU_ONLY = set("ыэъёЫЭЪЁ")
EN_WORDS = {
    "the",
    "and",
    "of",
    "to",
    "is",
    "are",
    "was",
    "in",
    "on",
    "for",
    "that",
    "with",
    "it",
    "this",
    "by",
    "says",
    "said",
    "has",
    "have",
    "not",
    "from",
    "they",
    "we",
    "a",
    "an",
}
_WORD = re.compile(r"[a-z']+")


def clean_text(text: str) -> str:
    """Drop URLs and squeeze spaces; keep line breaks (they end sentences in posts)."""
    return _SPACE.sub(" ", _URL.sub(" ", text)).strip()


def split_sentences(text: str) -> list[str]:
    """Sentences of a post: split after . ! ? … before a capital, and at line breaks."""
    parts = (part.strip() for part in _SENTENCE_END.split(clean_text(text)))
    return [part for part in parts if len(part) > 1]


def sentence_windows(text: str, max_chars: int = 360, max_windows: int = 8) -> list[str]:
    """Consecutive sentences packed into windows of at most ``max_chars`` (long ones cut).

    Windows cover the post from the start; past ``max_windows`` the rest is dropped, which
    bounds the cost of a very long post.
    """
    windows: list[str] = []
    current = ""
    for sentence in split_sentences(text):
        while len(sentence) > max_chars:
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 2 else max_chars
            if current:
                windows.append(current)
                current = ""
            windows.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > max_chars:
            windows.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        windows.append(current)
    return windows[:max_windows] or [clean_text(text)[:max_chars]]


def detect_language(text: str) -> str:
    """``ru``, ``uk``, ``en`` or ``other`` from the letters' script (Cyrillic letter hints)."""
    cyrillic = latin = 0
    uk = ru = 0
    for char in text:
        if "\u0400" <= char <= "\u04ff":
            cyrillic += 1
            uk += char in UK_ONLY
            ru += char in RU_ONLY
        elif char.isascii() and char.isalpha():
            latin += 1
    letters = cyrillic + latin
    if letters == 0:
        return "other"
    if cyrillic >= latin:
        if uk > ru:
            return "uk"
        return "ru" if cyrillic / letters > 0.3 else "other"
    words = set(_WORD.findall(text.lower()))
    ascii_share = latin / max(1, sum(c.isalpha() for c in text))
    return "en" if ascii_share > 0.95 and words & EN_WORDS else "other"
