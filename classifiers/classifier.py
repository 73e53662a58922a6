"""Score texts: stance probabilities, theme probabilities and the themes present, targets attacked,
evidence and language.

Pure function of (encoder, shipped heads, taxonomy) over a list of strings; never touches the store.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

import numpy as np

from classifiers.encoder import Encoder
from classifiers.entity_head import EntityHead
from classifiers.features import PostFeatures, head_probabilities
from classifiers.heads import (
    CalibratedHead,
    CompiledTaxonomy,
    ShippedHeads,
    max_similarity,
    passage_vector,
    pooled_features,
    prototype_texts,
    stance_split,
    theme_features,
    theme_probabilities,
)
from classifiers.stance_rule import DEFAULT_RULE, OTHER_STANCES, decide_stance
from classifiers.targets import PostWindowsToJudge, TargetFinder
from classifiers.text import detect_language, sentence_windows, split_sentences
from config.themes import STANCE_NAMES, Stance, Taxonomy

logger = logging.getLogger(__name__)

SCORING_VERSION = "5"  # bump when the scoring recipe below changes
EVIDENCE_CHARS = 300
ZERO_SHOT_PRESENT = 0.5  # an untrained (zero-shot) theme is present from this probability


@dataclass
class ScoreResult:
    """One text's scores; probabilities are floats in [0, 1]."""

    stance: str
    stance_probabilities: dict[str, float]
    themes: dict[str, float]
    present_themes: list[str] = field(default_factory=list)  # by each theme's own threshold
    targets: list[str] = field(default_factory=list)
    evidence: str = ""
    language: str = "other"
    vector: np.ndarray | None = None  # the post's unit passage vector (semantic search)


@dataclass
class PostWindows:
    """Every text's windows, flattened, with each text's slice."""

    texts: list[str]
    spans: list[tuple[int, int]]

    def vectors(self, embedded: np.ndarray) -> np.ndarray:
        """(texts, dim): each text's windows' embeddings averaged, at unit length."""
        return np.stack([passage_vector(embedded[a:b]) for a, b in self.spans])

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


def vector_space(encoder: Encoder) -> str:
    """The name of the space an encoder's vectors live in: only vectors of one space compare
    (the int8 copy's embeddings differ from fp32's, so it has a space of its own)."""
    return f"{encoder.name}-{encoder.fingerprint}"


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
        self.trained_themes = self._trained_theme_names()
        self.stance_rule, self.stance_thresholds = self._stance_decision()
        self.theme_thresholds = {
            theme.name: (heads.themes[theme.name].threshold if theme.name in self.trained_themes
                         else ZERO_SHOT_PRESENT)
            for theme in taxonomy.themes
        }
        heads_digest = heads.digest + (f"+{entity_head.digest}" if entity_head else "")
        self.model_version = model_version_for(
            encoder.name, encoder.fingerprint, heads_digest, taxonomy, self.critical_threshold
        )
        self.vector_space = vector_space(encoder)

    def _stance_decision(self) -> tuple[str, dict[str, float]]:
        """The rule that turns stance probabilities into a stance, and each stance's threshold:
        the protocol's choices with the trained encoder; the critical threshold and the
        likeliest other stance without it."""
        thresholds = {name: 0.5 for name in OTHER_STANCES} | {"critical": self.critical_threshold}
        if not self.uses_trained_head:
            return DEFAULT_RULE, thresholds
        thresholds |= {name: self.heads.stances[name].threshold for name in OTHER_STANCES
                       if name in self.heads.stances}
        return self.heads.meta.get("stance_rule", {}).get("rule", DEFAULT_RULE), thresholds

    def _trained_theme_names(self) -> set[str]:
        """The taxonomy's themes that have a trained head usable with this encoder; the rest
        (a theme added without labels, or any theme with a foreign encoder) are zero-shot."""
        if not self.uses_trained_head:
            return set()
        return {theme.name for theme in self.taxonomy.themes if theme.name in self.heads.themes}

    def _embed_prototypes(self, description: str, examples: list[str]) -> np.ndarray:
        return self.encoder.embed(prototype_texts(description, examples), kind="query")

    def score_texts(self, texts: list[str]) -> list[ScoreResult]:
        """Score each text; the order of results follows ``texts``."""
        if not texts:
            return []
        windows = PostWindows.of(texts)
        embedded = self.encoder.embed(windows.texts, kind="passage")
        trained = self._trained_probabilities(texts, embedded, windows.spans)
        p_window = self._window_critical(windows.texts, embedded)
        window_theme_sim = max_similarity(embedded, self.theme_prototypes)
        themes = self._theme_probabilities(texts, windows, window_theme_sim, trained)
        probabilities = self._stance_probabilities(embedded, windows.spans, trained)
        stances = [self._stance(probs) for probs in probabilities]
        vectors = windows.vectors(embedded)
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
                present_themes=self._present(themes[i]),
                targets=targets[i],
                evidence=self._evidence(windows, i, stances[i], p_window, themes[i],
                                        window_theme_sim),
                language=detect_language(texts[i]),
                vector=vectors[i],
            )
            for i in range(len(texts))
        ]

    def passage_vectors(self, texts: list[str]) -> np.ndarray:
        """(texts, dim): the vectors ``score_texts`` gives each text, without the heads."""
        windows = PostWindows.of(texts)
        return windows.vectors(self.encoder.embed(windows.texts, kind="passage"))

    def query_vector(self, query: str) -> np.ndarray:
        """(dim,): a search query's unit vector (the encoder's ``query:`` side)."""
        return self.encoder.embed([query], kind="query")[0]

    def _post_heads(self) -> dict[str, CalibratedHead]:
        """The heads that read whole posts: the critical head, and with the trained encoder the
        other stances' and the trained themes' (theme heads keyed ``theme:NAME``)."""
        heads = {"critical": self.critical_head}
        if self.uses_trained_head:
            heads |= {name: self.heads.stances[name] for name in OTHER_STANCES
                      if name in self.heads.stances}
            heads |= {f"theme:{name}": head for name, head in self.heads.themes.items()
                      if name in self.trained_themes}
        return heads

    def _trained_probabilities(
        self, texts: list[str], embedded: np.ndarray, spans: list[tuple[int, int]]
    ) -> dict[str, np.ndarray]:
        """Every post head's calibrated probabilities, each feature block built once."""
        heads = self._post_heads()
        dense = None
        if any(head.uses_embedding for head in heads.values()):
            scale = float(self.heads.meta["embedding_scale"])
            dense = np.stack([pooled_features(embedded[a:b], scale) for a, b in spans])
        with_lemmas = any("lemma" in head.blocks for head in heads.values())
        return head_probabilities(heads, PostFeatures.of(texts, dense, with_lemmas))

    def _window_critical(self, windows: list[str], embedded: np.ndarray) -> np.ndarray:
        """Calibrated P(critical) of each window on its own (evidence and targets)."""
        dense = None
        if self.critical_head.uses_embedding:
            scale = float(self.heads.meta["embedding_scale"])
            dense = np.stack([pooled_features(embedded[i:i + 1], scale)
                              for i in range(len(windows))])
        with_lemmas = "lemma" in self.critical_head.blocks
        inputs = PostFeatures.of(windows, dense, with_lemmas)
        return head_probabilities({"critical": self.critical_head}, inputs)["critical"]

    def _stance_probabilities(
        self, embedded: np.ndarray, spans: list[tuple[int, int]], trained: dict[str, np.ndarray]
    ) -> list[dict[str, float]]:
        """Calibrated P(critical); the rest shared among the other stances as their trained
        heads weigh them (as the prototypes split it, without the trained encoder)."""
        if all(name in trained for name in OTHER_STANCES):
            weights = np.stack([trained[name] for name in OTHER_STANCES], axis=1)
            others = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
        else:
            doc = np.stack([passage_vector(embedded[a:b]) for a, b in spans])
            others = stance_split(max_similarity(doc, self.stance_prototypes))
        return [self._probabilities(float(p), shares)
                for p, shares in zip(trained["critical"], others, strict=True)]

    def _theme_probabilities(
        self, texts: list[str], windows: PostWindows, window_theme_sim: np.ndarray,
        trained: dict[str, np.ndarray],
    ) -> np.ndarray:
        """(posts, themes): a trained theme's calibrated head; an untrained theme's zero-shot
        probability (prototype similarity, keywords, the taxonomy-fitted calibration)."""
        theme_sim = np.stack([window_theme_sim[a:b].max(axis=0) for a, b in windows.spans])
        keywords = self.compiled.keyword_matrix(texts)
        themes = theme_probabilities(
            theme_features(theme_sim, keywords), self.heads.theme_calibration
        )
        for column, theme in enumerate(self.taxonomy.themes):
            if f"theme:{theme.name}" in trained:
                themes[:, column] = trained[f"theme:{theme.name}"]
        return themes

    def _present(self, themes: np.ndarray) -> list[str]:
        """The themes whose probability reaches their own head's threshold (the zero-shot
        cut-off for untrained ones), in taxonomy order."""
        return [theme.name for theme, p in zip(self.taxonomy.themes, themes, strict=True)
                if p >= self.theme_thresholds[theme.name]]

    def _probabilities(self, p_critical: float, other_shares: np.ndarray) -> dict[str, float]:
        """P(critical), and the rest in the other stances' shares."""
        probabilities = {"critical": float(p_critical)}
        for name, share in zip(OTHER_STANCES, other_shares, strict=True):
            probabilities[name] = float((1.0 - p_critical) * share)
        return {name: probabilities[name] for name in STANCE_NAMES}

    def _evidence(
        self, windows: PostWindows, index: int, stance: str, p_window: np.ndarray,
        themes: np.ndarray, window_theme_sim: np.ndarray,
    ) -> str:
        """The evidence sentence from the post's most critical window (critical posts, or no
        theme present), else from the window closest to its likeliest theme, when present."""
        start, end = windows.spans[index]
        top_theme = int(np.argmax(themes))
        name = self.taxonomy.themes[top_theme].name
        if stance == "critical" or themes[top_theme] < self.theme_thresholds[name]:
            best = int(np.argmax(p_window[start:end]))
        else:
            best = int(np.argmax(window_theme_sim[start:end, top_theme]))
        return self._evidence_sentence(windows.texts[start + best], top_theme)

    def _stance(self, probabilities: dict[str, float]) -> str:
        """``critical`` when its calibrated probability reaches the threshold, else as the
        stance rule the protocol chose says (``classifiers.stance_rule``)."""
        return decide_stance(probabilities, self.stance_thresholds, self.stance_rule)

    def _evidence_sentence(self, window: str, theme_index: int) -> str:
        """The window's sentence with most target aliases and top-theme keywords (first on ties)."""
        sentences = split_sentences(window) or [window]
        evidence = max(sentences, key=lambda sentence: self._cue_count(sentence, theme_index))
        return evidence[:EVIDENCE_CHARS]

    def _cue_count(self, sentence: str, theme_index: int) -> int:
        """Top-theme keyword hits plus targets named, by lemma."""
        hits = self.compiled.keyword_hits(sentence, theme_index)
        return hits + len(self.compiled.targets_in(sentence))
