"""Readers for labelled texts: the shared data folder's sets (paths given by callers) and the
analysts' /label feedback in a store.

Only reads into plain lists; never trains or scores, never copies data into the package.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from classifiers.text_hash import text_hash
from config.themes import RIFT_THEMES, Taxonomy
from store.db import open_db
from store.labels import labelled_items, latest_stance_labels

TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f"}


def parse_bool_label(value: str) -> bool:
    """``1/0``, ``true/false`` (any case), ``yes/no`` to a bool; ValueError otherwise."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"not a yes/no label: {value!r}")


@dataclass
class LabelledTexts:
    """Texts with one label each (and an optional group, e.g. the channel)."""

    texts: list[str]
    labels: list[str]
    groups: list[str]


@dataclass
class EntitySentence:
    """One RuSentNE row: a sentence, the entity span and sentiment toward it (-1/0/1)."""

    sentence: str
    entity: str
    start: int
    end: int
    label: int


def load_milblog(shared_dir: Path) -> LabelledTexts:
    """``milblog-criticism/dev.csv``: labels ``critical`` / ``not_critical``."""
    path = Path(shared_dir) / "milblog-criticism" / "dev.csv"
    texts, labels, groups = [], [], []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = (row.get("message") or "").strip()
            if not text:
                continue
            texts.append(text)
            labels.append("critical" if parse_bool_label(row["is_criticism"]) else "not_critical")
            groups.append(row.get("channel_name") or "")
    return LabelledTexts(texts, labels, groups)


ANNOTATIONS = Path(__file__).resolve().parents[1] / "annotations" / "annotations.csv"
# The demo corpus ships with the package (riftwatch/demo_corpus); some annotated posts are its.
DEMO_CORPUS = Path(__file__).resolve().parents[2] / "riftwatch" / "demo_corpus" / "corpus.toml"
RANDOM_SAMPLES = ("all", "random", "random:news", "pilot:random")  # drawn without looking


@dataclass
class Reading:
    """One annotator's labels of one post: its stance and the themes it found present."""

    stance: str
    themes: frozenset[str]


@dataclass
class AnnotatedPosts:
    """The stance-and-themes annotated set: per post its text, source, how it was sampled,
    both independent readings and the settled labels (third reading where they disagreed)."""

    texts: list[str]
    sources: list[str]
    sampled: list[str]
    first: list[Reading]
    second: list[Reading]
    settled: list[Reading]

    @property
    def stances(self) -> list[str]:
        return [reading.stance for reading in self.settled]

    def has_theme(self, theme: str) -> list[bool]:
        return [theme in reading.themes for reading in self.settled]

    def is_random(self) -> list[bool]:
        """Whether each post was drawn at random (not retrieved as a likely positive)."""
        return [how in RANDOM_SAMPLES for how in self.sampled]

    def plus(self, other: AnnotatedPosts) -> AnnotatedPosts:
        return AnnotatedPosts(*(getattr(self, f) + getattr(other, f) for f in
                                ("texts", "sources", "sampled", "first", "second", "settled")))


def milblog_is_criticism(data: AnnotatedPosts, shared_dir: Path) -> list[bool | None]:
    """Per annotated post, its milblog source row's own ``is_criticism`` label (matched by
    text); None for posts from elsewhere."""
    milblog = load_milblog(shared_dir)
    original = dict(zip(milblog.texts, milblog.labels, strict=True))
    return [original[text] == "critical" if source == "milblog" and text in original else None
            for text, source in zip(data.texts, data.sources, strict=True)]


def _themes(cell: str) -> frozenset[str]:
    return frozenset(name.strip() for name in (cell or "").split(";") if name.strip())


def load_annotations(annotations: Path, shared_dir: Path, demo_corpus: Path) -> AnnotatedPosts:
    """The annotated set: each row names its post (milblog row, pool channel/id, demo list and
    index, saved t.me page and post id) and the post's text hash; the text is read from its
    source and must still hash the same (ValueError otherwise)."""
    texts = _annotated_sources(shared_dir, demo_corpus)
    data = AnnotatedPosts([], [], [], [], [], [])
    with Path(annotations).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = texts[row["source"]].get(row["ref"])
            if text is None or text_hash(text) != row["sha1"]:
                raise ValueError(f"{annotations}: {row['source']} {row['ref']} is not the "
                                 "annotated text (missing or changed)")
            data.texts.append(text)
            data.sources.append(row["source"])
            data.sampled.append(row["sampled"])
            for suffix, readings in (("_1", data.first), ("_2", data.second), ("", data.settled)):
                readings.append(Reading(row[f"stance{suffix}"], _themes(row[f"themes{suffix}"])))
    return data


def _annotated_sources(shared_dir: Path, demo_corpus: Path) -> dict[str, dict[str, str]]:
    return {
        "milblog": _milblog_rows(Path(shared_dir)),
        "tme": _saved_channel_posts(Path(shared_dir) / "tme-pages"),
        "demo": _demo_posts(Path(demo_corpus)),
        "pool": _pool_rows(Path(shared_dir)),
    }


def _pool_rows(shared_dir: Path) -> dict[str, str]:
    """``CHANNEL/ID`` → text for the unlabelled pool (``milblog-pool/pool.csv.gz``)."""
    import gzip

    path = shared_dir / "milblog-pool" / "pool.csv.gz"
    if not path.is_file():
        return {}
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return {f"{row['channel']}/{row['id']}": (row["message"] or "").strip()
                for row in csv.DictReader(handle)}


def _milblog_rows(shared_dir: Path) -> dict[str, str]:
    path = shared_dir / "milblog-criticism" / "dev.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return {str(i): (row.get("message") or "").strip()
                for i, row in enumerate(csv.DictReader(handle))}


def _saved_channel_posts(folder: Path) -> dict[str, str]:
    """``FILE#POST_ID`` → text for every post the t.me parser reads from the saved pages."""
    from monitors.errors import ParseError
    from monitors.telegram import parse_channel_page

    posts = {}
    for path in sorted(folder.glob("*.html")):
        try:
            page = parse_channel_page(path.read_bytes())
        except ParseError:
            continue  # fragments without a post (a bare photo, a poll widget)
        posts.update({f"{path.name}#{item.post_id}": (item.text or "").strip()
                      for item in page.items})
    return posts


def _demo_posts(corpus: Path) -> dict[str, str]:
    """``LIST/INDEX`` → text for the demo corpus's post lists (sample text we wrote)."""
    import tomllib

    lists = tomllib.loads(corpus.read_text(encoding="utf-8"))["posts"]
    return {f"{name}/{i}": text.strip() for name, posts in lists.items()
            for i, text in enumerate(posts)}


CRITICAL_EXAMPLE_THEMES = (*RIFT_THEMES, "command_chaos")
NOT_CRITICAL_EXAMPLE_THEMES = ("retreat_admission", "escalation_demand")


def taxonomy_examples(taxonomy: Taxonomy) -> LabelledTexts:
    """The taxonomy's own example sentences as weak ``critical`` / ``not_critical`` labels.

    Critical: the critical stance's examples and those of the rift themes and command chaos
    (each attacks the command or the state by the codebook). Not critical: the other stances'
    examples, retreat admissions and calls to escalate. Supply shortages are left out (they
    may lament or blame). Groups hold where each example came from.
    """
    data = LabelledTexts([], [], [])
    for stance in taxonomy.stances:
        _add_examples(data, stance.examples, stance.name == "critical", f"stance:{stance.name}")
    for theme in taxonomy.themes:
        if theme.name in CRITICAL_EXAMPLE_THEMES + NOT_CRITICAL_EXAMPLE_THEMES:
            critical = theme.name in CRITICAL_EXAMPLE_THEMES
            _add_examples(data, theme.examples, critical, f"theme:{theme.name}")
    return data


def _add_examples(data: LabelledTexts, examples: list[str], critical: bool, group: str) -> None:
    for example in examples:
        data.texts.append(example)
        data.labels.append("critical" if critical else "not_critical")
        data.groups.append(group)


STORE_SOURCE = "store"


def load_store_annotations(db_path: Path) -> AnnotatedPosts:
    """Analysts' /label feedback from a store as annotated posts (source ``store``).

    An item counts once an analyst gave it a stance: the newest stance label, and as its themes
    every ``theme:NAME`` label it was given (a theme not labelled is taken as absent). Items
    with theme labels but no stance are left out: nothing says which themes they lack.
    ``wrong`` labels are not used.
    """
    db = open_db(db_path)
    try:
        labels = labelled_items(db)
    finally:
        db.conn.close()
    themes: dict[int, set[str]] = {}
    for label in labels:
        if label.theme is not None:
            themes.setdefault(label.item_id, set()).add(label.theme)
    data = AnnotatedPosts([], [], [], [], [], [])
    for label in latest_stance_labels(labels):
        reading = Reading(label.label, frozenset(themes.get(label.item_id, set())))
        data.texts.append(label.text)
        data.sources.append(STORE_SOURCE)
        data.sampled.append(f"label:{label.feed}")
        for readings in (data.first, data.second, data.settled):
            readings.append(reading)
    return data


def load_ruw_stance(shared_dir: Path, splits: tuple[str, ...] = ("val",)) -> LabelledTexts:
    """``ruw-stance`` tweets with their stance toward Russia (FAVOR / AGAINST / NONE)."""
    texts, labels, groups = [], [], []
    for split in splits:
        path = Path(shared_dir) / "ruw-stance" / f"raw_{split}_Russia_Ukraine.csv"
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            for row in csv.DictReader(handle):
                stance = _stance_toward(row, "Russia")
                text = (row.get("Tweet") or "").strip()
                if stance and text:
                    texts.append(text)
                    labels.append(stance)
                    groups.append(split)
    return LabelledTexts(texts, labels, groups)


def _stance_toward(row: dict[str, str], target: str) -> str | None:
    for index in ("1", "2"):
        if (row.get(f"Target {index}") or "").strip() == target:
            return (row.get(f"Stance {index}") or "").strip().upper() or None
    return None


def load_rusentne(shared_dir: Path) -> list[EntitySentence]:
    """``rusentne/train_data.csv`` (tab-separated despite the name)."""
    path = Path(shared_dir) / "rusentne" / "train_data.csv"
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            try:
                rows.append(
                    EntitySentence(
                        row["sentence"],
                        row["entity"],
                        int(row["entity_pos_start_rel"]),
                        int(row["entity_pos_end_rel"]),
                        int(row["label"]),
                    )
                )
            except (KeyError, TypeError, ValueError):
                continue
    return rows
