"""Extract amplification edges from stored items and scores, incrementally and crash-safe.

Forwards, mentions and quotes come from items past the ``items`` mark; attacks from scores
past the ``scores`` mark (a post is scored after it is stored). Each batch's evidence and
its mark are committed in one transaction, so a run killed between batches resumes where
it stopped, and evidence rows are keyed so nothing is ever counted twice. Never renders.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlite_utils

from amplification.near_duplicates import (
    QuoteMatcher,
    Signed,
    signature_bytes,
    signature_from_bytes,
)
from config import Settings
from config.telegram_names import MENTION, TME_REFERENCE
from store.edges import (
    EdgeEvidence,
    feed_directory,
    insert_evidence,
    item_keys_and_feeds,
    items_after,
    read_mark,
    save_signatures,
    scores_after,
    signatures_between,
    write_mark,
)
from store.models import from_iso, to_iso

ITEMS_STREAM = "items"
SCORES_STREAM = "scores"
# t.me paths that are Telegram's own pages, not channels (the one-segment ones a username
# pattern of 4-32 characters can match).
_NOT_CHANNELS = {"joinchat", "addstickers", "addemoji", "addlist", "share", "proxy", "socks",
                 "setlanguage", "addtheme", "boost", "contact", "invoice", "call"}

BatchHook = Callable[[str, int], None]  # (stream, last id committed): tests interrupt here


@dataclass
class ExtractionReport:
    """What one extraction run read and found (``new``: evidence rows not stored before)."""

    items: int = 0
    scores: int = 0
    found: dict[str, int] = field(default_factory=dict)
    new: int = 0

    def count(self, evidence: list[EdgeEvidence], new: int) -> None:
        for row in evidence:
            self.found[row.kind] = self.found.get(row.kind, 0) + 1
        self.new += new


@dataclass(frozen=True)
class Directory:
    """Watched channels by username and by title, so a reference lands on a feed's name."""

    by_channel: dict[str, str]
    by_title: dict[str, str]

    @classmethod
    def load(cls, db: sqlite_utils.Database) -> Directory:
        rows = feed_directory(db)
        return cls(by_channel={str(channel).lower(): name for name, channel, _ in rows
                               if channel},
                   by_title={title: name for name, _, title in rows if title})

    def channel(self, username: str) -> str:
        return self.by_channel.get(username.lower(), username.lower())


def channel_references(text: str, links: list[str]) -> list[tuple[str, int | None]]:
    """(username, post id or None) for every @mention and t.me link in ``text`` and ``links``,
    post links first, each username once per post id."""
    found: list[tuple[str, int | None]] = []
    for link in [*links, text]:
        for match in TME_REFERENCE.finditer(link):
            found.append((match.group(1), int(match.group(2)) if match.group(2) else None))
    found += [(match.group(1), None) for match in MENTION.finditer(text)]
    usable = [(name, post) for name, post in found
              if name.lower() not in _NOT_CHANNELS and not name.lower().endswith("bot")]
    return sorted(dict.fromkeys(usable), key=lambda ref: ref[1] is None)


def _post_key(username: str, post: int | None) -> str | None:
    return f"tg:{username.lower()}/{post}" if post is not None else None


def forward_evidence(row: dict[str, Any], directory: Directory) -> list[EdgeEvidence]:
    """The forward edge of one item, if it is a forward of another channel's post."""
    refs = channel_references("", [row["forwarded_url"]]) if row["forwarded_url"] else []
    if refs:
        username, post = refs[0]
        target, ref_key = directory.channel(username), _post_key(username, post)
    elif row["forwarded_from"]:
        target = directory.by_title.get(row["forwarded_from"], row["forwarded_from"])
        ref_key = None
    else:
        return []
    if target == row["feed_name"]:
        return []
    return [EdgeEvidence("forward", row["feed_name"], target, row["id"], row["published_at"],
                         ref_key)]


def mention_evidence(row: dict[str, Any], directory: Directory) -> list[EdgeEvidence]:
    """Mention edges of one item's own text (a forward's text is its author's, not the
    forwarder's, so forwards mention nobody)."""
    if row["forwarded_url"] or row["forwarded_from"]:
        return []
    links = json.loads(row["links"]) if row["links"] else []
    own = (row["feed_channel"] or "").lower()
    return [EdgeEvidence("mention", row["feed_name"], directory.channel(name), row["id"],
                         row["published_at"], _post_key(name, post))
            for name, post in channel_references(row["text"] or "", links)
            if name.lower() != own and directory.channel(name) != row["feed_name"]]


RowsAfter = Callable[[sqlite_utils.Database, int, int], list[dict[str, Any]]]


def _batches_after(db: sqlite_utils.Database, read: RowsAfter, key: str, after: int, size: int
                   ) -> Iterator[list[dict[str, Any]]]:
    """The rows ``read`` gives past ``after`` (ordered by ``key``), ``size`` a batch."""
    while True:
        rows = read(db, after, size)
        if not rows:
            return
        yield rows
        after = rows[-1][key]


def _sign_batch(matcher: QuoteMatcher, rows: list[dict[str, Any]]) -> list[Signed]:
    signed = []
    for row in rows:
        if row["forwarded_url"] or row["forwarded_from"]:
            continue  # a forward repeats its original; the forward edge already says so
        values = matcher.signature(row["text"] or "")
        if values is not None:
            signed.append(Signed(row["id"], row["feed_id"], row["published_at"], values))
    return signed


def _signature_pool(db: sqlite_utils.Database, signed: list[Signed], window: timedelta
                    ) -> list[Signed]:
    times = [from_iso(entry.published_at) for entry in signed]
    since = to_iso(min(moment for moment in times if moment) - window) or ""
    until = to_iso(max(moment for moment in times if moment) + window) or ""
    stored = [Signed(item_id, feed_id, published, signature_from_bytes(blob))
              for item_id, feed_id, published, blob in signatures_between(db, since, until)]
    fresh = {entry.item_id for entry in signed}
    return [entry for entry in stored if entry.item_id not in fresh] + signed


def quote_evidence(db: sqlite_utils.Database, matcher: QuoteMatcher, signed: list[Signed],
                   window: timedelta) -> list[EdgeEvidence]:
    """Quote edges between ``signed`` items and stored ones of other feeds within ``window``:
    the later post quotes the earlier one."""
    if not signed:
        return []
    pairs = []
    for query, other, _ in matcher.matches(_signature_pool(db, signed, window), signed):
        later, earlier = sorted((query, other), key=lambda entry: (entry.published_at,
                                                                   entry.item_id), reverse=True)
        if _time_apart(later, earlier) <= window:
            pairs.append((later, earlier))
    return _quote_rows(db, pairs)


def _time_apart(later: Signed, earlier: Signed) -> timedelta:
    first, last = from_iso(earlier.published_at), from_iso(later.published_at)
    return last - first if first and last else timedelta.max


def _quote_rows(db: sqlite_utils.Database, pairs: list[tuple[Signed, Signed]]
                ) -> list[EdgeEvidence]:
    ids = sorted({entry.item_id for pair in pairs for entry in pair})
    if not ids:
        return []
    known = item_keys_and_feeds(db, ids)
    return [EdgeEvidence("quote", known[later.item_id][1], known[earlier.item_id][1],
                         later.item_id, later.published_at, known[earlier.item_id][0])
            for later, earlier in sorted(pairs, key=lambda pair: pair[1].published_at)]


def _extract_items(db: sqlite_utils.Database, settings: Settings, report: ExtractionReport,
                   on_batch: BatchHook | None) -> None:
    directory = Directory.load(db)
    matcher = QuoteMatcher(settings)
    window = timedelta(hours=settings.quote_window_hours)
    for rows in _batches_after(db, items_after, "id", read_mark(db, ITEMS_STREAM),
                               settings.edge_batch_size):
        with db.conn:
            signed = _sign_batch(matcher, rows)
            save_signatures(db, [(entry.item_id, entry.feed_id, entry.published_at,
                                  signature_bytes(entry.hashvalues)) for entry in signed])
            evidence = [edge for row in rows for edge in
                        (*forward_evidence(row, directory), *mention_evidence(row, directory))]
            evidence += quote_evidence(db, matcher, signed, window)
            report.count(evidence, insert_evidence(db, evidence))
            write_mark(db, ITEMS_STREAM, rows[-1]["id"])
        report.items += len(rows)
        if on_batch is not None:
            on_batch(ITEMS_STREAM, rows[-1]["id"])


def attack_evidence(row: dict[str, Any]) -> list[EdgeEvidence]:
    """The channel → target edges of one scored item, from the classifier's stored targets."""
    return [EdgeEvidence("attack", row["feed_name"], str(target), row["item_id"],
                         row["published_at"])
            for target in dict.fromkeys(json.loads(row["targets"] or "[]"))]


def _extract_scores(db: sqlite_utils.Database, settings: Settings, report: ExtractionReport,
                    on_batch: BatchHook | None) -> None:
    for rows in _batches_after(db, scores_after, "score_row", read_mark(db, SCORES_STREAM),
                               settings.edge_batch_size):
        evidence = [edge for row in rows if row["published_at"] for edge in attack_evidence(row)]
        with db.conn:
            report.count(evidence, insert_evidence(db, evidence))
            write_mark(db, SCORES_STREAM, rows[-1]["score_row"])
        report.scores += len(rows)
        if on_batch is not None:
            on_batch(SCORES_STREAM, rows[-1]["score_row"])


def extract_edges(db: sqlite_utils.Database, settings: Settings,
                  on_batch: BatchHook | None = None) -> ExtractionReport:
    """Extract the edges of every item and score stored since the last run."""
    report = ExtractionReport()
    _extract_items(db, settings, report, on_batch)
    _extract_scores(db, settings, report, on_batch)
    return report
