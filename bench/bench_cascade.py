"""Speed against quality of a cascade: which windows (and which posts) the encoder reads,
each variant's encoder tokens per post beside its nested-CV macro-F1. Measures only.

Usage: ``python -m bench.bench_cascade [--shared ../shared/data] [--cache /tmp/windows.npz]
[--variants shipped,budget256,...]``. Window embeddings (up to 16 windows per post, bf16) are
computed once and cached; each variant pools a subset and runs
``classifiers.training.protocol.nested_cv`` with the shipped full recipe fixed (calibration and
threshold chosen in the inner folds). The cascade variants run ``choose_recipes`` for the full
and lexical recipes in each outer fold and choose their bounds on the inner out-of-fold
probabilities. About 19 min per variant on 2 busy
cores; results in classifiers/MODELS.md ("Speed against quality under the nested protocol").
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifiers.features import PostFeatures
from classifiers.heads import CompiledTaxonomy, load_heads, pooled_features, sigmoid
from classifiers.text import sentence_windows
from classifiers.training.datasets import load_milblog, taxonomy_examples
from classifiers.training.protocol import (
    OUTER_FOLDS,
    OUTER_REPEATS,
    SEED,
    Labelled,
    Recipe,
    binary_macro_f1,
    choose_recipes,
    fit_choices,
    nested_cv,
    out_of_fold_decisions,
    outer_macro_f1,
)
from config import load_settings
from config.settings import DEFAULT_THEMES_FILE
from config.themes import load_themes

REPO = Path(__file__).resolve().parent.parent

MAX_WINDOWS, SHIPPED_WINDOWS, TOKEN_CAP = 16, 8, 256
BOUND_GRID = np.round(np.arange(0.0, 1.001, 0.05), 2)
CASCADE_TOLERANCE = 0.005  # inner macro-F1 the bounds may give up against the full head


@dataclass
class Corpus:
    """Posts (or examples) with every window's embedding, token count and cue flag."""

    features: PostFeatures
    y: np.ndarray
    embedded: np.ndarray
    spans: list[tuple[int, int]]
    tokens: np.ndarray
    cue: np.ndarray

    def labelled(self, select: Callable[[Corpus], list[np.ndarray]]) -> tuple[Labelled, float]:
        """The posts pooled over the selected windows, and the mean tokens per post."""
        chosen = select(self)
        dense = np.stack([pooled_features(self.embedded[index], 2.0) for index in chosen])
        cost = float(np.mean([np.minimum(self.tokens[index], TOKEN_CAP).sum() for index in chosen]))
        return Labelled(PostFeatures(self.features.cleaned, self.features.lemmas, dense),
                        self.y), cost

    def post_has_cue(self) -> np.ndarray:
        return np.array([self.cue[a : min(b, a + SHIPPED_WINDOWS)].any() for a, b in self.spans])


def embed_corpus(texts: list[str], labels: list[str], cache: Path) -> Corpus:
    """Every window of every text embedded once (bf16), cached in ``cache``."""
    compiled = CompiledTaxonomy.from_taxonomy(load_themes(DEFAULT_THEMES_FILE))
    flat: list[str] = []
    spans: list[tuple[int, int]] = []
    for text in texts:
        windows = sentence_windows(text, max_windows=MAX_WINDOWS)
        spans.append((len(flat), len(flat) + len(windows)))
        flat.extend(windows)
    if cache.is_file():
        stored = np.load(cache)
        embedded, tokens = stored["embedded"], stored["tokens"]
    else:
        from classifiers.precision import load_encoder

        encoder = load_encoder(load_settings(), "bf16")
        embedded = encoder.embed(flat, kind="passage")
        tokens = np.array(encoder.token_lengths(flat))
        np.savez(cache, embedded=embedded, tokens=tokens)
    cue = np.array([bool(compiled.keyword_matrix([w]).sum() or compiled.targets_in(w))
                    for w in flat])
    y = np.array([label == "critical" for label in labels], dtype=int)
    return Corpus(PostFeatures.of(texts, None), y, embedded, spans, tokens, cue)


def first_windows(count: int = SHIPPED_WINDOWS) -> Callable[[Corpus], list[np.ndarray]]:
    return lambda corpus: [np.arange(a, min(b, a + count)) for a, b in corpus.spans]


def within_budget(budget: int, cues_first: bool, cap: int = MAX_WINDOWS
                  ) -> Callable[[Corpus], list[np.ndarray]]:
    """Windows in reading order (cued ones first when asked) until ``budget`` tokens or
    ``cap`` windows are used; at least one window per post."""
    def select(corpus: Corpus) -> list[np.ndarray]:
        chosen = []
        for a, b in corpus.spans:
            order = list(range(a, b))
            if cues_first:
                order.sort(key=lambda i: not corpus.cue[i])
            kept: list[int] = []
            used = 0
            for i in order[:cap]:
                cost = min(int(corpus.tokens[i]), TOKEN_CAP)
                if kept and used + cost > budget:
                    break
                kept.append(i)
                used += cost
            chosen.append(np.array(sorted(kept)))
        return chosen
    return select


VARIANTS: dict[str, Callable[[Corpus], list[np.ndarray]]] = {
    "shipped": first_windows(),
    "budget256": within_budget(256, cues_first=False),
    "budget384": within_budget(384, cues_first=False),
    "cuebudget256": within_budget(256, cues_first=True),
    "cue8": within_budget(10**6, cues_first=True, cap=SHIPPED_WINDOWS),
}


def routed(p_lexical: np.ndarray, cue: np.ndarray | None, low: float, high: float) -> np.ndarray:
    inside = (p_lexical > low) & (p_lexical < high)
    return inside if cue is None else inside | cue


def cascade_decision(p: dict[str, np.ndarray], thresholds: dict[str, float], route: np.ndarray
                     ) -> np.ndarray:
    return np.where(route, p["full"] >= thresholds["full"],
                    p["lexical"] >= thresholds["lexical"]).astype(int)


def choose_bounds(p: dict[str, np.ndarray], thresholds: dict[str, float], y: np.ndarray,
                  cue: np.ndarray | None) -> tuple[float, float]:
    """The bounds that encode the fewest posts within ``CASCADE_TOLERANCE`` of the full head."""
    target = binary_macro_f1(y, (p["full"] >= thresholds["full"]).astype(int)) - CASCADE_TOLERANCE
    best = (2.0, 0.0, 1.0)
    for low in BOUND_GRID[BOUND_GRID <= 0.5]:
        for high in BOUND_GRID[BOUND_GRID >= 0.5]:
            route = routed(p["lexical"], cue, low, high)
            if (binary_macro_f1(y, cascade_decision(p, thresholds, route)) >= target
                    and route.mean() < best[0]):
                best = (float(route.mean()), float(low), float(high))
    return best[1], best[2]


def nested_cascade(posts: Labelled, extra: Labelled, recipes: dict[str, Recipe],
                   cue: np.ndarray | None) -> tuple[float, float]:
    """The cascade's pooled outer macro-F1 and share of posts encoded."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    splitter = RepeatedStratifiedKFold(n_splits=OUTER_FOLDS, n_repeats=OUTER_REPEATS,
                                       random_state=SEED)
    truth, predicted, shares = [], [], []
    for train_idx, test_idx in splitter.split(np.zeros(len(posts.y)), posts.y):
        train = posts.take(train_idx)
        choices = choose_recipes({name: [r] for name, r in recipes.items()}, train, extra)
        inner = out_of_fold_decisions(list(recipes.values()), train, extra)
        p_inner = {name: sigmoid(c.platt[0] * inner[c.recipe] + c.platt[1])
                   for name, c in choices.items()}
        thresholds = {name: c.threshold for name, c in choices.items()}
        low, high = choose_bounds(p_inner, thresholds, train.y,
                                  None if cue is None else cue[train_idx])
        heads = fit_choices(choices, train, extra)
        p_test = {name: head.probability(posts.features.take(test_idx))
                  for name, head in heads.items()}
        route = routed(p_test["lexical"], None if cue is None else cue[test_idx], low, high)
        truth.append(posts.y[test_idx])
        predicted.append(cascade_decision(p_test, thresholds, route))
        shares.append(route.mean())
    return binary_macro_f1(np.concatenate(truth), np.concatenate(predicted)), float(np.mean(shares))


def shipped_recipes() -> dict[str, Recipe]:
    """The full and lexical critical recipes heads.json records (e.g. "char+embedding C=3")."""
    meta = load_heads().meta
    recipes = {}
    for name, chosen in (("full", meta["heads"]["critical"]),
                         ("lexical", meta["lexical_critical_head"])):
        blocks, c, *extra = chosen["recipe"].split()
        recipes[name] = Recipe(tuple(blocks.split("+")), float(c.removeprefix("C=")),
                               bool(extra))
    return recipes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/riftwatch-windows"))
    parser.add_argument("--variants", default=",".join([*VARIANTS, "cascade", "cascade+cue"]))
    args = parser.parse_args(argv)
    data = load_milblog(args.shared)
    examples = taxonomy_examples(load_themes(DEFAULT_THEMES_FILE))
    args.cache.mkdir(parents=True, exist_ok=True)
    posts = embed_corpus(data.texts, data.labels, args.cache / "posts.npz")
    extra, _ = embed_corpus(examples.texts, examples.labels,
                            args.cache / "examples.npz").labelled(first_windows())
    recipes = shipped_recipes()
    for name in args.variants.split(","):
        if name.startswith("cascade"):
            labelled, cost = posts.labelled(first_windows())
            cue = posts.post_has_cue() if name == "cascade+cue" else None
            f1, share = nested_cascade(labelled, extra, recipes, cue)
            print(f"{name:>13}: nested macro-F1 {f1:.4f}; {share:.0%} of posts encoded", flush=True)
            continue
        labelled, cost = posts.labelled(VARIANTS[name])
        folds = nested_cv({"shipped": [recipes["full"]]}, labelled, extra)["shipped"]
        print(f"{name:>13}: nested macro-F1 {outer_macro_f1(folds, labelled.y):.4f}; "
              f"{cost:.0f} encoder tokens/post", flush=True)
    print(json.dumps({"recipes": {k: r.name for k, r in recipes.items()}}))


if __name__ == "__main__":
    main()
