"""Draw the posts for the stance-and-themes annotated set and write them out for the
annotation passes:
``python -m classifiers.training.annotation_sample --shared ../shared/data OUT_DIR``.

Writes ``OUT_DIR/sample.csv`` (source, ref, sha1, sampled: what the label file keeps, no text)
and ``OUT_DIR/chunk-NN.txt`` (numbered post texts, never labels, for the readers). Seeded, so
the same shared data gives the same sample. How each post was drawn:

- ``all``: every milblog dev post and every demo-corpus post (in-domain, 2023 critical patriots);
- ``pilot:<how>``: the pool posts of the shared pilot (its own ``sampled`` value kept);
- ``random``: pool blogger posts at random (and some news posts, ``random:news``);
- ``retrieved:<theme>``: pool blogger posts matched by the theme's stems, for rare themes.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import random
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifiers.encoder import Embedder
from classifiers.text_hash import text_hash
from classifiers.training.datasets import DEMO_CORPUS, AnnotatedPosts, Reading

MIN_POOL_CHARS = 40
RANDOM_BLOGGER_POSTS = 720
RANDOM_NEWS_POSTS = 150
RETRIEVED_PER_THEME = 60
CHUNKS = 8
SEED = 19

# Stems for retrieval only (the labels come from the readers, never from these).
THEME_STEMS = {
    "mod_criticism": r"минобороны|министерств\w* обороны|шойгу|герасимов|генштаб|паркетн|генерал",
    "wagner_vs_army": r"вагнер|пригожин|чвк|музыкант",
    "chechen_feud": r"кадыров|ахмат|чечен|тикток|алаудинов|делимханов",
    "kremlin_criticism": r"кремл|путин|правительств|чиновни|элит|власт",
    "retreat_admission": r"отступ|оставил|отход|прорыв|прорвал|перегруппир|сдали|потерял",
    "command_chaos": r"бардак|неразбериха|хаос|взаимодейств|бестолков|приказ",
    "supply_shortage": r"снаряд|боеприпас|нехватк|не хватает|дефицит|обеспечени",
    "escalation_demand": r"мобилизац|военное положение|национализ|жестче|жёстче|ударить по|бить по",
}


@dataclass(frozen=True)
class SampledPost:
    """One post drawn for annotation: where it lives, its text, how it was drawn."""

    source: str
    ref: str
    text: str
    sampled: str


def draw(shared_dir: Path) -> list[SampledPost]:
    """The whole sample, in a seeded random order."""
    rng = random.Random(SEED)
    posts = _milblog_posts(shared_dir) + _demo_posts()
    seen = {text_hash(p.text) for p in posts}
    pool = _pool_posts(shared_dir, seen)
    pilot = _pilot_marks(shared_dir)
    chosen = {p.ref for p in pool if text_hash(p.text) in pilot}
    posts += [SampledPost(p.source, p.ref, p.text, "pilot:" + pilot[text_hash(p.text)])
              for p in pool if p.ref in chosen]
    bloggers = [p for p in pool if p.sampled == "blogger" and p.ref not in chosen]
    news = [p for p in pool if p.sampled == "news" and p.ref not in chosen]
    for label, group, count in (("random", bloggers, RANDOM_BLOGGER_POSTS),
                                ("random:news", news, RANDOM_NEWS_POSTS)):
        for post in rng.sample(group, count):
            chosen.add(post.ref)
            posts.append(SampledPost(post.source, post.ref, post.text, label))
    for theme, stems in THEME_STEMS.items():
        matching = [p for p in bloggers if p.ref not in chosen and re.search(stems, p.text.lower())]
        for post in rng.sample(matching, min(RETRIEVED_PER_THEME, len(matching))):
            chosen.add(post.ref)
            posts.append(SampledPost(post.source, post.ref, post.text, f"retrieved:{theme}"))
    rng.shuffle(posts)
    return posts


# Second round: posts nearest (e5 cosine) to the first round's agreed positives, for the labels
# the first round found too rarely; how many to add for each.
NEIGHBOURS_WANTED = {"stance:alarmed": 90, "retreat_admission": 70, "command_chaos": 70,
                     "escalation_demand": 50, "chechen_feud": 30}


def draw_neighbours(shared_dir: Path, annotated: AnnotatedPosts, embedder: Embedder
                    ) -> list[SampledPost]:
    """Unannotated pool blogger posts nearest to the posts both readings put under a rare
    label (sampled ``neighbour:<label>``): the labels still come from new readings."""
    seen = {text_hash(text) for text in annotated.texts}
    pool = [p for p in _pool_posts(shared_dir, seen) if p.sampled == "blogger"]
    vectors = _post_vectors(embedder, [p.text for p in pool])
    seeds = {label: [i for i, (a, b) in enumerate(zip(annotated.first, annotated.second,
                                                      strict=True))
                     if _carries(a, label) and _carries(b, label)]
             for label in NEIGHBOURS_WANTED}
    seed_vectors = _post_vectors(embedder, annotated.texts)
    chosen: dict[str, SampledPost] = {}
    for label, wanted in NEIGHBOURS_WANTED.items():
        if not seeds[label]:
            continue
        nearness = (vectors @ seed_vectors[seeds[label]].T).max(axis=1)
        ranked = [pool[i] for i in np.argsort(-nearness)]
        for post in [p for p in ranked if p.ref not in chosen][:wanted]:
            chosen[post.ref] = SampledPost(post.source, post.ref, post.text, f"neighbour:{label}")
    posts = list(chosen.values())
    random.Random(SEED).shuffle(posts)
    return posts


def _carries(reading: Reading, label: str) -> bool:
    if label.startswith("stance:"):
        return reading.stance == label.removeprefix("stance:")
    return label in reading.themes


def _post_vectors(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Each text's windows' normalised mean embedding (passage:)."""
    from classifiers.classifier import PostWindows

    windows = PostWindows.of(texts)
    embedded = embedder.embed(windows.texts, kind="passage")
    means = np.stack([embedded[a:b].mean(axis=0) for a, b in windows.spans])
    return means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-9)


def _milblog_posts(shared_dir: Path) -> list[SampledPost]:
    path = shared_dir / "milblog-criticism" / "dev.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [(row.get("message") or "").strip() for row in csv.DictReader(handle)]
    return [SampledPost("milblog", str(i), text, "all") for i, text in enumerate(rows) if text]


def _demo_posts() -> list[SampledPost]:
    lists = tomllib.loads(DEMO_CORPUS.read_text(encoding="utf-8"))["posts"]
    return [SampledPost("demo", f"{name}/{i}", text.strip(), "all")
            for name, texts in lists.items() for i, text in enumerate(texts)]


def _pool_posts(shared_dir: Path, seen: set[str]) -> list[SampledPost]:
    """Pool posts long enough to judge, each text once (reposts share a text, and one text in
    two folds would leak); ``sampled`` holds the role until a draw names it."""
    path = shared_dir / "milblog-pool" / "pool.csv.gz"
    posts = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = (row["message"] or "").strip()
            if len(text) >= MIN_POOL_CHARS and text_hash(text) not in seen:
                seen.add(text_hash(text))
                posts.append(SampledPost("pool", f"{row['channel']}/{row['id']}", text,
                                         row["role"]))
    return posts


def _pilot_marks(shared_dir: Path) -> dict[str, str]:
    path = shared_dir / "milblog-pool" / "pilot_annotations.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["sha1_12"]: row["sampled"] for row in csv.DictReader(handle)}


def write(posts: list[SampledPost], out_dir: Path, chunks: int = CHUNKS) -> None:
    """sample.csv (no text) and the readers' chunks (posts dealt round-robin)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "sample.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(["uid", "source", "ref", "sha1", "sampled", "chunk"])
        for uid, post in enumerate(posts):
            writer.writerow([uid, post.source, post.ref, text_hash(post.text), post.sampled,
                             uid % chunks])
    for chunk in range(chunks):
        lines = [f"=== POST {uid} ===\n{post.text}\n" for uid, post in enumerate(posts)
                 if uid % chunks == chunk]
        (out_dir / f"chunk-{chunk:02d}.txt").write_text("\n".join(lines), encoding="utf-8")


ANNOTATION_COLUMNS = ["source", "ref", "sha1", "sampled", "stance_1", "stance_2", "stance",
                      "themes_1", "themes_2", "themes"]


def _readings(folder: Path) -> dict[str, tuple[str, str]]:
    """uid → (stance, sorted ';'-joined themes) from every CSV a reading pass wrote there."""
    readings = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                themes = sorted({t.strip() for t in (row["themes"] or "").split(";") if t.strip()})
                readings[row["uid"].strip()] = (row["stance"].strip(), ";".join(themes))
    return readings


def merge(work_dir: Path, annotations: Path) -> int:
    """Append the posts of ``work_dir/sample.csv`` that both passes (``passA/``, ``passB/``)
    read to ``annotations``: settled where they agree, else by the third reading
    (``adjud/``); a disagreement not yet settled stops the merge. Returns rows written."""
    first, second = _readings(work_dir / "passA"), _readings(work_dir / "passB")
    third = _readings(work_dir / "adjud")
    with (work_dir / "sample.csv").open(encoding="utf-8", newline="") as handle:
        sample = list(csv.DictReader(handle))
    rows = []
    for post in sample:
        uid = post["uid"]
        a, b = first[uid], second[uid]
        settled = a if a == b else third.get(uid)
        if settled is None:
            raise ValueError(f"post {uid}: the passes disagree and no third reading settles it")
        rows.append([post["source"], post["ref"], post["sha1"], post["sampled"], a[0], b[0],
                     settled[0], a[1], b[1], settled[1]])
    new_file = not annotations.exists()
    with annotations.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if new_file:
            writer.writerow(ANNOTATION_COLUMNS)
        writer.writerows(rows)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--merge-into", type=Path, metavar="ANNOTATIONS",
                        help="instead of drawing: merge the readings under OUT_DIR into this file")
    parser.add_argument("--neighbours-of", type=Path, metavar="ANNOTATIONS",
                        help="instead of the first draw: the second round, posts nearest to "
                             "these annotations' agreed positives of rare labels")
    parser.add_argument("--chunks", type=int, default=CHUNKS)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    if args.neighbours_of:
        from classifiers.training.datasets import load_annotations
        from classifiers.training.train import training_encoder
        from config.settings import load_settings

        annotated = load_annotations(args.neighbours_of, args.shared, DEMO_CORPUS)
        posts = draw_neighbours(args.shared, annotated, training_encoder(load_settings()))
        write(posts, args.out_dir, args.chunks)
        print(f"{len(posts)} posts in {args.chunks} chunks under {args.out_dir}")
        return
    if args.merge_into:
        count = merge(args.out_dir, args.merge_into)
        print(f"{count} annotated posts appended to {args.merge_into}")
        return
    posts = draw(args.shared)
    write(posts, args.out_dir, args.chunks)
    print(f"{len(posts)} posts in {args.chunks} chunks under {args.out_dir}")


if __name__ == "__main__":
    main()
