"""Parse RSS/Atom bytes into ``Item``s with feedparser: title, link, guid, UTC time, plain text.

A parser only: it is handed bytes and never lets feedparser fetch anything.
"""

from __future__ import annotations

import calendar
import io
import logging
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import defusedxml.ElementTree
import feedparser
from defusedxml import DefusedXmlException

from monitors.charsets import decide_charset, declared_in_document, header_charset
from monitors.errors import InvalidFeed, NotAFeed
from monitors.html_text import html_to_text
from store.models import Item

log = logging.getLogger(__name__)

_HTML_HINT = re.compile(rb"<\s*(?:!doctype\s+html|html[\s>]|body[\s>]|head[\s>])", re.IGNORECASE)
# feedparser flags these but parses fine: a wrong Content-Type, a charset it overrode.
_BENIGN_BOZO = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)
_DOCTYPE = re.compile(rb"<!\s*doctype", re.IGNORECASE)
_ROOT_END = re.compile(rb"</\s*(?:[\w-]+:)?(?:rss|feed|RDF)\s*>", re.IGNORECASE)
_ENTRY_END = re.compile(rb"</\s*(?:[\w-]+:)?(?:item|entry)\s*>", re.IGNORECASE)
# Closing tags only, the last perhaps without its '>' (what follows a feed's last entry).
_CLOSING_TAGS_ONLY = re.compile(rb"(?:\s*</\s*[\w:.-]+\s*>)*\s*(?:</\s*[\w:.-]*\s*)?")


def _utf16_head(body: bytes) -> bytes:
    """The first KiB, re-encoded to ASCII-ish bytes when the document is UTF-16/32."""
    head = body[:4096]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00<" in head[:8] or b"<\x00" in head[:8]:
        for codec in ("utf-16", "utf-16-le", "utf-16-be"):
            try:
                return head.decode(codec, errors="ignore").encode("utf-8", errors="ignore")
            except UnicodeError:
                continue
    return head


def refuse_entity_declarations(body: bytes, url: str | None = None) -> None:
    """Raise ``InvalidFeed`` if the document's DTD declares entities (billion laughs, XXE).

    Only documents with a DOCTYPE are checked (cheaply skipped otherwise); the check parses with
    defusedxml, which stops at the first entity declaration without expanding anything.
    """
    head = _utf16_head(body)
    if not _DOCTYPE.search(head) and not _DOCTYPE.search(body[:65536]):
        return
    try:
        defusedxml.ElementTree.fromstring(body, forbid_dtd=False, forbid_entities=True,
                                          forbid_external=True)
    except DefusedXmlException as exc:
        raise InvalidFeed(f"refused: the feed declares XML entities ({type(exc).__name__})",
                          url=url) from None
    except Exception:  # malformed XML is feedparser's to judge, not this check's
        return


def _utc(parsed: time.struct_time | None) -> datetime | None:
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _language(entry: dict[str, Any], feed_language: str | None) -> str | None:
    for key in ("title_detail", "summary_detail"):
        detail = entry.get(key) or {}
        if detail.get("language"):
            return _primary_language(detail["language"])
    for content in entry.get("content") or []:
        if content.get("language"):
            return _primary_language(content["language"])
    return _primary_language(feed_language) if feed_language else None


def _primary_language(tag: str) -> str | None:
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def _entry_html(entry: dict[str, Any]) -> str:
    """The fullest body: the longest content block, else the summary."""
    contents = [c.get("value") or "" for c in entry.get("content") or []]
    best = max(contents, key=len, default="")
    summary = entry.get("summary") or ""
    return best if len(best) >= len(summary) else summary


def _web_link(value: str | None) -> str | None:
    """An http(s) link, or None (feedparser may offer an Atom ``tag:`` id as the link)."""
    link = (value or "").strip()
    return link if link.lower().startswith(("http://", "https://")) else None


def _clean(value: str | None) -> str | None:
    text = html_to_text(value) if value else ""
    return text or None


def entry_to_item(entry: dict[str, Any], feed_language: str | None = None,
                  base_url: str | None = None) -> Item:
    """One feedparser entry as an ``Item`` (times in UTC, text stripped of HTML).

    A relative link is resolved against ``base_url``; the guid is kept as written, so an item's
    key does not change when the feed moves to another URL.
    """
    published = _utc(entry.get("published_parsed")) or _utc(entry.get("updated_parsed"))
    link = (entry.get("link") or "").strip()
    link = _web_link(urljoin(base_url, link) if base_url and link else link)
    return Item(
        text=html_to_text(_entry_html(entry)),
        url=link,
        title=_clean(entry.get("title")),
        guid=(entry.get("id") or "").strip() or None,
        author=_clean(entry.get("author")),
        published_at=published,
        language=_language(entry, feed_language),
    )


def _is_cut_off(parsed: Any, body: bytes) -> bool:
    """True when feedparser hit a real XML error and the root element never closes.

    A body cut short on the wire (a dropped connection without Content-Length) parses
    "leniently" into items whose last guid or text is truncated; storing those would invent
    items with the wrong key and a half text. Malformed but complete feeds are still accepted.
    """
    problem = parsed.get("bozo_exception")
    if not parsed.get("version") or not parsed.get("bozo") or isinstance(problem, _BENIGN_BOZO):
        return False
    head = body[:8]
    utf16 = head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00<" in head or b"<\x00" in head
    tail = _utf16_tail(body) if utf16 else body[-2048:]
    return _ROOT_END.search(tail) is None and not _entries_complete(tail)


def _entries_complete(tail: bytes) -> bool:
    """True when only closing tags follow the last entry's end (``</rss`` lacking its ``>``):
    every entry is whole, so the feed is read although its root never closes properly."""
    ends = list(_ENTRY_END.finditer(tail))
    return bool(ends) and _CLOSING_TAGS_ONLY.fullmatch(tail[ends[-1].end():]) is not None


def _utf16_tail(body: bytes) -> bytes:
    codec = "utf-16-be" if body[:2] == b"\xfe\xff" or body[:1] == b"\x00" else "utf-16-le"
    end = len(body) - len(body) % 2
    return body[max(0, end - 4096):end].decode(codec, errors="ignore").encode("ascii", "ignore")


def _headers_for(body: bytes, content_type: str | None) -> dict[str, str]:
    """The response headers feedparser reads, with the charset ``decide_charset`` chose.

    A wrong or missing declaration (a KOI8-R feed served with none, cp1251 sent as UTF-8)
    would otherwise be read as windows-1252 or 1251 mojibake. UTF-16/32 is left to feedparser,
    which reads the byte-order mark itself.
    """
    charset = decide_charset(body, [header_charset(content_type), declared_in_document(body)])
    if charset.startswith(("utf-16", "utf-32")):
        return {"content-type": content_type} if content_type else {}
    return {"content-type": f"application/xml; charset={charset}"}


def _raise_unparseable(parsed: Any, body: bytes, url: str | None) -> None:
    if not parsed.get("version") and _HTML_HINT.search(body[:65536]):
        raise NotAFeed("expected an RSS/Atom feed, got an HTML page", url=url)
    problem = parsed.get("bozo_exception")
    if parsed.get("bozo") and not isinstance(problem, _BENIGN_BOZO):
        reason = str(problem or "unknown error").splitlines()[0][:200]
        raise InvalidFeed(f"not a valid RSS/Atom feed: {reason}", url=url)
    if not parsed.get("version"):
        what = "an empty response" if not body.strip() else "something that is not RSS or Atom"
        raise NotAFeed(f"expected an RSS/Atom feed, got {what}", url=url)


def _feedparse(body: bytes, headers: dict[str, str]) -> Any:
    # A stream, not bytes: feedparser would open() bytes that look like a file path.
    # No sanitising or URI rewriting inside content: the HTML is reduced to plain text anyway.
    return feedparser.parse(io.BytesIO(body), response_headers=headers,
                            sanitize_html=False, resolve_relative_uris=False)


def parse_feed(body: bytes, content_type: str | None = None, url: str | None = None) -> list[Item]:
    """Parse RSS/Atom ``body`` into items; raise ``NotAFeed`` / ``InvalidFeed`` if it is neither.

    A well-formed feed with no entries gives an empty list, not an error; entries with no
    title, link, id or text are dropped (they would all share one content-hash key).
    """
    refuse_entity_declarations(body, url)
    parsed = _feedparse(body, _headers_for(body, content_type))
    if _is_cut_off(parsed, body):
        reason = str(parsed.get("bozo_exception")).splitlines()[0][:200]
        raise InvalidFeed(f"not a valid RSS/Atom feed: cut off before its end ({reason})", url=url)
    feed_language = parsed.feed.get("language")
    items = [item for item in (entry_to_item(entry, feed_language, url) for entry in parsed.entries)
             if item.title or item.url or item.guid or item.text]
    if not items:
        _raise_unparseable(parsed, body, url)
        return []
    if parsed.get("bozo"):
        log.debug("feed %s parsed leniently: %s", url, parsed.get("bozo_exception"))
    return items
