"""Russian and Ukrainian words to their dictionary forms: razdel tokens, pymorphy3 lemmas.

"Генералов", "генералы" and "генерала" all become "генерал", so a word feature or a keyword
learned from one inflection matches the rest. Pure text work with dictionaries shipped inside
the pymorphy3 wheels; it never loads the encoder.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

_WORDLIKE = re.compile(r"\w", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _analyzer():  # -> pymorphy3.MorphAnalyzer; untyped library
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


def has_cyrillic(text: str) -> bool:
    return _CYRILLIC.search(text) is not None


def morph_parses(word: str) -> list[Any]:
    """pymorphy3's readings (``Parse``) of one lower-case word, most likely first."""
    with _LOCK:  # the analyser's caches are not documented as thread-safe
        return list(_analyzer().parse(word))


@lru_cache(maxsize=200_000)
def _normal_forms(word: str) -> tuple[str, ...]:
    """pymorphy3's dictionary forms of one lower-case Cyrillic word, most likely first."""
    return tuple(dict.fromkeys(str(p.normal_form) for p in morph_parses(word)))


def lemma_of(word: str) -> str:
    """The most likely dictionary form of one lower-case word; non-Cyrillic words unchanged."""
    if not _CYRILLIC.search(word):
        return word
    forms = _normal_forms(word)
    return forms[0] if forms else word


@lru_cache(maxsize=4096)
def word_spans(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, stop, lower-case word) of each word token of ``text`` (razdel's tokenizer;
    punctuation dropped). Cached per text: a window is read for its aliases, its lemmas and
    once more for every name in it."""
    from razdel import tokenize

    return tuple((t.start, t.stop, t.text.lower()) for t in tokenize(text)
                 if _WORDLIKE.search(t.text))


def word_tokens(text: str) -> list[str]:
    """Lower-case word tokens of ``text`` (razdel's tokenizer; punctuation dropped)."""
    return [word for _, _, word in word_spans(text)]


def lemmatise(text: str) -> str:
    """The text as space-separated lemmas, for word n-gram features and keyword matching."""
    return " ".join(lemma_of(token) for token in word_tokens(text))


def lemmas_of(word: str) -> frozenset[str]:
    """Every dictionary form pymorphy3 allows for one lower-case word ("пригожина": the noun
    "пригожина" and the surname "пригожин"), and the word itself."""
    if not _CYRILLIC.search(word):
        return frozenset({word})
    return frozenset(_normal_forms(word)) | {word}
