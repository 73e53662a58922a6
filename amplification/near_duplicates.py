"""Near-duplicate texts by MinHash and LSH (datasketch): signatures and matching pairs.

Pure computation over texts and signatures it is handed; never reads or writes the store.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from config import Settings

_NOT_WORD = re.compile(r"[^\w]+")
# Stored signatures must stay comparable: the hashing scheme is named, never defaulted, and
# its hash values fit 32 bits.
SCHEME = "affine32"
SIGNATURE_DTYPE = np.uint32


@dataclass(frozen=True)
class Signed:
    """One item's signature with what matching needs: its feed and publication time."""

    item_id: int
    feed_id: int
    published_at: str
    hashvalues: np.ndarray


def normalised_text(text: str) -> str:
    """Lower case, punctuation dropped, whitespace collapsed: a quote keeps its words."""
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


class QuoteMatcher:
    """Signs texts and finds pairs whose estimated Jaccard similarity reaches the threshold."""

    def __init__(self, settings: Settings) -> None:
        self.num_perm = settings.quote_num_perm
        self.threshold = settings.quote_threshold
        self.shingle = settings.quote_shingle_chars
        self.min_chars = settings.quote_min_chars
        self._template = MinHash(num_perm=self.num_perm, seed=1, scheme=SCHEME)

    def signature(self, text: str) -> np.ndarray | None:
        """The MinHash of ``text``'s character shingles; None for a text too short to quote."""
        flat = normalised_text(text)
        if len(flat) < self.min_chars:
            return None
        shingles = {flat[start:start + self.shingle]
                    for start in range(len(flat) - self.shingle + 1)}
        minhash = MinHash(num_perm=self.num_perm, seed=1,
                          permutations=self._template.permutations, scheme=SCHEME)
        minhash.update_batch([shingle.encode("utf-8") for shingle in shingles])
        return minhash.hashvalues.astype(SIGNATURE_DTYPE)

    def _lean(self, values: np.ndarray) -> LeanMinHash:
        return LeanMinHash(seed=1, hashvalues=values.astype(np.uint64),
                           scheme=SCHEME)

    def matches(self, pool: Sequence[Signed], queries: Sequence[Signed]
                ) -> list[tuple[Signed, Signed, float]]:
        """(query, match, similarity) for every pool item from another feed that a query
        near-duplicates; the pool may hold the queries themselves."""
        lsh = MinHashLSH(threshold=self.threshold, num_perm=self.num_perm)
        hashes = {entry.item_id: self._lean(entry.hashvalues) for entry in pool}
        by_id = {entry.item_id: entry for entry in pool}
        for item_id, minhash in hashes.items():
            lsh.insert(item_id, minhash)
        found = []
        for query in queries:
            mine = hashes.get(query.item_id) or self._lean(query.hashvalues)
            for other_id in lsh.query(mine):
                other = by_id[other_id]
                if other.feed_id == query.feed_id:
                    continue
                similarity = float(mine.jaccard(hashes[other_id]))
                if similarity >= self.threshold:
                    found.append((query, other, similarity))
        return found


def signature_bytes(values: np.ndarray) -> bytes:
    return values.astype(SIGNATURE_DTYPE).tobytes()


def signature_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=SIGNATURE_DTYPE)
