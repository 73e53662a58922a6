"""Read and write OPML feed lists (the format feed readers exchange); no store access."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import ElementTree as SafeElementTree
from pydantic import ValidationError

from config.errors import RiftwatchError
from config.feeds import FeedConfig, FeedRole


class OpmlError(RiftwatchError, ValueError):
    """The file is not OPML we can read."""


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", text.strip()).strip("-").lower()
    return slug[:64] or "feed"


def read_opml(path: Path, role: FeedRole) -> list[FeedConfig]:
    """Every ``outline`` with an ``xmlUrl`` becomes an RSS feed with the given role."""
    try:
        root = SafeElementTree.parse(path).getroot()
    except Exception as exc:  # defusedxml raises several types; all mean "not readable OPML"
        raise OpmlError(f"{path}: not readable OPML ({exc})") from None
    feeds: list[FeedConfig] = []
    names: set[str] = set()
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl")
        if not url:
            continue
        title = outline.get("title") or outline.get("text") or url
        name = _slug(title)
        while name in names:
            name = f"{name[:60]}-{len(names)}"
        names.add(name)
        feeds.append(_feed_config(path, name, role, url, title))
    return feeds


def _feed_config(path: Path, name: str, role: FeedRole, url: str, title: str) -> FeedConfig:
    """One outline as a feed; OpmlError naming the outline when it cannot be one."""
    try:
        return FeedConfig(name=name, kind="rss", role=role, url=url, title=title)
    except ValidationError as exc:
        problem = str(exc.errors()[0].get("msg", "invalid"))
        raise OpmlError(f"{path}: outline {title[:60]!r}: {problem}; nothing was imported "
                        "(fix or remove the outline)") from None


def write_opml(feeds: list[FeedConfig], title: str = "riftwatch feeds") -> bytes:
    """OPML 2.0 with one outline per feed; role and kind kept in ``category``."""
    root = Element("opml", version="2.0")
    head = SubElement(root, "head")
    SubElement(head, "title").text = title
    body = SubElement(root, "body")
    for feed in feeds:
        SubElement(body, "outline", type="rss", text=feed.title or feed.name,
                   title=feed.title or feed.name, xmlUrl=feed.fetch_url,
                   category=f"{feed.kind}/{feed.role}")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8")
