"""Train and measure the entity head (``classifiers/artifacts/entities.*``) on RuSentNE: is the
marked entity attacked (sentiment -1)?

Recipe, C, calibration and threshold are chosen by ``classifiers.training.protocol`` in inner folds;
``nested_entities`` reports outer folds grouped by sentence (no sentence is both trained and
tested on). Reproducible: ``python -m classifiers.training.train_entities --shared ../shared/data``.
Never scores the store.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifiers.encoder import Encoder
from classifiers.entity_head import (
    CONTEXT_WORDS,
    EntityInText,
    entity_features,
    save_entity_head,
)
from classifiers.heads import ARTIFACTS_DIR
from classifiers.model_files import default_model_dir
from classifiers.training.datasets import EntitySentence, load_rusentne
from classifiers.training.protocol import (
    INNER_FOLDS,
    OUTER_FOLDS,
    Labelled,
    OuterFold,
    choose_recipes,
    fit_choices,
    nested_cv,
    recipes_for,
)
from classifiers.training.train import choice_meta
from config.settings import load_settings

logger = logging.getLogger(__name__)

# Kept small: on 2 shared cores each fit over ~5k rows and ~50k features takes seconds, and
# eval reruns the whole nested protocol.
ENTITY_CANDIDATES = {
    "entity": recipes_for([("lemma", "embedding"), ("char", "lemma", "embedding")],
                          c_grid=(0.3, 1.0))
}
OUTER_REPEATS = 1  # 6,637 rows: one repeat of 5 outer folds is enough and keeps eval in minutes


@dataclass
class EntityRows:
    """RuSentNE rows as entity occurrences, with labels (1: attacked) and sentence groups."""

    entities: list[EntityInText]
    y: np.ndarray
    groups: np.ndarray
    sentences: list[str]  # distinct sentences, in order of first appearance


def entity_rows(rows: list[EntitySentence]) -> EntityRows:
    """Each row's entity span (found by text where the file's offsets miss it)."""
    entities, labels, groups = [], [], []
    index: dict[str, int] = {}
    for row in rows:
        start, stop = row.start, row.end
        if row.sentence[start:stop] != row.entity:
            found = row.sentence.find(row.entity)
            if found < 0:
                continue
            start, stop = found, found + len(row.entity)
        entities.append(EntityInText(row.sentence, start, stop))
        labels.append(int(row.label == -1))
        groups.append(index.setdefault(row.sentence, len(index)))
    return EntityRows(entities, np.array(labels), np.array(groups), list(index))


def embedded_rows(encoder: Encoder | None, rows: EntityRows) -> Labelled:
    """Features of every row (each distinct sentence embedded once, ``passage:``; no embedding
    block without an encoder), grouped by sentence."""
    dense = None
    if encoder is not None:
        sentence_embeddings = encoder.embed(rows.sentences, kind="passage")
        dense = sentence_embeddings[rows.groups]
    return Labelled(entity_features(rows.entities, dense), rows.y, rows.groups)


def nested_entities(
    encoder: Encoder | None, shared_dir: Path, repeats: int = OUTER_REPEATS
) -> tuple[EntityRows, Labelled, list[OuterFold]]:
    """The rows, their features and the protocol's outer folds (every choice made inside
    each fold)."""
    rows = entity_rows(load_rusentne(shared_dir))
    labelled = embedded_rows(encoder, rows)
    candidates = _candidates(encoder is not None)
    return rows, labelled, nested_cv(candidates, labelled, repeats=repeats)["entity"]


def _candidates(with_embedding: bool) -> dict:
    if with_embedding:
        return ENTITY_CANDIDATES
    return {"entity": recipes_for([("lemma",), ("char", "lemma")], c_grid=(0.3, 1.0))}


def train_entities(shared_dir: Path, out_dir: Path = ARTIFACTS_DIR) -> dict:
    """Choose the recipe in inner folds over all of RuSentNE, fit it, write the artefacts with
    the nested-CV figures, and return their meta."""
    settings = load_settings()
    model_dir = default_model_dir(settings.cache_dir, None, settings.encoder_depth)
    encoder = Encoder(model_dir, threads=settings.threads, max_tokens=settings.max_tokens,
                      batch_size=settings.batch_size)
    _, labelled, outer = nested_entities(encoder, shared_dir)
    choices = choose_recipes(ENTITY_CANDIDATES, labelled)
    head = fit_choices(choices, labelled)["entity"]
    meta = {
        "encoder_fingerprint": encoder.fingerprint,
        "trained_on": f"rusentne/train_data.csv ({len(labelled.y)} entity rows, "
        f"{int(labelled.y.sum())} with sentiment -1 = attacked)",
        "features": f"char = char_wb 2-5 tf-idf of the {CONTEXT_WORDS} words each side, entity "
        "replaced by ENT; lemma = side-tagged pymorphy3 lemma 1-2-grams of the same words; "
        "embedding = 2 x e5 passage embedding of the sentence (window in production)",
        "chosen": choice_meta(choices["entity"]),
        "nested_cv": outer_figures(labelled.y, outer),
    }
    save_entity_head(out_dir, head, meta)
    return meta


def out_of_fold_attacked(n: int, outer: list[OuterFold]) -> np.ndarray:
    """Each row's decision (1: attacked) from the outer fold that tested it (the last repeat's,
    when there are several)."""
    predicted = np.zeros(n, dtype=int)
    for fold in outer:
        predicted[fold.test_index] = fold.predicted
    return predicted


def outer_figures(y: np.ndarray, outer: list[OuterFold]) -> dict:
    """Pooled precision and recall of "attacked" over the outer folds."""
    predicted = out_of_fold_attacked(len(y), outer)
    tp = int(np.sum((predicted == 1) & (y == 1)))
    return {
        "method": f"{OUTER_FOLDS}-fold x {len(outer) // OUTER_FOLDS}, grouped by sentence; "
        f"choices in {INNER_FOLDS} inner folds",
        "precision": round(tp / max(int(predicted.sum()), 1), 3),
        "recall": round(tp / max(int(y.sum()), 1), 3),
        "n": len(y),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"),
                        help="the shared data folder holding rusentne/train_data.csv")
    parser.add_argument("--out", type=Path, default=ARTIFACTS_DIR, help="where the artefacts go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    meta = train_entities(args.shared, args.out)
    print(f"entity head: {meta['chosen']['recipe']}, threshold {meta['chosen']['threshold']}; "
          f"nested CV attacked P {meta['nested_cv']['precision']} "
          f"R {meta['nested_cv']['recall']}")


if __name__ == "__main__":
    main()
