"""Whether a named entity is attacked by the text around it: a calibrated logistic regression
over [the window's e5 embedding ‖ TF-IDF of the words around the entity], trained on RuSentNE
(sentiment -1 toward the entity) under ``classifiers.training.protocol``
(``classifiers.training.train_entities``).

Builds features from texts, spans and embeddings handed in, and reads and writes the artefacts
(``entities.npz`` + ``entities.json``, no pickles); never loads the encoder, never trains.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifiers.features import PostFeatures
from classifiers.heads import ARTIFACTS_DIR, CalibratedHead, head_arrays, head_from
from classifiers.lemmas import lemma_of, word_spans

ENTITIES_NPZ = "entities.npz"
ENTITIES_META = "entities.json"
CONTEXT_WORDS = 8  # words each side of the entity that the lexical blocks read
ENTITY_MARK = "ENT"
EMBEDDING_SCALE = 2.0  # as the critical head: the dense block's weight beside TF-IDF


@dataclass(frozen=True)
class EntityInText:
    """One entity occurrence: the text around it (a sentence or a window) and its span."""

    text: str
    start: int
    stop: int


def entity_context(entity: EntityInText, width: int = CONTEXT_WORDS) -> tuple[str, str]:
    """(words, lemmas) around the entity with the entity replaced by ``ENT``: the words for
    character n-grams, the lemmas tagged by side ("l:обвинить ENT r:провал") for word n-grams."""
    words = word_spans(entity.text)
    left = [w for start, _, w in words if start < entity.start][-width:]
    right = [w for start, _, w in words if start >= entity.stop][:width]
    plain = " ".join([*left, ENTITY_MARK.lower(), *right])
    lemmas = " ".join([*(f"l:{lemma_of(w)}" for w in left), ENTITY_MARK,
                       *(f"r:{lemma_of(w)}" for w in right)])
    return plain, lemmas


def entity_features(entities: Sequence[EntityInText], dense: np.ndarray | None) -> PostFeatures:
    """The blocks a head reads for each entity: context words (char), side-tagged context
    lemmas (lemma) and ``EMBEDDING_SCALE`` times its text's embedding (embedding), or None."""
    contexts = [entity_context(entity) for entity in entities]
    scaled = None if dense is None else dense * EMBEDDING_SCALE
    return PostFeatures([c[0] for c in contexts], [c[1] for c in contexts], scaled)


@dataclass
class EntityHead:
    """The shipped entity head: P(attacked) per entity occurrence, and its threshold."""

    head: CalibratedHead
    meta: dict
    digest: str
    encoder_fingerprint: str

    def probability(self, entities: Sequence[EntityInText], dense: np.ndarray | None
                    ) -> np.ndarray:
        if not entities:
            return np.zeros(0)
        return self.head.probability(entity_features(entities, dense))

    def attacked(self, entities: Sequence[EntityInText], dense: np.ndarray | None
                 ) -> list[bool]:
        return [bool(p >= self.head.threshold) for p in self.probability(entities, dense)]


def save_entity_head(directory: Path, head: CalibratedHead, meta: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    arrays = head_arrays("entity", head, own_vectorizers=True)
    np.savez_compressed(directory / ENTITIES_NPZ, **arrays)  # type: ignore[arg-type]
    (directory / ENTITIES_META).write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def load_entity_head(directory: Path = ARTIFACTS_DIR) -> EntityHead | None:
    """The shipped entity head, or None when its artefacts are absent."""
    npz_path, meta_path = directory / ENTITIES_NPZ, directory / ENTITIES_META
    if not npz_path.exists() or not meta_path.exists():
        return None
    digest = hashlib.sha256(npz_path.read_bytes() + meta_path.read_bytes()).hexdigest()[:12]
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    with np.load(npz_path, allow_pickle=False) as data:
        head = head_from("entity", data)
    return EntityHead(head, meta, digest, str(meta.get("encoder_fingerprint", "")))
