"""Name groups of posts by their distinctive lemmas: class-based TF-IDF (as BERTopic names its
topics) over the posts' content words, lemmatised as the theme keywords are.

Pure text work over the texts it is handed; never reads the store or the encoder.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from classifiers.lemmas import has_cyrillic, morph_parses, word_tokens

# pymorphy3 parts of speech that carry a subject: nouns, adjectives, verbs and their forms
CONTENT_POS = frozenset({"NOUN", "ADJF", "ADJS", "COMP", "VERB", "INFN", "PRTF", "PRTS", "GRND"})
SHORTEST_LEMMA = 3  # characters; shorter words name nothing


@lru_cache(maxsize=200_000)
def content_lemma(word: str) -> str | None:
    """A lower-case word's likeliest dictionary form when it is a content word (pronoun-like
    adjectives such as "который" are not), a Latin word of letters as it is; else None."""
    if len(word) < SHORTEST_LEMMA or not word.isalpha():
        return None
    if not has_cyrillic(word):
        return word
    parses = morph_parses(word)
    if not parses or parses[0].tag.POS not in CONTENT_POS or "Apro" in parses[0].tag:
        return None
    lemma = str(parses[0].normal_form)
    return lemma if len(lemma) >= SHORTEST_LEMMA else None


def post_lemmas(text: str) -> frozenset[str]:
    """The distinct content lemmas of one post."""
    return frozenset(lemma for word in word_tokens(text)
                     if (lemma := content_lemma(word)) is not None)


def distinctive_lemmas(groups: Sequence[Sequence[str]], rest: Sequence[str], top: int
                       ) -> list[list[str]]:
    """Each group's ``top`` lemmas by class-based TF-IDF, most distinctive first.

    Every group is one class and ``rest`` (the other posts of the window) one more, so a word
    every post uses ranks low. A post counts a lemma once: tf is the share of the class's posts
    carrying it, and the weight is tf × log(1 + A / f), A the mean number of posts per class
    and f the posts of all classes carrying the lemma. Ties go to the alphabetically first.
    """
    classes = [[post_lemmas(text) for text in group] for group in groups]
    classes.append([post_lemmas(text) for text in rest])
    carrying: Counter[str] = Counter(lemma for posts in classes for lemmas in posts
                                     for lemma in lemmas)
    mean_posts = sum(len(posts) for posts in classes) / len(classes)
    names = []
    for posts in classes[:-1]:
        counts: Counter[str] = Counter(lemma for lemmas in posts for lemma in lemmas)
        weight = {lemma: count / len(posts) * math.log(1 + mean_posts / carrying[lemma])
                  for lemma, count in counts.items()}
        names.append(sorted(weight, key=lambda lemma: (-weight[lemma], lemma))[:top])
    return names
