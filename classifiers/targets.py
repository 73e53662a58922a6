"""Who a post attacks: the listed targets' aliases and the names natasha finds in its critical
windows, each occurrence judged by the entity head; names not in the target list come back as
``unlisted:<canonical name>``.

Works on windows, their embeddings and critical decisions handed in; never loads the encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from classifiers.entity_head import EntityHead, EntityInText
from classifiers.heads import CompiledTaxonomy
from classifiers.lemmas import word_spans
from classifiers.names import Mention, canonical_names, find_mentions_each
from classifiers.phrases import text_lemmas
from store.targets import unlisted_target

TARGET_KINDS = ("PER", "ORG")  # places are not attacked parties


@dataclass(frozen=True)
class Occurrence:
    """A party named in a window: its target name and where it stands."""

    target: str
    entity: EntityInText


@dataclass(frozen=True)
class PostWindowsToJudge:
    """One post's windows, their embeddings, and which windows are critical."""

    texts: Sequence[str]
    embeddings: np.ndarray
    critical: Sequence[bool]


@dataclass
class TargetFinder:
    """The taxonomy's aliases plus NER, judged by ``head`` (None: every occurrence counts)."""

    compiled: CompiledTaxonomy
    head: EntityHead | None

    def attacked_each(self, posts: Sequence[PostWindowsToJudge]) -> list[list[str]]:
        """Per post: targets attacked in its windows marked critical, in order of first
        occurrence. Every post's critical windows go through NER, the morphology tagger and
        the entity head together, one batch each."""
        windows = [(p, i) for p, post in enumerate(posts)
                   for i, critical in enumerate(post.critical) if critical]
        found = self.occurrences_each([posts[p].texts[i] for p, i in windows])
        flat = [(p, i, o) for (p, i), occurrences in zip(windows, found, strict=True)
                for o in occurrences]
        if self.head is not None and flat:
            dense = (np.stack([posts[p].embeddings[i] for p, i, _ in flat])
                     if self.head.head.uses_embedding else None)
            verdicts = self.head.attacked([o.entity for _, _, o in flat], dense)
            flat = [row for row, hit in zip(flat, verdicts, strict=True) if hit]
        targets: list[list[str]] = [[] for _ in posts]
        for p, _, occurrence in flat:
            targets[p].append(occurrence.target)
        return [list(dict.fromkeys(names)) for names in targets]

    def occurrences_each(self, windows: Sequence[str]) -> list[list[Occurrence]]:
        """Per window: every listed alias, then every PER/ORG name that no alias covers."""
        listed = [self._alias_occurrences(window) for window in windows]
        unnamed: list[tuple[int, Mention]] = []
        named: list[list[Occurrence]] = [[] for _ in windows]
        for w, mentions in enumerate(find_mentions_each(windows)):
            covered = [(o.entity.start, o.entity.stop) for o in listed[w]]
            for mention in mentions:
                if mention.kind in TARGET_KINDS and not _overlaps(mention, covered):
                    unnamed.append((w, mention))
        listed_as = [self.compiled.target_of(mention.text) for _, mention in unnamed]
        canonical = iter(canonical_names([(windows[w], mention) for (w, mention), target
                                          in zip(unnamed, listed_as, strict=True)
                                          if target is None]))
        for (w, mention), target in zip(unnamed, listed_as, strict=True):
            name = target or unlisted_target(next(canonical))
            named[w].append(Occurrence(name, EntityInText(windows[w], mention.start,
                                                          mention.stop)))
        return [a + b for a, b in zip(listed, named, strict=True)]

    def _alias_occurrences(self, window: str) -> list[Occurrence]:
        lemmas = text_lemmas(window)
        if not lemmas:
            return []
        words = word_spans(window)
        return [
            Occurrence(target.name, EntityInText(window, words[first][0], words[end - 1][1]))
            for target, matcher in zip(self.compiled.targets, self.compiled.target_aliases,
                                       strict=True)
            for first, end in matcher.spans(lemmas)
        ]


def _overlaps(mention: Mention, spans: list[tuple[int, int]]) -> bool:
    return any(mention.start < stop and start < mention.stop for start, stop in spans)
