"""The small scoring heads on top of the encoder: a critical-stance logistic regression,
prototype similarity for the other stances, calibrated theme similarity and target finding.

Works on embeddings and strings handed in; never loads the encoder and never touches the store.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from config.themes import Target, Taxonomy, Theme

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
HEADS_NPZ = "heads.npz"
HEADS_META = "heads.json"
TFIDF_OPTIONS = {
    "analyzer": "char_wb",
    "ngram_range": (2, 5),
    "sublinear_tf": True,
    "lowercase": True,
}
STANCE_SCALE = (
    50.0  # e5 similarities sit in a narrow band; this spreads them (softmax temperature 0.02)
)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


def pooled_features(window_embeddings: np.ndarray, scale: float) -> np.ndarray:
    """One post's windows (n, dim) to [scale * normalised mean, scale * max] (2 * dim)."""
    mean = window_embeddings.mean(axis=0)
    mean = mean / max(float(np.linalg.norm(mean)), 1e-9)
    return np.concatenate([mean, window_embeddings.max(axis=0)]) * scale


def make_tfidf(vocabulary: list[str] | None = None, idf: np.ndarray | None = None, **fit_options):
    """A char n-gram TF-IDF vectoriser: fresh for fitting, or rebuilt from a shipped vocabulary."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if vocabulary is None:
        return TfidfVectorizer(**TFIDF_OPTIONS, **fit_options)
    vectorizer = TfidfVectorizer(
        **TFIDF_OPTIONS, vocabulary={g: i for i, g in enumerate(vocabulary)}
    )
    vectorizer.idf_ = idf
    return vectorizer


@dataclass
class LinearHead:
    """Logistic-regression weights over [tf-idf | optional dense features]."""

    coef: np.ndarray
    intercept: float

    def predict_proba(self, tfidf_rows, dense: np.ndarray | None = None) -> np.ndarray:
        n_sparse = tfidf_rows.shape[1]
        logits = tfidf_rows @ self.coef[:n_sparse] + self.intercept
        if dense is not None:
            logits = logits + dense @ self.coef[n_sparse:]
        return sigmoid(np.asarray(logits, dtype=np.float64).ravel())


@dataclass
class ShippedHeads:
    """The trained artefacts: tf-idf vocabulary, the two critical heads, theme calibration."""

    vectorizer: Any  # a fitted sklearn TfidfVectorizer
    full: LinearHead
    lexical: LinearHead
    theme_calibration: np.ndarray  # weights for [similarity, similarity - mean, keyword], bias
    meta: dict
    digest: str

    def critical_proba(self, texts: list[str], dense: np.ndarray | None) -> np.ndarray:
        """P(critical) per text; ``dense`` None (foreign encoder) uses the lexical head."""
        rows = self.vectorizer.transform(texts)
        if dense is None:
            return self.lexical.predict_proba(rows)
        return self.full.predict_proba(rows, dense)


def load_heads(directory: Path = ARTIFACTS_DIR) -> ShippedHeads:
    """Read ``heads.npz`` + ``heads.json`` (no pickles)."""
    import hashlib

    npz_path, meta_path = directory / HEADS_NPZ, directory / HEADS_META
    digest = hashlib.sha256(npz_path.read_bytes() + meta_path.read_bytes()).hexdigest()[:12]
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    with np.load(npz_path, allow_pickle=False) as data:
        vectorizer = make_tfidf([str(g) for g in data["vocab"]], data["idf"].astype(np.float64))
        full = LinearHead(data["full_coef"].astype(np.float64), float(data["full_intercept"]))
        lexical = LinearHead(data["lex_coef"].astype(np.float64), float(data["lex_intercept"]))
        calibration = data["theme_calibration"].astype(np.float64)
    return ShippedHeads(vectorizer, full, lexical, calibration, meta, digest)


def save_heads(
    directory: Path,
    vocab: list[str],
    idf: np.ndarray,
    full: LinearHead,
    lexical: LinearHead,
    theme_calibration: np.ndarray,
    meta: dict,
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        directory / HEADS_NPZ,
        vocab=np.array(vocab, dtype=str),
        idf=idf.astype(np.float32),
        full_coef=full.coef.astype(np.float32),
        full_intercept=np.float32(full.intercept),
        lex_coef=lexical.coef.astype(np.float32),
        lex_intercept=np.float32(lexical.intercept),
        theme_calibration=theme_calibration.astype(np.float32),
    )
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


def keyword_pattern(words: list[str]) -> re.Pattern[str] | None:
    """Matches any of the (lower-case stem) words at a word start; None when there are none."""
    stems = [re.escape(word.lower()) for word in words if word.strip()]
    return re.compile(r"(?<!\w)(?:" + "|".join(stems) + ")") if stems else None


def keyword_evidence(text: str, pattern: re.Pattern[str] | None) -> float:
    """0, 0.5 or 1: none, one or several keyword hits."""
    if pattern is None:
        return 0.0
    return min(1.0, 0.5 * len(pattern.findall(text.lower())))


def theme_features(similarity: np.ndarray, keywords: np.ndarray) -> np.ndarray:
    """(n, themes, 3): similarity, similarity above the post's mean, keyword evidence."""
    relative = similarity - similarity.mean(axis=1, keepdims=True)
    return np.stack([similarity, relative, keywords], axis=2)


def theme_probabilities(features: np.ndarray, calibration: np.ndarray) -> np.ndarray:
    return sigmoid(features @ calibration[:-1] + calibration[-1])


@dataclass
class CompiledTaxonomy:
    """Regexes for the taxonomy's keywords and target aliases, built once."""

    themes: list[Theme]
    theme_keywords: list[re.Pattern[str] | None]
    targets: list[Target]
    target_aliases: list[re.Pattern[str] | None]

    @classmethod
    def from_taxonomy(cls, taxonomy: Taxonomy) -> CompiledTaxonomy:
        return cls(
            themes=list(taxonomy.themes),
            theme_keywords=[keyword_pattern(theme.keywords) for theme in taxonomy.themes],
            targets=list(taxonomy.targets),
            target_aliases=[keyword_pattern(target.aliases) for target in taxonomy.targets],
        )

    def keyword_matrix(self, texts: list[str]) -> np.ndarray:
        return np.array(
            [
                [keyword_evidence(text, pattern) for pattern in self.theme_keywords]
                for text in texts
            ],
            dtype=np.float64,
        ).reshape(len(texts), len(self.themes))

    def targets_in(self, text: str) -> list[str]:
        lowered = text.lower()
        return [
            target.name
            for target, pattern in zip(self.targets, self.target_aliases, strict=True)
            if pattern is not None and pattern.search(lowered)
        ]
