"""Config phrases (theme keywords, target aliases) matched by lemma: "Герасимов" in config finds
"Герасимова", "Герасимову"; "министерство обороны" finds "министерства обороны".

A text is lemmatised once (cached per text) into a sequence of tokens, each with every lemma
pymorphy3 allows for it; a phrase matches where its words' lemmas follow one another. Pure text
work on ``classifiers.lemmas``; never scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from classifiers.lemmas import lemmas_of, word_tokens

TextLemmas = tuple[frozenset[str], ...]  # per token: every lemma it may stand for


def _plain(word: str) -> str:
    """Lower case with ё as е, so "жёстче" in a post matches "жестче" in config."""
    return word.lower().replace("ё", "е")


@lru_cache(maxsize=100_000)
def lemma_options(token: str) -> frozenset[str]:
    """Every dictionary form pymorphy3 allows for one lower-case token (and, for a hyphenated
    token such as "тикток-войска", for each part)."""
    parts = {token, *token.split("-")} - {""}
    return frozenset(_plain(lemma) for part in parts for lemma in lemmas_of(part))


@lru_cache(maxsize=4096)
def text_lemmas(text: str) -> TextLemmas:
    """The text's tokens as lemma sets, computed once per distinct text (a post, a window or
    a sentence is lemmatised once however many phrase lists look at it)."""
    return tuple(lemma_options(token) for token in word_tokens(text))


def phrase_lemmas(phrase: str) -> TextLemmas:
    """A config phrase as a sequence of lemma sets, like a text: a word matches a token when
    they share a lemma ("Пригожин" may be read as the surname or as the noun "пригожина";
    either reading of the config word meets either reading of the post's)."""
    return text_lemmas(phrase)


@dataclass(frozen=True)
class PhraseMatcher:
    """A list of config phrases, matched against a text's lemma sequence; phrases are indexed
    by the lemmas of their first word, so a token costs one set lookup per lemma."""

    phrases: tuple[TextLemmas, ...]
    by_first: dict[str, tuple[TextLemmas, ...]]

    @classmethod
    def of(cls, phrases: Sequence[str]) -> PhraseMatcher:
        compiled = tuple(dict.fromkeys(p for p in map(phrase_lemmas, phrases) if p))
        index: dict[str, list[TextLemmas]] = {}
        for phrase in compiled:
            for lemma in phrase[0]:
                index.setdefault(lemma, []).append(phrase)
        return cls(compiled, {lemma: tuple(found) for lemma, found in index.items()})

    def count(self, lemmas: TextLemmas) -> int:
        """How many places in the text start a phrase of this list."""
        return len(self.spans(lemmas))

    def found(self, lemmas: TextLemmas) -> bool:
        return any(self._longest_at(lemmas, start) for start in range(len(lemmas)))

    def spans(self, lemmas: TextLemmas) -> list[tuple[int, int]]:
        """(first token, end token) of every phrase occurrence, the longest phrase per start."""
        found = []
        for start in range(len(lemmas)):
            length = self._longest_at(lemmas, start)
            if length:
                found.append((start, start + length))
        return found

    def _longest_at(self, lemmas: TextLemmas, start: int) -> int:
        """The length of the longest phrase starting at ``start`` (0: none)."""
        longest = 0
        for lemma in lemmas[start]:
            for phrase in self.by_first.get(lemma, ()):
                if len(phrase) > longest and _matches(lemmas, start, phrase):
                    longest = len(phrase)
        return longest


def _matches(lemmas: TextLemmas, start: int, phrase: TextLemmas) -> bool:
    if start + len(phrase) > len(lemmas):
        return False
    return all(not word.isdisjoint(lemmas[start + i]) for i, word in enumerate(phrase))
