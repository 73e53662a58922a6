"""The small scoring heads on top of the encoder: calibrated logistic regressions for each stance
and each trained theme, prototype similarity for themes without labels, and target finding.

Works on embeddings and strings handed in; never loads the encoder and never touches the store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from classifiers.phrases import PhraseMatcher, text_lemmas
from config.themes import Target, Taxonomy, Theme

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
HEADS_NPZ = "heads.npz"
HEADS_META = "heads.json"
CHAR_TFIDF = {
    "analyzer": "char_wb",
    "ngram_range": (2, 5),
    "sublinear_tf": True,
    "lowercase": True,
    "min_df": 2,
    "max_features": 30_000,
}
LEMMA_TFIDF = {
    "analyzer": "word",
    "token_pattern": r"\S+",
    "ngram_range": (1, 2),
    "sublinear_tf": True,
    "lowercase": False,
    "min_df": 2,
    "max_features": 20_000,
}
BLOCKS = ("char", "lemma", "embedding")  # the feature blocks a critical head may stack
STANCE_SCALE = (
    50.0  # e5 similarities sit in a narrow band; this spreads them (softmax temperature 0.02)
)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


def passage_vector(window_embeddings: np.ndarray) -> np.ndarray:
    """One post's windows (n, dim) to their mean at unit length (dim): the post's own vector."""
    mean = window_embeddings.mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-9)


def pooled_features(window_embeddings: np.ndarray, scale: float) -> np.ndarray:
    """One post's windows (n, dim) to [scale * normalised mean, scale * max] (2 * dim)."""
    return np.concatenate([passage_vector(window_embeddings),
                           window_embeddings.max(axis=0)]) * scale


def make_vectorizer(block: str, vocabulary: list[str] | None = None,
                    idf: np.ndarray | None = None) -> Any:
    """The TF-IDF vectoriser of a sparse block: fresh for fitting, or rebuilt from a vocabulary."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    options = dict(CHAR_TFIDF if block == "char" else LEMMA_TFIDF)
    if vocabulary is None:
        return TfidfVectorizer(**options)
    del options["min_df"], options["max_features"]
    vectorizer = TfidfVectorizer(**options, vocabulary={g: i for i, g in enumerate(vocabulary)})
    vectorizer.idf_ = idf
    return vectorizer


class BlockInputs(Protocol):
    """What a head reads: cleaned texts (char block), lemmas (lemma block), pooled embeddings."""

    cleaned: list[str]
    lemmas: list[str]
    dense: np.ndarray | None

    def texts_for(self, block: str) -> list[str]: ...


def block_matrix(block: str, vectorizers: dict[str, Any], inputs: BlockInputs) -> Any:
    """One block's features of ``inputs`` as a sparse matrix (rows follow the inputs)."""
    import scipy.sparse as sp

    if block != "embedding":
        return vectorizers[block].transform(inputs.texts_for(block))
    if inputs.dense is None:
        raise ValueError("the embedding block needs pooled embeddings")
    return sp.csr_matrix(inputs.dense)


def stack_blocks(blocks: Sequence[str], vectorizers: dict[str, Any], inputs: BlockInputs) -> Any:
    """The blocks' features side by side, in ``blocks`` order, as one sparse matrix."""
    import scipy.sparse as sp

    return sp.hstack([block_matrix(block, vectorizers, inputs) for block in blocks]).tocsr()


@dataclass
class LinearHead:
    """Logistic-regression weights over stacked feature blocks."""

    coef: np.ndarray
    intercept: float

    def decision(self, features: Any) -> np.ndarray:
        return np.asarray(features @ self.coef + self.intercept, dtype=np.float64).ravel()


@dataclass
class CalibratedHead:
    """A linear head, its Platt calibration and the decision threshold the protocol chose."""

    blocks: tuple[str, ...]
    vectorizers: dict[str, Any]
    linear: LinearHead
    platt: tuple[float, float]
    threshold: float

    @property
    def uses_embedding(self) -> bool:
        return "embedding" in self.blocks

    def probability(self, inputs: BlockInputs) -> np.ndarray:
        """Calibrated P(critical) per post."""
        logit = self.linear.decision(stack_blocks(self.blocks, self.vectorizers, inputs))
        return sigmoid(self.platt[0] * logit + self.platt[1])


@dataclass
class ShippedHeads:
    """The trained artefacts: one calibrated head per stance (one against the rest; the critical
    one decides first) and per trained theme, all reading the encoder's embedding; the lexical
    critical head for a foreign encoder; the zero-shot theme calibration for untrained themes."""

    stances: dict[str, CalibratedHead]
    themes: dict[str, CalibratedHead]
    lexical: CalibratedHead
    theme_calibration: np.ndarray  # weights for [similarity, similarity - mean, keyword], bias
    meta: dict
    digest: str

    @property
    def full(self) -> CalibratedHead:
        return self.stances["critical"]

    def critical_head(self, with_embedding: bool) -> CalibratedHead:
        """The full head when the trained encoder's embeddings are at hand, else the lexical one."""
        return self.full if with_embedding else self.lexical


def head_arrays(prefix: str, head: CalibratedHead, own_vectorizers: bool = False
                ) -> dict[str, np.ndarray]:
    """A head as named arrays; with ``own_vectorizers`` its vectorisers' vocabularies too (a
    head saved alone), else they are saved once for all heads (``_vectorizer_arrays``)."""
    arrays: dict[str, np.ndarray] = {
        f"{prefix}_coef": head.linear.coef.astype(np.float32),
        f"{prefix}_intercept": np.array(head.linear.intercept, dtype=np.float32),
        f"{prefix}_platt": np.array(head.platt, dtype=np.float64),
        f"{prefix}_threshold": np.array(head.threshold, dtype=np.float64),
        f"{prefix}_blocks": np.array(head.blocks, dtype=str),
    }
    if own_vectorizers:
        arrays |= _vocabulary_arrays(prefix, head.vectorizers)
    return arrays


def _vocabulary_arrays(prefix: str, vectorizers: dict[str, Any]) -> dict[str, np.ndarray]:
    arrays = {}
    for block, vectorizer in vectorizers.items():
        arrays[f"{prefix}_{block}_vocab"] = np.array(vectorizer.get_feature_names_out(), dtype=str)
        arrays[f"{prefix}_{block}_idf"] = vectorizer.idf_.astype(np.float32)
    return arrays


def _vectorizers_from(prefix: str, data: Any, blocks: Sequence[str]) -> dict[str, Any]:
    return {
        block: make_vectorizer(block, [str(g) for g in data[f"{prefix}_{block}_vocab"]],
                               data[f"{prefix}_{block}_idf"].astype(np.float64))
        for block in blocks if f"{prefix}_{block}_vocab" in data
    }


def _vectorizer_arrays(heads: list[CalibratedHead]) -> dict[str, np.ndarray]:
    """The vectorisers the heads read, once each: heads of one training run share them."""
    shared: dict[str, Any] = {}
    for head in heads:
        for block, vectorizer in head.vectorizers.items():
            if shared.setdefault(block, vectorizer) is not vectorizer:
                raise ValueError(f"heads saved together must share their {block} vectoriser")
    return _vocabulary_arrays("vec", shared)


def head_from(prefix: str, data: Any, vectorizers: dict[str, Any] | None = None
              ) -> CalibratedHead:
    """A head from named arrays, reading the shared ``vectorizers`` or (None) its own."""
    blocks = tuple(str(b) for b in data[f"{prefix}_blocks"])
    if vectorizers is None:
        vectorizers = _vectorizers_from(prefix, data, blocks)
    platt = data[f"{prefix}_platt"].astype(np.float64)
    return CalibratedHead(
        blocks,
        {block: vectorizers[block] for block in blocks if block != "embedding"},
        LinearHead(data[f"{prefix}_coef"].astype(np.float64),
                   float(data[f"{prefix}_intercept"])),
        (float(platt[0]), float(platt[1])),
        float(data[f"{prefix}_threshold"]),
    )


def _heads_named(data: Any, kind: str, vectorizers: dict[str, Any]) -> dict[str, CalibratedHead]:
    names = [str(name) for name in data[f"{kind}_names"]]
    return {name: head_from(f"{kind}_{name}", data, vectorizers) for name in names}


def load_heads(directory: Path = ARTIFACTS_DIR) -> ShippedHeads:
    """Read ``heads.npz`` + ``heads.json`` (no pickles)."""
    import hashlib

    npz_path, meta_path = directory / HEADS_NPZ, directory / HEADS_META
    digest = hashlib.sha256(npz_path.read_bytes() + meta_path.read_bytes()).hexdigest()[:12]
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    with np.load(npz_path, allow_pickle=False) as data:
        vectorizers = _vectorizers_from("vec", data, BLOCKS)
        return ShippedHeads(
            stances=_heads_named(data, "stance", vectorizers),
            themes=_heads_named(data, "theme", vectorizers),
            lexical=head_from("lex", data, vectorizers),
            theme_calibration=data["theme_calibration"].astype(np.float64),
            meta=meta,
            digest=digest,
        )


def save_heads(
    directory: Path,
    stances: dict[str, CalibratedHead],
    themes: dict[str, CalibratedHead],
    lexical: CalibratedHead,
    theme_calibration: np.ndarray,
    meta: dict,
) -> None:
    """Write the heads (``stances`` must hold ``critical``) beside their shared vectorisers."""
    if "critical" not in stances:
        raise ValueError("the stance heads must include the critical head")
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        **_vectorizer_arrays([*stances.values(), *themes.values(), lexical]),
        "stance_names": np.array(list(stances), dtype=str),
        "theme_names": np.array(list(themes), dtype=str),
        **{k: v for name, head in stances.items() for k, v in
           head_arrays(f"stance_{name}", head).items()},
        **{k: v for name, head in themes.items() for k, v in
           head_arrays(f"theme_{name}", head).items()},
        **head_arrays("lex", lexical),
        "theme_calibration": theme_calibration.astype(np.float32),
    }
    np.savez_compressed(directory / HEADS_NPZ, **arrays)  # type: ignore[arg-type]
    (directory / HEADS_META).write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


# ---- prototypes: texts from the taxonomy, embedded with ``query: `` ----


def prototype_texts(description: str, examples: list[str]) -> list[str]:
    return [description, *examples]


def max_similarity(embeddings: np.ndarray, prototypes: list[np.ndarray]) -> np.ndarray:
    """(n, k): for each row and each prototype set, the best cosine similarity."""
    return np.stack([(embeddings @ protos.T).max(axis=1) for protos in prototypes], axis=1)


def stance_split(similarities: np.ndarray) -> np.ndarray:
    """Softmax over the non-critical stances' similarities (rows sum to 1)."""
    z = STANCE_SCALE * (similarities - similarities.max(axis=1, keepdims=True))
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def keyword_evidence(hits: int) -> float:
    """0, 0.5 or 1: none, one or several keyword hits."""
    return min(1.0, 0.5 * hits)


def theme_features(similarity: np.ndarray, keywords: np.ndarray) -> np.ndarray:
    """(n, themes, 3): similarity, similarity above the post's mean, keyword evidence."""
    relative = similarity - similarity.mean(axis=1, keepdims=True)
    return np.stack([similarity, relative, keywords], axis=2)


def theme_probabilities(features: np.ndarray, calibration: np.ndarray) -> np.ndarray:
    return sigmoid(features @ calibration[:-1] + calibration[-1])


@dataclass
class CompiledTaxonomy:
    """The taxonomy's keywords and target aliases as lemma phrase matchers, built once."""

    themes: list[Theme]
    theme_keywords: list[PhraseMatcher]
    targets: list[Target]
    target_aliases: list[PhraseMatcher]

    @classmethod
    def from_taxonomy(cls, taxonomy: Taxonomy) -> CompiledTaxonomy:
        return cls(
            themes=list(taxonomy.themes),
            theme_keywords=[PhraseMatcher.of(theme.keywords) for theme in taxonomy.themes],
            targets=list(taxonomy.targets),
            target_aliases=[PhraseMatcher.of(target.aliases) for target in taxonomy.targets],
        )

    def keyword_matrix(self, texts: list[str]) -> np.ndarray:
        """(texts, themes): each theme's keyword evidence in each text."""
        rows = []
        for text in texts:
            lemmas = text_lemmas(text)
            rows.append([keyword_evidence(m.count(lemmas)) for m in self.theme_keywords])
        return np.array(rows, dtype=np.float64).reshape(len(texts), len(self.themes))

    def keyword_hits(self, text: str, theme_index: int) -> int:
        """How many of one theme's keywords the text holds (each occurrence counted)."""
        return self.theme_keywords[theme_index].count(text_lemmas(text))

    def targets_in(self, text: str) -> list[str]:
        """Names of the targets an alias of which the text holds, in taxonomy order."""
        lemmas = text_lemmas(text)
        return [
            target.name
            for target, matcher in zip(self.targets, self.target_aliases, strict=True)
            if matcher.found(lemmas)
        ]

    def target_of(self, mention: str) -> str | None:
        """The listed target a name (an NER mention) is an alias of, or None when unlisted."""
        found = self.targets_in(mention)
        return found[0] if found else None
