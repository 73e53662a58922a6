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
from classifiers.names import Mention, canonical_name, find_mentions
from classifiers.phrases import text_lemmas
from store.targets import unlisted_target

TARGET_KINDS = ("PER", "ORG")  # places are not attacked parties


@dataclass(frozen=True)
class Occurrence:
    """A party named in a window: its target name and where it stands."""

    target: str
    entity: EntityInText


@dataclass
class TargetFinder:
    """The taxonomy's aliases plus NER, judged by ``head`` (None: every occurrence counts)."""

    compiled: CompiledTaxonomy
    head: EntityHead | None

    def attacked(
        self, windows: Sequence[str], embeddings: np.ndarray, critical: Sequence[bool]
    ) -> list[str]:
        """Targets attacked in the windows marked critical, in order of first occurrence."""
        occurrences: list[Occurrence] = []
        rows: list[int] = []
        for index, window in enumerate(windows):
            if critical[index]:
                found = self.occurrences(window)
                occurrences += found
                rows += [index] * len(found)
        if self.head is not None and occurrences:
            dense = embeddings[rows] if self.head.head.uses_embedding else None
            verdicts = self.head.attacked([o.entity for o in occurrences], dense)
            occurrences = [o for o, hit in zip(occurrences, verdicts, strict=True) if hit]
        return list(dict.fromkeys(o.target for o in occurrences))

    def occurrences(self, window: str) -> list[Occurrence]:
        """Every listed alias in the window, then every PER/ORG name that no alias covers."""
        listed = self._alias_occurrences(window)
        covered = [(o.entity.start, o.entity.stop) for o in listed]
        named = []
        for mention in find_mentions(window):
            if mention.kind not in TARGET_KINDS or _overlaps(mention, covered):
                continue
            target = self.compiled.target_of(mention.text)
            if target is None:
                target = unlisted_target(canonical_name(window, mention))
            named.append(Occurrence(target, EntityInText(window, mention.start, mention.stop)))
        return listed + named

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
