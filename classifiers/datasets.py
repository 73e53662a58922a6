"""Readers for labelled texts: the shared data folder's sets (paths given by callers) and the
analysts' /label feedback in a store.

Only reads into plain lists; never trains or scores, never copies data into the package.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

from config.themes import RIFT_THEMES, Taxonomy
from store.db import open_db
from store.labels import labelled_items, latest_stance_labels

csv.field_size_limit(sys.maxsize)

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


STANCE_ANNOTATIONS = Path(__file__).resolve().parent / "annotations" / "stance_annotations.csv"


@dataclass
class AnnotatedStances(LabelledTexts):
    """The four-stance annotated posts: the settled label, both annotators' labels, a source."""

    first: list[str]
    second: list[str]


def load_stance_annotations(
    annotations: Path, shared_dir: Path, demo_corpus: Path
) -> AnnotatedStances:
    """The annotated set: each row names its post (milblog row, saved t.me page and post id,
    or demo corpus list and index) and the post's text hash; the text is read from its source
    and must still hash the same (ValueError otherwise). Groups hold the source."""
    texts = _annotated_sources(shared_dir, demo_corpus)
    data = AnnotatedStances([], [], [], [], [])
    with Path(annotations).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = texts[row["source"]].get(row["ref"])
            if text is None or text_hash(text) != row["sha1"]:
                raise ValueError(f"{annotations}: {row['source']} {row['ref']} is not the "
                                 "annotated text (missing or changed)")
            data.texts.append(text)
            data.labels.append(row["stance"])
            data.groups.append(row["source"])
            data.first.append(row["annotator_1"])
            data.second.append(row["annotator_2"])
    return data


def text_hash(text: str) -> str:
    """The short hash that ties an annotation to the text it was made on."""
    import hashlib

    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _annotated_sources(shared_dir: Path, demo_corpus: Path) -> dict[str, dict[str, str]]:
    return {
        "milblog": _milblog_rows(Path(shared_dir)),
        "tme": _saved_channel_posts(Path(shared_dir) / "tme-pages"),
        "demo": _demo_posts(Path(demo_corpus)),
    }


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


def load_store_labels(db_path: Path) -> LabelledTexts:
    """Analysts' /label stance feedback from a store: ``critical`` / ``not_critical``.

    The newest stance label per item counts; theme and ``wrong`` labels are not used here.
    """
    db = open_db(db_path)
    try:
        chosen = latest_stance_labels(labelled_items(db))
    finally:
        db.conn.close()
    return LabelledTexts(
        texts=[label.text for label in chosen],
        labels=["critical" if label.label == "critical" else "not_critical" for label in chosen],
        groups=[label.feed for label in chosen],
    )


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
