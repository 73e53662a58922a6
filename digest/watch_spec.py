"""Read a watch as an analyst types it (``/watch`` and ``riftwatch watch add``) into a rule,
refusing what cannot be run safely; and write a rule back as the same words.

``шойгу -учения stance:critical cooldown:1h``, ``re:<pattern>``, ``target:<name>``,
``channel:<name>``. Parses and checks only: RE2 compiles the pattern here so that a bad one is
refused when it is typed; nothing is stored or matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from classifiers.lemmas import word_tokens
from classifiers.phrases import PhraseMatcher, text_lemmas
from config.echo import quote_input
from config.errors import RiftwatchError
from config.themes import STANCE_NAMES, Taxonomy
from digest.compose import WindowError, parse_window
from store.targets import UNLISTED_PREFIX, target_display_name, unlisted_target
from store.watches import WatchRule

KIND_PREFIXES = {"re:": "regex", "target:": "target", "channel:": "channel"}
MAX_EXCLUDES = 10
MAX_PHRASE_WORDS = 8
RE2_MAX_MEMORY = 8 << 20  # bytes RE2 may spend on one compiled pattern; bigger ones are refused
CHANNEL_STANCES = ("critical",)  # a channel watch's stances unless it names its own
WATCH_HELP = ("/watch PHRASE | re:PATTERN | target:NAME | channel:NAME "
              "[-EXCLUDED ...] [stance:critical,alarmed] [cooldown:30m]")
# C0/C1 controls, DEL, bidi embeddings/overrides/isolates, lone surrogates
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


class WatchError(RiftwatchError):
    """A watch that cannot be added as typed; ``str()`` says why and what to type instead."""


@dataclass(frozen=True)
class WatchRequest:
    """A parsed watch: its rule, and its cooldown when one was typed (None: the default)."""

    rule: WatchRule
    cooldown: timedelta | None


def _refuse_controls(text: str) -> None:
    if _CONTROLS.search(text):
        raise WatchError("A watch cannot hold control or direction characters; type it plainly")


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Any:  # -> re2._Regexp; google-re2 ships no types
    """The RE2 program for a pattern, case-insensitive, compiled once per process; WatchError
    naming what RE2 refused (RE2 has no look-around and no back-references: that is what
    keeps it linear)."""
    import re2

    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = RE2_MAX_MEMORY
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(
            exc.args[0], bytes) else str(exc)
        raise WatchError(f"RE2 cannot run the pattern {quote_input(pattern)}: {reason}. RE2 has "
                         "no look-around or back-references") from None


def _same_name(first: str, second: str) -> bool:
    """Two names that are the same words by lemma ("Суровикина" and "Суровикин")."""
    a, b = text_lemmas(first), text_lemmas(second)
    return bool(a) and len(a) == len(b) and all(
        not x.isdisjoint(y) for x, y in zip(a, b, strict=True))


def resolve_target(name: str, taxonomy: Taxonomy) -> str:
    """A target as scores store it: a listed target by name, label or alias, else the
    ``unlisted:`` form of the name."""
    wanted = name[len(UNLISTED_PREFIX):] if name.lower().startswith(UNLISTED_PREFIX) else name
    whole = (0, len(text_lemmas(wanted)))
    for target in taxonomy.targets:
        if wanted.lower() in (target.name, target.label.lower()) or (
                whole in PhraseMatcher.of(target.aliases).spans(text_lemmas(wanted))):
            return target.name
    return unlisted_target(wanted)


def is_target(stored: str, watched: str) -> bool:
    """Whether a stored target of a score is the watched one (unlisted ones by lemma)."""
    if stored == watched:
        return True
    return stored.startswith(UNLISTED_PREFIX) and watched.startswith(UNLISTED_PREFIX) and \
        _same_name(target_display_name(stored), target_display_name(watched))


def _stances(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(name.strip().lower() for name in text.split(",") if name))
    unknown = [name for name in names if name not in STANCE_NAMES]
    if unknown or not names:
        raise WatchError(f"Unknown stance {quote_input(unknown[0] if unknown else text)}; "
                         f"use {', '.join(STANCE_NAMES)} (several with commas)")
    return names


def _cooldown(text: str) -> timedelta:
    if text.lower() in ("0", "off", "none"):
        return timedelta(0)
    try:
        return parse_window(text)
    except WindowError as exc:
        raise WatchError(f"cooldown: {exc}; cooldown:0 sends every match") from None


def _exclude(word: str) -> str:
    if not word_tokens(word):
        raise WatchError(f"Nothing to exclude in {quote_input('-' + word)}; "
                         "write -WORD, e.g. -учения")
    return word


@dataclass
class _Words:
    """The words of a watch sorted into subject words and options."""

    subject: list[str]
    excludes: list[str]
    stances: tuple[str, ...] = ()
    cooldown: timedelta | None = None


def _sort_words(words: list[str]) -> _Words:
    sorted_words = _Words([], [])
    for word in words:
        lower = word.lower()
        if lower.startswith("stance:"):
            sorted_words.stances = _stances(word[len("stance:"):])
        elif lower.startswith("cooldown:"):
            sorted_words.cooldown = _cooldown(word[len("cooldown:"):])
        elif word.startswith("-") and len(word) > 1 and sorted_words.subject:
            sorted_words.excludes.append(_exclude(word[1:]))
        else:
            sorted_words.subject.append(word)
    return sorted_words


def _kind_and_subject(subject: str) -> tuple[str, str]:
    for prefix, kind in KIND_PREFIXES.items():
        if subject.lower().startswith(prefix):
            return kind, subject[len(prefix):].strip()
    return "phrase", subject


def _check_subject(kind: str, subject: str) -> None:
    if not subject:
        raise WatchError(f"Nothing to watch. {WATCH_HELP}")
    if kind == "regex":
        compile_pattern(subject)
    elif kind == "phrase" and not 0 < len(word_tokens(subject)) <= MAX_PHRASE_WORDS:
        raise WatchError(f"A phrase watch needs 1 to {MAX_PHRASE_WORDS} words; "
                         "for anything else use re:PATTERN")


def parse_watch(text: str, taxonomy: Taxonomy, max_chars: int) -> WatchRequest:
    """A watch as typed → its rule (a target resolved, a pattern compiled) and cooldown.

    Refuses, with WatchError, text over ``max_chars`` or holding control characters, a
    pattern RE2 cannot run, unknown stances and more than ``MAX_EXCLUDES`` exclusions. A
    ``channel:`` name is kept as typed: the caller resolves it against the stored feeds.
    """
    if len(text) > max_chars:
        raise WatchError(f"A watch is at most {max_chars} characters; this one has {len(text)}")
    _refuse_controls(text)
    words = _sort_words(text.split())
    if len(words.excludes) > MAX_EXCLUDES:
        raise WatchError(f"At most {MAX_EXCLUDES} exclusions per watch")
    kind, subject = _kind_and_subject(" ".join(words.subject))
    _check_subject(kind, subject)
    if kind == "target":
        subject = resolve_target(subject, taxonomy)
    stances = words.stances or (CHANNEL_STANCES if kind == "channel" else ())
    return WatchRequest(WatchRule(kind, subject, tuple(dict.fromkeys(words.excludes)), stances),
                        words.cooldown)


def describe_rule(rule: WatchRule) -> str:
    """The rule as the words that would add it again (``/watches``, ``watch list``)."""
    prefix = {"regex": "re:", "target": "target:", "channel": "channel:"}.get(rule.kind, "")
    words = [f"{prefix}{rule.subject}", *(f"-{word}" for word in rule.excludes)]
    if rule.stances and not (rule.kind == "channel" and rule.stances == CHANNEL_STANCES):
        words.append(f"stance:{','.join(rule.stances)}")
    return " ".join(words)
