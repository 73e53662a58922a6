"""Score texts: stance probabilities, theme probabilities, targets attacked, evidence and language.

Pure function of (encoder, shipped heads, taxonomy) over a list of strings; never touches the store.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

import numpy as np

from classifiers.encoder import Encoder
from classifiers.entity_head import EntityHead
from classifiers.heads import (
    CompiledTaxonomy,
    ShippedHeads,
    max_similarity,
    pooled_features,
    prototype_texts,
    stance_split,
    theme_features,
    theme_probabilities,
)
from classifiers.protocol import PostFeatures
from classifiers.targets import PostWindowsToJudge, TargetFinder
from classifiers.text import detect_language, sentence_windows, split_sentences
from config.themes import STANCE_NAMES, Stance, Taxonomy

logger = logging.getLogger(__name__)

SCORING_VERSION = "4"  # bump when the scoring recipe below changes
OTHER_STANCES = tuple(name for name in STANCE_NAMES if name != "critical")
EVIDENCE_CHARS = 300


def decided_stance(probabilities: dict[str, float], critical: bool) -> str:
    """``critical`` when the critical decision says so, else the likeliest other stance."""
    return "critical" if critical else max(OTHER_STANCES, key=probabilities.__getitem__)


@dataclass
class ScoreResult:
    """One text's scores; probabilities are floats in [0, 1]."""

    stance: str
    stance_probabilities: dict[str, float]
    themes: dict[str, float]
    targets: list[str] = field(default_factory=list)
    evidence: str = ""
    language: str = "other"


@dataclass
class PostWindows:
    """Every text's windows, flattened, with each text's slice."""

    texts: list[str]
    spans: list[tuple[int, int]]

    @classmethod
    def of(cls, texts: list[str]) -> PostWindows:
        flat: list[str] = []
        spans = []
        for text in texts:
            windows = sentence_windows(text)
            spans.append((len(flat), len(flat) + len(windows)))
            flat.extend(windows)
        return cls(flat, spans)


def model_version_for(
    encoder_name: str,
    encoder_fingerprint: str,
    heads_digest: str,
    taxonomy: Taxonomy,
    critical_threshold: float,
) -> str:
    """A name that changes whenever the encoder, the heads, the taxonomy, the critical threshold
    or the recipe change."""
    digest = hashlib.sha256()
    parts = (encoder_fingerprint, heads_digest, taxonomy.model_dump_json(),
             f"{critical_threshold:.4f}", SCORING_VERSION)
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return f"{encoder_name}-{digest.hexdigest()[:10]}"


class Classifier:
    """The encoder plus shipped heads plus the taxonomy's prototypes, ready to score texts."""

    def __init__(
        self,
        encoder: Encoder,
        heads: ShippedHeads,
        taxonomy: Taxonomy,
        default_stances: list[Stance],
        critical_threshold: float | None = None,
        entity_head: EntityHead | None = None,
    ) -> None:
        """``critical_threshold`` overrides the threshold the protocol chose for the head;
        ``entity_head`` judges who is attacked (without it, or with another encoder, every
        party named in a critical window counts)."""
        self.encoder = encoder
        self.heads = heads
        self.taxonomy = taxonomy
        self.compiled = CompiledTaxonomy.from_taxonomy(taxonomy)
        if entity_head is not None and entity_head.encoder_fingerprint != encoder.fingerprint:
            entity_head = None
        self.target_finder = TargetFinder(self.compiled, entity_head)
        self.uses_trained_head = heads.meta.get("encoder_fingerprint") == encoder.fingerprint
        self.critical_head = heads.critical_head(with_embedding=self.uses_trained_head)
        self.critical_threshold = (
            self.critical_head.threshold if critical_threshold is None else critical_threshold
        )
        if not self.uses_trained_head:
            logger.warning(
                "model %s is not the one the critical head was trained on: using the "
                "lexical critical head and prototypes",
                encoder.model_dir,
            )
        stances = {stance.name: stance for stance in default_stances}
        stances.update({stance.name: stance for stance in taxonomy.stances})
        self.stance_prototypes = [
            self._embed_prototypes(stances[name].description, stances[name].examples)
            for name in OTHER_STANCES
        ]
        self.theme_prototypes = [
            self._embed_prototypes(theme.description, theme.examples) for theme in taxonomy.themes
        ]
        heads_digest = heads.digest + (f"+{entity_head.digest}" if entity_head else "")
        self.model_version = model_version_for(
            encoder.name, encoder.fingerprint, heads_digest, taxonomy, self.critical_threshold
        )

    def _embed_prototypes(self, description: str, examples: list[str]) -> np.ndarray:
        return self.encoder.embed(prototype_texts(description, examples), kind="query")

    def score_texts(self, texts: list[str]) -> list[ScoreResult]:
        """Score each text; the order of results follows ``texts``."""
        if not texts:
            return []
        windows = PostWindows.of(texts)
        embedded = self.encoder.embed(windows.texts, kind="passage")
        p_critical = self._critical(texts, embedded, windows.spans)
        p_window = self._critical(
            windows.texts, embedded, [(i, i + 1) for i in range(len(embedded))]
        )
        doc = np.stack(
            [pooled_features(embedded[a:b], 1.0)[: self.encoder.dim] for a, b in windows.spans]
        )
        others = stance_split(max_similarity(doc, self.stance_prototypes))
        window_theme_sim = max_similarity(embedded, self.theme_prototypes)
        theme_sim = np.stack([window_theme_sim[a:b].max(axis=0) for a, b in windows.spans])
        keywords = self.compiled.keyword_matrix(texts)
        themes = theme_probabilities(
            theme_features(theme_sim, keywords), self.heads.theme_calibration
        )
        probabilities = [self._probabilities(p, shares) for p, shares in zip(p_critical, others,
                                                                              strict=True)]
        stances = [self._stance(probs) for probs in probabilities]
        targets = self.target_finder.attacked_each([
            PostWindowsToJudge(windows.texts[a:b], embedded[a:b],
                               [stance == "critical" or p >= self.critical_threshold
                                for p in p_window[a:b]])
            for (a, b), stance in zip(windows.spans, stances, strict=True)
        ])
        return [
            ScoreResult(
                stance=stances[i],
                stance_probabilities=probabilities[i],
                themes={theme.name: float(p)
                        for theme, p in zip(self.taxonomy.themes, themes[i], strict=True)},
                targets=targets[i],
                evidence=self._evidence(windows, i, stances[i], p_window, themes[i],
                                        window_theme_sim),
                language=detect_language(texts[i]),
            )
            for i in range(len(texts))
        ]

    def _critical(
        self, texts: list[str], embedded: np.ndarray, spans: list[tuple[int, int]]
    ) -> np.ndarray:
        """Calibrated P(critical) of each text (its windows are ``embedded[a:b]``)."""
        dense = None
        if self.critical_head.uses_embedding:
            scale = float(self.heads.meta["embedding_scale"])
            dense = np.stack([pooled_features(embedded[a:b], scale) for a, b in spans])
        with_lemmas = "lemma" in self.critical_head.blocks
        return self.critical_head.probability(PostFeatures.of(texts, dense, with_lemmas))

    def _probabilities(self, p_critical: float, other_shares: np.ndarray) -> dict[str, float]:
        """Calibrated P(critical); the rest shared among the other stances as the prototypes
        split it."""
        probabilities = {"critical": float(p_critical)}
        for name, share in zip(OTHER_STANCES, other_shares, strict=True):
            probabilities[name] = float((1.0 - p_critical) * share)
        return {name: probabilities[name] for name in STANCE_NAMES}

    def _evidence(
        self, windows: PostWindows, index: int, stance: str, p_window: np.ndarray,
        themes: np.ndarray, window_theme_sim: np.ndarray,
    ) -> str:
        """The evidence sentence from the post's most critical window (critical posts, or no
        clear theme), else from the window closest to its top theme."""
        start, end = windows.spans[index]
        top_theme = int(np.argmax(themes))
        if stance == "critical" or themes[top_theme] < 0.5:
            best = int(np.argmax(p_window[start:end]))
        else:
            best = int(np.argmax(window_theme_sim[start:end, top_theme]))
        return self._evidence_sentence(windows.texts[start + best], top_theme)

    def _stance(self, probabilities: dict[str, float]) -> str:
        """``critical`` when its calibrated probability reaches the threshold, else the most
        likely of the other stances."""
        return decided_stance(probabilities, probabilities["critical"] >= self.critical_threshold)

    def _evidence_sentence(self, window: str, theme_index: int) -> str:
        """The window's sentence with most target aliases and top-theme keywords (first on ties)."""
        sentences = split_sentences(window) or [window]
        evidence = max(sentences, key=lambda sentence: self._cue_count(sentence, theme_index))
        return evidence[:EVIDENCE_CHARS]

    def _cue_count(self, sentence: str, theme_index: int) -> int:
        """Top-theme keyword hits plus targets named, by lemma."""
        hits = self.compiled.keyword_hits(sentence, theme_index)
        return hits + len(self.compiled.targets_in(sentence))
