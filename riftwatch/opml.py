"""Read and write OPML feed lists (the format feed readers exchange), and import one through
the one door for new feeds (``monitors.feed_admission.watch_feed``); never fetches a feed.

riftwatch's own files keep each feed's kind and role in ``category`` (``telegram/blogger``)
and its name in a ``riftwatch:name`` attribute, so an export imports back as the same feeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

import sqlite_utils
from defusedxml import ElementTree as SafeElementTree

from config.errors import RiftwatchError
from config.feeds import FEED_KINDS, FEED_ROLES, FeedConfig, FeedRole, feed_from_source
from config.settings import Settings
from digest.printable import printable
from store.models import FeedState

NAMESPACE = "urn:riftwatch:opml"
NAME_ATTRIBUTE = f"{{{NAMESPACE}}}name"
register_namespace("riftwatch", NAMESPACE)


class OpmlError(RiftwatchError, ValueError):
    """The file is not OPML we can read."""


@dataclass(frozen=True)
class Outline:
    """One outline with an ``xmlUrl``: the feed it asks for, or why it cannot be one.

    ``named``: the file gave the feed's name; else the name is made up (``import_opml`` makes
    it one no other feed holds).
    """

    label: str
    feed: FeedConfig | None = None
    problem: str | None = None
    named: bool = False


@dataclass
class OpmlImport:
    """What an import did: the feeds added and the outlines refused, each with its reason."""

    added: list[FeedState] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text.strip()).strip("-.").lower()[:64]


def _free_name(wanted: str, taken: set[str]) -> str:
    """``wanted``, else ``wanted-2``, ``wanted-3`` …: the first not in ``taken``."""
    name, number = wanted, 1
    while name in taken:
        number += 1
        name = f"{wanted[:60]}-{number}"
    return name


def _category(outline: Element) -> tuple[str | None, FeedRole | None]:
    """Kind and role from a ``kind/role`` entry of ``category``, as riftwatch writes it."""
    for entry in (outline.get("category") or "").split(","):
        kind, _, listed = entry.strip().partition("/")
        role = next((role for role in FEED_ROLES if role == listed), None)
        if kind in FEED_KINDS and role is not None:
            return kind, role
    return None, None


def _outline(outline: Element, url: str, role: FeedRole | None) -> Outline:
    """One outline as the feed ``feeds add`` would make of its address, or why it cannot be."""
    name = outline.get(NAME_ATTRIBUTE)
    # riftwatch's own files give a feed's title in ``title`` alone (none: no title); other
    # readers' files often name a feed in ``text`` only
    title = (outline.get("title") if name is not None
             else outline.get("title") or outline.get("text")) or None
    label = f"{title[:60]!r} {url[:200]!r}" if title else repr(url[:200])
    kind, listed_role = _category(outline)
    try:
        feed = feed_from_source(url, role=role or listed_role, name=name, title=title)
    except ValueError as exc:
        return Outline(label, problem=str(exc).removeprefix(f"cannot add {url}: "))
    if kind is not None and feed.kind != kind:
        return Outline(label, problem=f"its category says {kind} but the address is {feed.kind}")
    if name is None and feed.kind == "rss":  # a made-up name: the title's, else the host's
        feed = feed.model_copy(update={"name": _slug(title or "") or feed.name})
    return Outline(label, feed=feed, named=name is not None)


def read_opml(path: Path, role: FeedRole | None = None) -> list[Outline]:
    """Every ``outline`` with an ``xmlUrl``, in file order, as the feed it asks for.

    A ``t.me`` channel address is a telegram feed. The name is ``riftwatch:name`` when the
    file gives one, else the channel's, or a slug of the title or of the host. ``role`` (if
    given) overrides the file's; else the file's, else the default of ``feeds add``.
    OpmlError when the file is not readable OPML.
    """
    try:
        root = SafeElementTree.parse(path).getroot()
    except Exception as exc:  # defusedxml raises several types; all mean "not readable OPML"
        raise OpmlError(f"{path}: not readable OPML ({exc})") from None
    return [_outline(outline, url, role) for outline in root.iter("outline")
            if (url := (outline.get("xmlUrl") or "").strip())]


def import_opml(db: sqlite_utils.Database, outlines: list[Outline],
                settings: Settings) -> OpmlImport:
    """Add each outline's feed that the rule for new feeds lets in (``watch_feed``, as
    ``feeds add`` does); refuse, with the reason, each one it does not: a bad outline, a
    private address, a name the file gave or a source that another feed already holds. A
    made-up name is changed to one no feed holds."""
    from monitors.errors import MonitorError
    from monitors.feed_admission import watch_feed
    from store.feeds import FeedConflict, feed_names

    taken = feed_names(db)
    report = OpmlImport()
    for outline in outlines:
        if outline.feed is None:
            report.refused.append((outline.label, outline.problem or "not a feed"))
            continue
        feed = outline.feed if outline.named else outline.feed.model_copy(
            update={"name": _free_name(outline.feed.name, taken)})
        try:
            report.added.append(watch_feed(db, feed, settings))
        except FeedConflict as exc:
            report.refused.append((outline.label, str(exc)))
        except MonitorError as exc:
            report.refused.append((outline.label, exc.message))
        taken.add(feed.name)
    return report


def write_opml(feeds: list[FeedConfig], title: str = "riftwatch feeds") -> bytes:
    """OPML 2.0 with one outline per feed: kind and role in ``category``, the name in
    ``riftwatch:name``, the title (if any) in ``title``; ``text`` shows the title, else the
    name. Titles and addresses are written ``printable`` (no control or bidi characters, the
    ones XML cannot hold among them), as everything riftwatch writes for people."""
    root = Element("opml", version="2.0")
    head = SubElement(root, "head")
    SubElement(head, "title").text = title
    body = SubElement(root, "body")
    for feed in feeds:
        own_title = {"title": printable(feed.title)} if feed.title else {}
        SubElement(body, "outline", {"type": "rss", **own_title,
                                     "text": printable(feed.title or "") or feed.name,
                                     "xmlUrl": printable(feed.fetch_url),
                                     "category": f"{feed.kind}/{feed.role}",
                                     NAME_ATTRIBUTE: feed.name})
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8")
