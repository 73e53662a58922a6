"""Named people, organisations and places in text (natasha: slovnet NER over navec embeddings,
both shipped inside the wheels, loaded once on first use), and their canonical names: the
nominative surname of a person, the nominative name of an organisation.

Finds and names; never judges whether a name is attacked and never loads the encoder.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from classifiers.lemmas import has_cyrillic, lemma_of, morph_parses

MENTION_KINDS = ("PER", "ORG", "LOC")
UD_CASES = {"Nom": "nomn", "Gen": "gent", "Dat": "datv", "Acc": "accs", "Ins": "ablt",
            "Loc": "loct"}
NAME_GRAMMEMES = {"Surn", "Name", "Patr"}
# Oblique endings of Russian -ов/-ев/-ин surnames pymorphy3 does not know ("Суровикина"),
# by gender: ending → what replaces it in the nominative.
SURNAME_ENDINGS = {
    "Masc": (("ыми", ""), ("ым", ""), ("ому", ""), ("ого", ""), ("а", ""), ("у", ""),
             ("е", "")),
    "Fem": (("ой", "а"), ("у", "а")),
}
SURNAME_STEMS = ("ов", "ев", "ёв", "ин", "ын")
_NER_LOCK = threading.Lock()


@dataclass(frozen=True)
class Mention:
    """One name as written: its kind (PER, ORG, LOC) and character span in the text."""

    kind: str
    text: str
    start: int
    stop: int


@dataclass
class _Natasha:
    ner: Any
    morph: Any


@lru_cache(maxsize=1)
def _natasha() -> _Natasha:
    """natasha's NER and morphology taggers over the navec embedding shipped in the wheel
    (~30 MB; no network)."""
    from natasha import NewsEmbedding, NewsMorphTagger, NewsNERTagger

    embedding = NewsEmbedding()
    return _Natasha(NewsNERTagger(embedding), NewsMorphTagger(embedding))


def find_mentions_each(texts: Sequence[str]) -> list[list[Mention]]:
    """Every PER/ORG/LOC name slovnet finds in each text, in order; the texts go through the
    tagger as one batch (about 12x faster per window than one call each)."""
    cyrillic = [i for i, text in enumerate(texts) if has_cyrillic(text)]
    found: list[list[Mention]] = [[] for _ in texts]
    if cyrillic:
        with _NER_LOCK:
            markups = list(_natasha().ner.map([texts[i] for i in cyrillic]))
        for i, markup in zip(cyrillic, markups, strict=True):
            found[i] = [Mention(span.type, texts[i][span.start:span.stop], span.start, span.stop)
                        for span in markup.spans if span.type in MENTION_KINDS]
    return found


def canonical_names(named: Sequence[tuple[str, Mention]]) -> list[str]:
    """Each (text, mention)'s canonical form: a person's surname (the last word of the name) in
    the nominative, or an organisation's or place's name with its head noun and the adjectives
    before it in the nominative ("Министерства обороны" → "Министерство обороны").

    The case and gender of each word come from slovnet's morphology tagger reading the sentence
    around the mention (every sentence needed, tagged once in one batch); the nominative from
    pymorphy3, or from the surname endings table for surnames it does not know."""
    sentences = [_sentence_of(text, mention) for text, mention in named]
    unique = list(dict.fromkeys(sentence for sentence in sentences if sentence is not None))
    tagged = dict(zip(unique, _tag_sentences(unique), strict=True))
    return [
        _canonical(mention, _words_inside(sentence, tagged[sentence], mention)
                   if sentence is not None else [])
        for (_, mention), sentence in zip(named, sentences, strict=True)
    ]


def _canonical(mention: Mention, tokens: list[tuple[str, str, dict[str, str]]]) -> str:
    if not tokens:
        return mention.text
    if mention.kind == "PER":
        return _shape(tokens[-1][0], _person_word(*tokens[-1]))
    words = []
    inflecting = True
    for word, pos, feats in tokens:
        nominative = _nominative(word, feats) or lemma_of(word.lower())
        words.append(_shape(word, nominative if inflecting else word.lower()))
        inflecting = inflecting and pos not in ("NOUN", "PROPN")
    return " ".join(words)


@dataclass(frozen=True)
class _Sentence:
    """A razdel sentence: where it starts in the text, and its tokens (text, start)."""

    start: int
    tokens: tuple[tuple[str, int], ...]


def _sentence_of(text: str, mention: Mention) -> _Sentence | None:
    from razdel import sentenize, tokenize

    for sentence in sentenize(text):
        if sentence.start <= mention.start < sentence.stop:
            tokens = tuple((token.text, token.start) for token in tokenize(sentence.text))
            return _Sentence(sentence.start, tokens)
    return None


def _tag_sentences(sentences: Sequence[_Sentence]) -> list[list[tuple[str, dict[str, str]]]]:
    """(UD part of speech, UD features) of every token of each sentence, in one batch."""
    if not sentences:
        return []
    with _NER_LOCK:
        markups = list(_natasha().morph.map([[text for text, _ in s.tokens] for s in sentences]))
    return [[(tagged.pos, dict(tagged.feats)) for tagged in markup.tokens] for markup in markups]


def _words_inside(
    sentence: _Sentence, tags: list[tuple[str, dict[str, str]]], mention: Mention
) -> list[tuple[str, str, dict[str, str]]]:
    """(word, UD part of speech, UD features) of each word inside the mention."""
    inside = mention.start - sentence.start, mention.stop - sentence.start
    return [(text, pos, feats)
            for (text, start), (pos, feats) in zip(sentence.tokens, tags, strict=True)
            if inside[0] <= start < inside[1] and pos != "PUNCT"]


def _person_word(word: str, pos: str, feats: dict[str, str]) -> str:
    """One word of a person's name in the nominative, keeping the gender the tagger read."""
    case = feats.get("Case", "Nom")
    if case == "Nom" or not has_cyrillic(word):
        return word.lower()
    known = _nominative(word, feats, NAME_GRAMMEMES)
    return known or _surname_nominative(word.lower(), feats.get("Gender", "Masc"))


def _surname_nominative(word: str, gender: str) -> str:
    for ending, replacement in SURNAME_ENDINGS.get(gender, SURNAME_ENDINGS["Masc"]):
        stem = word[: -len(ending)]
        if word.endswith(ending) and stem.endswith(SURNAME_STEMS):
            return stem + replacement
    return word


def _nominative(word: str, feats: dict[str, str], grammemes: set[str] | None = None) -> str:
    """``word`` in the nominative (same number and gender) by the pymorphy3 reading that agrees
    with the tagger's case and gender (and has one of ``grammemes``, when given); "" when no
    reading agrees."""
    lowered = word.lower()
    case = UD_CASES.get(feats.get("Case", ""))
    if case in (None, "nomn") or not has_cyrillic(word):
        return lowered
    for parse in morph_parses(lowered):
        if case not in parse.tag or not _gender_agrees(parse.tag, feats.get("Gender")):
            continue
        if grammemes is not None and not grammemes & set(parse.tag.grammemes):
            continue
        inflected = parse.inflect({"nomn"})
        if inflected is not None:
            return str(inflected.word)
    return ""


def _gender_agrees(tag: Any, gender: str | None) -> bool:
    wanted = {"Masc": "masc", "Fem": "femn", "Neut": "neut"}.get(gender or "")
    return wanted is None or tag.gender in (None, wanted) or "ms-f" in tag


def _shape(original: str, word: str) -> str:
    """``word`` with the letter case of ``original``: "МИНОБОРОНЫ" stays upper case, a
    capitalised word stays capitalised."""
    if original.isupper() and len(original) > 1:
        return word.upper()
    if original[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
