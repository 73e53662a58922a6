"""Which depth of the packaged encoder to ship: the nested protocol run once per depth over the
annotated set, each cut model beside the full one in the same run and the same folds, and the
shallowest depth that keeps judgement (the rule below).

Every depth gets the same candidates (char + lemma + embedding blocks, C chosen in the inner
folds: the recipe every label chose at full depth), so a difference is the encoder's. The
tuned char baseline is left out: it reads no embedding, so it is the same at every depth.

``python -m classifiers.training.depth_choice [--depths 12 6 4]`` prints the table (30-60 min
per depth on 2 cores; window embeddings are cached per depth, see
``classifiers.training.embedding_cache``).
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from classifiers.convert import FULL_DEPTH
from classifiers.training.datasets import (
    ANNOTATIONS,
    DEMO_CORPUS,
    AnnotatedPosts,
    load_annotations,
    load_milblog,
)
from classifiers.training.evaluate import OutOfFold, out_of_fold
from classifiers.training.protocol import nested_cv_labels, recipes_for
from classifiers.training.train import embed_posts, label_set, training_encoder
from config.settings import Settings, load_settings
from config.themes import STANCE_NAMES, Taxonomy, load_themes

logger = logging.getLogger(__name__)

DEPTHS = (FULL_DEPTH, 8, 6, 4)
DEPTH_CANDIDATES = {"model": recipes_for([("char", "lemma", "embedding")], (1.0, 3.0, 10.0))}
# The rule: a cut depth keeps judgement when it loses at most this much macro-F1
# against full depth, measured on the whole annotated set in the same run.
MAX_LOSS = {"critical": 0.01, "four_stances": 0.02, "themes": 0.02}


@dataclass
class DepthFigures:
    """One depth's outer-fold macro-F1s: on every annotated post, and on the milblog posts."""

    depth: int
    whole: dict[str, float]
    milblog: dict[str, float]


def figures_of(decisions: OutOfFold, data: AnnotatedPosts, rows: Sequence[int],
               themes: Sequence[str], is_criticism: dict[str, bool]) -> dict[str, float]:
    """Critical yes/no, four-stance and mean theme macro-F1 on ``rows``; is_criticism against
    the milblog set's own labels where these rows carry them."""
    gold = [data.stances[i] for i in rows]
    stance = [decisions.stances["model"][i] for i in rows]
    figures = {
        "critical": _macro([g == "critical" for g in gold], [s == "critical" for s in stance]),
        "four_stances": float(f1_score(gold, stance, labels=list(STANCE_NAMES), average="macro",
                                       zero_division=0)),
        "themes": float(np.mean([
            f1_score([theme in data.settled[i].themes for i in rows],
                     decisions.themes["model"][theme][rows], zero_division=0)
            for theme in themes])),
    }
    labelled = [i for i in rows if data.texts[i] in is_criticism]
    if labelled:
        figures["is_criticism"] = _macro([is_criticism[data.texts[i]] for i in labelled],
                                         [decisions.stances["model"][i] == "critical"
                                          for i in labelled])
    return {name: round(value, 4) for name, value in figures.items()}


def _macro(gold: Sequence[bool], predicted: Sequence[bool]) -> float:
    return float(f1_score(gold, predicted, average="macro", zero_division=0))


def depth_figures(settings: Settings, data: AnnotatedPosts, taxonomy: Taxonomy, depth: int,
                  is_criticism: dict[str, bool]) -> DepthFigures:
    """The nested protocol with the encoder cut to ``depth`` layers."""
    encoder = training_encoder(settings.model_copy(update={"encoder_depth": depth}))
    labels = label_set(embed_posts(encoder, data.texts).features, data, taxonomy)
    outer = nested_cv_labels(DEPTH_CANDIDATES, labels.features, labels.ys, labels.strata)
    decisions = out_of_fold(outer, data.stances)
    themes = [name for name in labels.ys if name not in STANCE_NAMES]
    milblog = [i for i, source in enumerate(data.sources) if source == "milblog"]
    return DepthFigures(depth, figures_of(decisions, data, range(len(data.texts)), themes,
                                          is_criticism),
                        figures_of(decisions, data, milblog, themes, is_criticism))


def keeps_judgement(cut: DepthFigures, full: DepthFigures) -> bool:
    """Whether ``cut`` loses no more than ``MAX_LOSS`` of ``full``'s whole-set figures."""
    return all(full.whole[name] - cut.whole[name] <= loss for name, loss in MAX_LOSS.items())


def shallowest_keeping(results: Sequence[DepthFigures]) -> int:
    """The fewest layers that keep judgement against the full-depth run among ``results``."""
    full = next(r for r in results if r.depth == FULL_DEPTH)
    return min(r.depth for r in results if keeps_judgement(r, full))


def format_table(results: Sequence[DepthFigures]) -> str:
    names = ("critical", "four_stances", "themes", "is_criticism")
    lines = ["| layers | " + " | ".join(f"{n} (all / milblog)" for n in names) + " |",
             "| --- |" + " --- |" * len(names)]
    for r in results:
        cells = [f"{r.whole.get(n, float('nan')):.3f} / {r.milblog.get(n, float('nan')):.3f}"
                 for n in names]
        lines.append(f"| {r.depth} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--depths", type=int, nargs="+", default=list(DEPTHS))
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = load_settings()
    data = load_annotations(ANNOTATIONS, args.shared, DEMO_CORPUS)
    milblog = load_milblog(args.shared)
    is_criticism = {t: label == "critical" for t, label in zip(milblog.texts, milblog.labels,
                                                               strict=True)}
    taxonomy = load_themes(settings.themes_file)
    depths = [FULL_DEPTH, *(d for d in args.depths if d != FULL_DEPTH)]
    results = []
    for depth in depths:
        results.append(depth_figures(settings, data, taxonomy, depth, is_criticism))
        logger.info("depth %d: %s", depth, results[-1])
        print(format_table(results), flush=True)
    print(f"shallowest depth keeping judgement (loss <= {MAX_LOSS}): "
          f"{shallowest_keeping(results)}")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=2))


if __name__ == "__main__":
    main()
