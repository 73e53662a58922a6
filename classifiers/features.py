"""What a head reads of a post, and the heads' probabilities over it: the runtime half of the
protocol that every scored post goes through. Builds features from texts it is handed; never
loads the encoder, never trains (``classifiers.training.protocol`` does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from classifiers.heads import CalibratedHead, block_matrix, sigmoid
from classifiers.lemmas import lemmatise
from classifiers.text import clean_text


@dataclass
class PostFeatures:
    """Per post: cleaned text (char n-grams), lemmas (word n-grams), pooled embedding or None."""

    cleaned: list[str]
    lemmas: list[str]
    dense: np.ndarray | None

    @classmethod
    def of(cls, texts: Sequence[str], dense: np.ndarray | None, with_lemmas: bool = True
           ) -> PostFeatures:
        """Cleaned text and (unless a head needs none) lemmas of each text, beside its pooled
        embedding (or None)."""
        cleaned = [clean_text(text) for text in texts]
        return cls(cleaned, [lemmatise(text) for text in cleaned] if with_lemmas else [], dense)

    def plus(self, other: PostFeatures) -> PostFeatures:
        """These posts followed by ``other``'s."""
        dense = None
        if self.dense is not None and other.dense is not None:
            dense = np.vstack([self.dense, other.dense])
        return PostFeatures(self.cleaned + other.cleaned, self.lemmas + other.lemmas, dense)

    def take(self, index: np.ndarray) -> PostFeatures:
        return PostFeatures(
            [self.cleaned[i] for i in index],
            [self.lemmas[i] for i in index] if self.lemmas else [],
            None if self.dense is None else self.dense[index],
        )

    def texts_for(self, block: str) -> list[str]:
        if block == "char":
            return self.cleaned
        if len(self.lemmas) != len(self.cleaned):
            raise ValueError("these features were built without lemmas")
        return self.lemmas


def head_probabilities(heads: Mapping[str, CalibratedHead], inputs: PostFeatures
                       ) -> dict[str, np.ndarray]:
    """Each head's calibrated probabilities; heads that share vectorisers (one training run)
    share each block's transform."""
    import scipy.sparse as sp

    matrices: dict[tuple[str, int], Any] = {}
    out = {}
    for name, head in heads.items():
        parts = []
        for block in head.blocks:
            key = (block, id(head.vectorizers.get(block)))
            if key not in matrices:
                matrices[key] = block_matrix(block, head.vectorizers, inputs)
            parts.append(matrices[key])
        logit = head.linear.decision(sp.hstack(parts).tocsr())
        out[name] = sigmoid(head.platt[0] * logit + head.platt[1])
    return out
