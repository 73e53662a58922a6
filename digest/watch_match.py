"""Which watches a post matches, and the sentence that shows it: lemma phrases (every inflection),
RE2 patterns (linear time), attacked targets and a channel's posts of a stance, each with its
exclusions and stance filter.

Pure: rules and posts in, matches out; never reads the store or sends anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from classifiers.phrases import PhraseMatcher, TextLemmas, text_lemmas
from classifiers.text import iter_sentences
from config.themes import Taxonomy
from digest.model import trim_quote
from digest.watch_spec import WatchError, compile_pattern, is_target
from store.targets import is_unlisted, target_display_name
from store.watches import WatchedPost, WatchRule

log = logging.getLogger(__name__)

EVIDENCE_CHARS = 300  # of the sentence an alert quotes
REGEX_CONTEXT_CHARS = 120  # either side of a match that spans no one sentence


@dataclass(frozen=True)
class _Compiled:
    """One rule, ready: its key (a watch id), its text test and its exclusions."""

    key: int
    rule: WatchRule
    excludes: PhraseMatcher | None
    found_in: Callable[[str], bool]  # does a sentence (or a whole text) show the match


class WatchMatcher:
    """Rules compiled once and matched against many posts. Phrase rules are indexed by the
    lemmas of their first word, so a post costs a lookup per distinct lemma, not a scan of
    every phrase; patterns, targets and channels are tested one by one.

    ``max_text_chars`` is how much of a post is lemmatised (the classifier's own cap);
    patterns run over the whole text: RE2's time is linear in it.
    """

    def __init__(self, rules: Iterable[tuple[int, WatchRule]], taxonomy: Taxonomy,
                 max_text_chars: int) -> None:
        self.max_text_chars = max_text_chars
        self._aliases = {t.name: PhraseMatcher.of(t.aliases) for t in taxonomy.targets}
        self._phrases: dict[str, list[_Compiled]] = {}  # by the lemmas of the first word
        self._others: list[_Compiled] = []
        for key, rule in rules:
            try:
                self._add(key, rule)
            except WatchError as exc:  # stored before a change of RE2 or of the taxonomy
                log.warning("watch %s cannot run and is skipped: %s", key, exc)

    def _add(self, key: int, rule: WatchRule) -> None:
        excludes = PhraseMatcher.of(rule.excludes) if rule.excludes else None
        if rule.kind == "phrase":
            phrase = PhraseMatcher.of([rule.subject])
            compiled = _Compiled(key, rule, excludes, lambda s: phrase.found(text_lemmas(s)))
            for lemma in phrase.phrases[0][0] if phrase.phrases else ():
                self._phrases.setdefault(lemma, []).append(compiled)
            return
        self._others.append(_Compiled(key, rule, excludes, self._sentence_test(rule)))

    def _sentence_test(self, rule: WatchRule) -> Callable[[str], bool]:
        if rule.kind == "regex":
            pattern = compile_pattern(rule.subject)
            return lambda sentence: pattern.search(sentence) is not None
        if rule.kind == "target":
            names = (self._aliases.get(rule.subject) if not is_unlisted(rule.subject)
                     else PhraseMatcher.of([target_display_name(rule.subject)]))
            if names is None:  # a listed target the taxonomy no longer has
                return lambda sentence: False
            return lambda sentence: names.found(text_lemmas(sentence))
        return lambda sentence: True  # a channel's post shows itself: its evidence sentence

    def matches(self, post: WatchedPost) -> list[tuple[int, str]]:
        """(key, evidence sentence) of every rule the post matches, in the order added."""
        head = post.text[: self.max_text_chars]
        lemmas = text_lemmas(head)
        found = [c for c in self._phrase_candidates(lemmas) if c.found_in(head)]
        found += [c for c in self._others if self._passes(c, post)]
        found = [c for c in found if _stance_ok(c.rule, post)
                 and not (c.excludes is not None and c.excludes.found(lemmas))]
        return [(c.key, self._evidence(c, post, head)) for c in sorted(found, key=_key)]

    def _phrase_candidates(self, lemmas: TextLemmas) -> list[_Compiled]:
        seen: dict[int, _Compiled] = {}
        for lemma in set().union(*lemmas) if lemmas else ():
            for compiled in self._phrases.get(lemma, ()):
                seen.setdefault(id(compiled), compiled)
        return list(seen.values())

    def _passes(self, compiled: _Compiled, post: WatchedPost) -> bool:
        rule = compiled.rule
        if rule.kind == "regex":
            return compiled.found_in(post.text)
        if rule.kind == "target":
            return any(is_target(stored, rule.subject) for stored in post.targets)
        return post.feed.lower() == rule.subject.lower()

    def _evidence(self, compiled: _Compiled, post: WatchedPost, head: str) -> str:
        """The first sentence that shows the match; the classifier's evidence sentence when
        it shows it (a target, a channel); else the nearest text."""
        model_says = post.evidence or ""
        if compiled.rule.kind in ("target", "channel") and model_says and \
                compiled.found_in(model_says):
            return trim_quote(model_says, EVIDENCE_CHARS)
        sentence = next((s for s in iter_sentences(head) if compiled.found_in(s)), None)
        if sentence is not None:
            return trim_quote(sentence, EVIDENCE_CHARS)
        if compiled.rule.kind == "regex":
            return _around_match(compiled.rule.subject, post.text)
        return trim_quote(model_says or head, EVIDENCE_CHARS)


def _key(compiled: _Compiled) -> int:
    return compiled.key


def _stance_ok(rule: WatchRule, post: WatchedPost) -> bool:
    return not rule.stances or post.stance in rule.stances


def _around_match(pattern: str, text: str) -> str:
    """The text around a pattern's first match, when the match spans sentences."""
    found: Any = compile_pattern(pattern).search(text)
    start, stop = found.span() if found else (0, 0)
    window = text[max(start - REGEX_CONTEXT_CHARS, 0): stop + REGEX_CONTEXT_CHARS]
    return trim_quote(" ".join(window.split()), EVIDENCE_CHARS)


def match_posts(rules: Sequence[tuple[int, WatchRule]], posts: Iterable[WatchedPost],
                taxonomy: Taxonomy, max_text_chars: int
                ) -> Iterable[tuple[WatchedPost, int, str]]:
    """(post, key, evidence) for every rule each post matches, post by post."""
    matcher = WatchMatcher(rules, taxonomy, max_text_chars)
    for post in posts:
        for key, evidence in matcher.matches(post):
            yield post, key, evidence
