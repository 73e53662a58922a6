"""Russian and Ukrainian words to their dictionary forms: razdel tokens, pymorphy3 lemmas.

"Генералов", "генералы" and "генерала" all become "генерал", so a word feature or a keyword
learned from one inflection matches the rest. Pure text work with dictionaries shipped inside
the pymorphy3 wheels; it never loads the encoder.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

_WORDLIKE = re.compile(r"\w", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _analyzer():  # -> pymorphy3.MorphAnalyzer; untyped library
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def lemma_of(word: str) -> str:
    """The most likely dictionary form of one lower-case word; non-Cyrillic words unchanged."""
    if not _CYRILLIC.search(word):
        return word
    with _LOCK:  # the analyser's caches are not documented as thread-safe
        parses = _analyzer().parse(word)
    return str(parses[0].normal_form) if parses else word


def word_tokens(text: str) -> list[str]:
    """Lower-case word tokens of ``text`` (razdel's tokenizer; punctuation dropped)."""
    from razdel import tokenize

    return [t.text.lower() for t in tokenize(text) if _WORDLIKE.search(t.text)]


def lemmatise(text: str) -> str:
    """The text as space-separated lemmas, for word n-gram features and keyword matching."""
    return " ".join(lemma_of(token) for token in word_tokens(text))
