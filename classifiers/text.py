"""Plain-text handling for scoring: razdel sentences, encoder-sized windows, lingua language ID.

Pure text work; it never loads the encoder (the language detector's n-gram models ship in the
lingua wheel and load once, on first use).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from razdel import sentenize

if TYPE_CHECKING:
    from lingua import IsoCode639_1, LanguageDetector

_URL = re.compile(r"https?://\S+")
_SPACE = re.compile(r"[ \t\u00a0]+")
_LINE = re.compile(r"[^\n]+")
_LETTER = re.compile(r"[^\W\d_]")
_WORDISH = re.compile(r"\w")

# ISO 639-1 codes the detector chooses among: the Cyrillic languages a Russian-language feed
# may carry, and the Latin-script ones its quoted sources are in. Anything else is "other".
LANGUAGE_CODES = (
    "ru", "uk", "be", "bg", "sr", "mk", "kk",
    "en", "de", "fr", "pl", "ka", "hy",
)  # each Cyrillic or Latin one costs ~23 MiB of n-gram models, loaded when its script appears
# Windows read at most this many characters of a post per character they can hold: room for
# the links and blank space that cleaning drops, while a 100,000-character post costs no more
# than an ordinary long one.
WINDOW_READ_FACTOR = 4
MIN_LETTERS = 4  # fewer letters than this ("12:00 — 💥", "ок") is too short to tell
LANGUAGE_CHARS = 1000  # the detector reads at most this much of a post
MIN_RELATIVE_DISTANCE = 0.05  # closer calls than this are "other", not a guess


def clean_text(text: str) -> str:
    """Drop URLs and squeeze spaces; keep line breaks (they end sentences in posts)."""
    return _SPACE.sub(" ", _URL.sub(" ", text)).strip()


def iter_sentences(text: str) -> Iterator[str]:
    """Sentences of a post, lazily: razdel's sentence boundaries within each line.

    Line breaks always end a sentence; URLs are dropped first (as ``clean_text`` does);
    one-character leftovers are skipped.
    """
    for line in _LINE.finditer(clean_text(text)):
        for sentence in _line_sentences(line.group()):
            part = sentence.strip()
            if len(part) > 1:
                yield part


def _line_sentences(line: str) -> Iterator[str]:
    """razdel's sentences of one line; a fragment with no word in it ("💪", "!!") stays on
    the sentence before it instead of standing alone."""
    start = stop = -1
    for sentence in sentenize(line):
        if start >= 0 and not _WORDISH.search(sentence.text):
            stop = sentence.stop
            continue
        if start >= 0:
            yield line[start:stop]
        start, stop = sentence.start, sentence.stop
    if start >= 0:
        yield line[start:stop]


def split_sentences(text: str) -> list[str]:
    """Sentences of a post; abbreviations (г., т.е.), initials and decimals stay inside one."""
    return list(iter_sentences(text))


def _cut_to_fit(sentence: str, max_chars: int) -> Iterator[str]:
    """``sentence`` in pieces of at most ``max_chars``, cut at a space past the half where
    there is one; every piece but the last fills a window of its own. Offsets, not re-slices,
    so an endless sentence costs time in proportion to its length."""
    start, end = 0, len(sentence)
    while end - start > max_chars:
        limit = start + max_chars
        cut = sentence.rfind(" ", start, limit)
        cut = cut if cut - start > max_chars // 2 else limit
        yield sentence[start:cut].strip()
        start = cut
        while start < end and sentence[start].isspace():
            start += 1
    yield sentence[start:]


def sentence_windows(text: str, max_chars: int = 360, max_windows: int = 8) -> list[str]:
    """Consecutive sentences packed into windows of at most ``max_chars`` (long ones cut).

    Windows cover the post from the start; reading stops once ``max_windows`` are full, and
    never goes past ``WINDOW_READ_FACTOR`` times what they hold, so the cost of a post is
    bounded whatever its length.
    """
    text = text[: max_chars * max_windows * WINDOW_READ_FACTOR]
    windows: list[str] = []
    current = ""
    for sentence in iter_sentences(text):
        *whole, rest = _cut_to_fit(sentence, max_chars)
        if whole and current:
            windows.append(current)
            current = ""
        windows.extend(whole)
        if current and len(current) + 1 + len(rest) > max_chars:
            windows.append(current)
            current = rest
        else:
            current = f"{current} {rest}".strip()
        if len(windows) >= max_windows:
            return windows[:max_windows]
    if current:
        windows.append(current)
    return windows[:max_windows] or [clean_text(text)[:max_chars]]


@lru_cache(maxsize=1)
def _language_detector() -> LanguageDetector:
    """lingua's detector over ``LANGUAGE_CODES``, built once, on first use."""
    from lingua import LanguageDetectorBuilder

    return (
        LanguageDetectorBuilder.from_iso_codes_639_1(*_iso_codes())
        .with_minimum_relative_distance(MIN_RELATIVE_DISTANCE)
        .build()
    )


def _iso_codes() -> list[IsoCode639_1]:
    from lingua import IsoCode639_1

    return [IsoCode639_1.from_str(code) for code in LANGUAGE_CODES]


def detect_language(text: str) -> str:
    """The post's ISO 639-1 code (``ru``, ``uk``, ``be``, ``bg``, ``sr``, ``kk``, ``en``…),
    or ``other`` when it is too short, in no language of ``LANGUAGE_CODES``, or a close call."""
    sample = clean_text(text[: LANGUAGE_CHARS * 2])[:LANGUAGE_CHARS]
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return "other"
    language = _language_detector().detect_language_of(sample)
    return language.iso_code_639_1.name.lower() if language is not None else "other"
