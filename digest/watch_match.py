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
class _Test:
    """What one (kind, subject) looks for, shared by every rule that names it (a hundred chats
    watching "генерал" cost one test per post): ``shows`` says whether a sentence shows it."""

    kind: str
    subject: str
    shows: Callable[[str], bool]
    phrase: PhraseMatcher | None = None


@dataclass(frozen=True)
class _Compiled:
    """One rule, ready: its key (a watch id), its test and its filters."""

    key: int
    rule: WatchRule
    test: _Test
    excludes: PhraseMatcher | None
    exclude_starts: frozenset[str] = frozenset()  # lemmas an exclusion's first word may have


class WatchMatcher:
    """Rules compiled once and matched against many posts. Rules with the same kind and
    subject share one test; phrase tests are indexed by the lemmas of their first word, so a
    post costs a lookup per distinct lemma, not a scan of every phrase; pattern, target and
    channel tests run one by one. A post's sentences are split once, only when a test hits.

    ``max_text_chars`` is how much of a post is lemmatised (the classifier's own cap);
    patterns run over the whole text: RE2's time is linear in it.
    """

    def __init__(self, rules: Iterable[tuple[int, WatchRule]], taxonomy: Taxonomy,
                 max_text_chars: int) -> None:
        self.max_text_chars = max_text_chars
        self._aliases = {t.name: PhraseMatcher.of(t.aliases) for t in taxonomy.targets}
        self._tests: dict[tuple[str, str], _Test] = {}
        self._rules: dict[tuple[str, str], list[_Compiled]] = {}
        self._phrases: dict[str, list[_Test]] = {}  # by the lemmas of the first word
        for key, rule in rules:
            try:
                test = self._test(rule)
            except WatchError as exc:  # stored before a change of RE2 or of the taxonomy
                log.warning("watch %s cannot run and is skipped: %s", key, exc)
                continue
            excludes = PhraseMatcher.of(rule.excludes) if rule.excludes else None
            starts = frozenset(excludes.by_first) if excludes is not None else frozenset()
            self._rules.setdefault((rule.kind, rule.subject), []).append(
                _Compiled(key, rule, test, excludes, starts))

    def _test(self, rule: WatchRule) -> _Test:
        """The shared test for the rule's kind and subject, made on first use."""
        known = self._tests.get((rule.kind, rule.subject))
        if known is None:
            known = self._tests[(rule.kind, rule.subject)] = self._new_test(rule)
            if known.phrase is not None:
                for lemma in known.phrase.phrases[0][0] if known.phrase.phrases else ():
                    self._phrases.setdefault(lemma, []).append(known)
        return known

    def _new_test(self, rule: WatchRule) -> _Test:
        if rule.kind == "phrase":
            phrase = PhraseMatcher.of([rule.subject])
            return _Test(rule.kind, rule.subject, lambda s: phrase.found(text_lemmas(s)), phrase)
        if rule.kind == "regex":
            pattern = compile_pattern(rule.subject)
            return _Test(rule.kind, rule.subject, lambda s: pattern.search(s) is not None)
        if rule.kind == "target":
            names = (self._aliases.get(rule.subject) if not is_unlisted(rule.subject)
                     else PhraseMatcher.of([target_display_name(rule.subject)]))
            if names is None:  # a listed target the taxonomy no longer has
                return _Test(rule.kind, rule.subject, lambda s: False)
            return _Test(rule.kind, rule.subject, lambda s: names.found(text_lemmas(s)))
        return _Test(rule.kind, rule.subject, lambda s: True)  # a channel: its evidence

    def matches(self, post: WatchedPost) -> list[tuple[int, str]]:
        """(key, evidence sentence) of every rule the post matches, by key."""
        head = post.text[: self.max_text_chars]
        lemmas = text_lemmas(head)
        vocabulary: frozenset[str] = frozenset().union(*lemmas)
        hits = [t for t in self._phrase_candidates(vocabulary)
                if t.phrase and t.phrase.found(lemmas)]
        hits += [t for t in self._tests.values() if t.phrase is None and _hit(t, post)]
        found: list[tuple[int, str]] = []
        sentences: list[str] | None = None
        excluded: dict[tuple[str, ...], bool] = {}
        for test in hits:
            rules = [c for c in self._rules[(test.kind, test.subject)] if _stance_ok(c.rule, post)
                     and not _excluded(c, lemmas, vocabulary, excluded)]
            if rules:
                sentences = list(iter_sentences(head)) if sentences is None else sentences
                evidence = _evidence(test, post, sentences, head)
                found += [(c.key, evidence) for c in rules]
        return sorted(found)

    def _phrase_candidates(self, vocabulary: frozenset[str]) -> list[_Test]:
        seen: dict[int, _Test] = {}
        for lemma in vocabulary:
            for test in self._phrases.get(lemma, ()):
                seen.setdefault(id(test), test)
        return list(seen.values())


def _hit(test: _Test, post: WatchedPost) -> bool:
    """Whether a pattern, target or channel test holds for the post (phrases are indexed)."""
    if test.kind == "regex":
        return test.shows(post.text)
    if test.kind == "target":
        return any(is_target(stored, test.subject) for stored in post.targets)
    return post.feed.lower() == test.subject.lower()


def _excluded(compiled: _Compiled, lemmas: TextLemmas, vocabulary: frozenset[str],
              known: dict[tuple[str, ...], bool]) -> bool:
    """Whether the post names one of the rule's exclusions: none can when no exclusion's
    first word is among the post's lemmas; else each set is looked for once a post."""
    if compiled.excludes is None or compiled.exclude_starts.isdisjoint(vocabulary):
        return False
    words = compiled.rule.excludes
    if words not in known:
        known[words] = compiled.excludes.found(lemmas)
    return known[words]


def _evidence(test: _Test, post: WatchedPost, sentences: list[str], head: str) -> str:
    """The first sentence that shows the match; the classifier's evidence sentence when it
    shows it (a target, a channel); else the nearest text."""
    model_says = post.evidence or ""
    if test.kind in ("target", "channel") and model_says and test.shows(model_says):
        return trim_quote(model_says, EVIDENCE_CHARS)
    sentence = next((s for s in sentences if test.shows(s)), None)
    if sentence is not None:
        return trim_quote(sentence, EVIDENCE_CHARS)
    if test.kind == "regex":
        return _around_match(test.subject, post.text)
    return trim_quote(model_says or head, EVIDENCE_CHARS)


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
