"""Window embeddings kept on disk between training and evaluation runs, by encoder and text.

Training and ``riftwatch eval`` embed the same few thousand annotated posts again and again;
this wraps an encoder so each window is embedded once per model and precision. Keys are text
hashes (no text is written). Never used by the scoring pipeline, which embeds each post once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from classifiers.encoder import Encoder, Kind

logger = logging.getLogger(__name__)


class CachedEncoder:
    """``encoder.embed`` with a per-window on-disk cache under ``folder``."""

    def __init__(self, encoder: Encoder, folder: Path) -> None:
        self.encoder = encoder
        self.fingerprint, self.name, self.dim = encoder.fingerprint, encoder.name, encoder.dim
        self.path = Path(folder) / f"{encoder.fingerprint}-{encoder.name}-{encoder.precision}-" \
                                    f"{encoder.max_tokens}.npz"
        self.vectors: dict[str, np.ndarray] = {}
        if self.path.is_file():
            with np.load(self.path, allow_pickle=False) as data:
                self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def embed(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        """Like ``Encoder.embed``; windows seen before come from the cache."""
        keys = [_key(kind, text) for text in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self.vectors))
        if missing:
            wanted = {key: text for key, text in zip(keys, texts, strict=True)
                      if key in set(missing)}
            fresh = self.encoder.embed([wanted[key] for key in missing], kind=kind)
            self.vectors.update(zip(missing, fresh, strict=True))
            self._save()
            logger.info("embedded %d new windows (%d cached)", len(missing), len(self.vectors))
        if not keys:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.stack([self.vectors[key] for key in keys]).astype(np.float32)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self.vectors), dtype=str)
        partial = self.path.with_suffix(".partial.npz")
        np.savez(partial, keys=keys, vectors=np.stack(list(self.vectors.values())))
        partial.replace(self.path)


def _key(kind: str, text: str) -> str:
    return hashlib.sha1(f"{kind}\0{text}".encode()).hexdigest()
