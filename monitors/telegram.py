"""Parse a public channel's ``t.me/s/<channel>`` web preview into ``Item``s and paging info.

A parser only: it reads markup it is handed and never fetches (``monitors.fetch`` pages).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from config.telegram_names import POST_PATH
from monitors.charsets import decode_document
from monitors.errors import ChannelUnavailable, LayoutChanged, ParseError
from monitors.html_text import node_to_text
from store.models import Item

log = logging.getLogger(__name__)

TME_BASE = "https://t.me/"
MESSAGE = "div.tgme_widget_message[data-post]"
# Text blocks inside these belong to something else: a quoted reply, a link preview, or an
# outer text block that already contains them.
_NOT_OWN_TEXT = ("tgme_widget_message_reply", "tgme_widget_message_link_preview",
                 "tgme_widget_message_text")
_NOT_OWN_MEDIA = ("tgme_widget_message_reply", "tgme_widget_message_link_preview")
_MEDIA_SELECTORS: tuple[tuple[str, str], ...] = (
    ("photo", ".tgme_widget_message_photo_wrap"),
    ("video", ".tgme_widget_message_video_player"),
    ("roundvideo", ".tgme_widget_message_roundvideo_player"),
    ("voice", ".tgme_widget_message_voice_player"),
    ("document", ".tgme_widget_message_document_wrap"),
    ("poll", ".tgme_widget_message_poll"),
    ("sticker", ".tgme_widget_message_sticker_wrap"),
)
_TME_LINK = re.compile(r"^(?:https?:)?//(?:www\.)?(?:t|telegram)\.me/", re.IGNORECASE)
_VIEWS_RE = re.compile(r"^([0-9]+(?:[.,][0-9]+)?)\s*([KMB]?)$", re.IGNORECASE)
_MULTIPLIERS = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}
_HTML_END = re.compile(rb"</\s*html\s*>", re.IGNORECASE)


@dataclass(frozen=True)
class LinkPreview:
    url: str | None
    title: str | None
    site: str | None

    def to_json(self) -> str:
        """The form stored in ``items.link_preview``: a JSON object with url, title, site."""
        return json.dumps({"url": self.url, "title": self.title, "site": self.site},
                          ensure_ascii=False)


@dataclass(frozen=True)
class ChannelPage:
    """One parsed preview page: its posts, oldest first, and where the next older page is."""

    channel: str | None
    items: list[Item] = field(default_factory=list)
    lowest_post_id: int | None = None
    before_url: str | None = None


# --- small readers -----------------------------------------------------------------------

def parse_views(text: str | None) -> int | None:
    """"1.2K" -> 1200, "3.4M" -> 3400000, "987" -> 987; None if unreadable."""
    if not text:
        return None
    match = _VIEWS_RE.match(text.strip().replace("\u00a0", ""))
    if not match:
        return None
    try:
        number = Decimal(match.group(1).replace(",", "."))
    except InvalidOperation:
        return None
    return int(number * _MULTIPLIERS[match.group(2).upper()])


def _classes(node: LexborNode) -> list[str]:
    return (node.attributes.get("class") or "").split()


def _owned_by_message(node: LexborNode, foreign: tuple[str, ...]) -> bool:
    """True if no ancestor of ``node`` up to its message carries one of the ``foreign`` classes."""
    parent = node.parent
    while parent is not None and parent.tag != "html":
        classes = _classes(parent)
        if "tgme_widget_message" in classes:
            return True
        if any(name in classes for name in foreign):
            return False
        parent = parent.parent
    return True


def _own(node: LexborNode, selector: str, foreign: tuple[str, ...]) -> list[LexborNode]:
    return [found for found in node.css(selector) if _owned_by_message(found, foreign)]


def _text_of(node: LexborNode | None) -> str | None:
    if node is None:
        return None
    text = node_to_text(node)
    return text or None


def media_kinds(node: LexborNode) -> list[str]:
    """Kinds of the media a message (or fragment) carries, one entry per media element.

    A looping, autoplaying video is reported as ``gif``; media inside a link preview or a quoted
    reply are not the post's own and are left out.
    """
    kinds: list[str] = []
    for kind, selector in _MEDIA_SELECTORS:
        for found in _own(node, selector, _NOT_OWN_MEDIA):
            if kind == "video" and _is_gif(found):
                kind_found = "gif"
            else:
                kind_found = kind
            kinds.append(kind_found)
    if "sticker" not in kinds and _own(node, ".tgme_widget_message_tgsticker", _NOT_OWN_MEDIA):
        kinds.append("sticker")
    return kinds


def _is_gif(player: LexborNode) -> bool:
    video = player.css_first("video")
    return video is not None and "loop" in video.attributes and "autoplay" in video.attributes


def parse_link_preview(node: LexborNode) -> LinkPreview | None:
    """The message's own link preview (or the fragment's), if it has one."""
    found = node if "tgme_widget_message_link_preview" in _classes(node) else None
    if found is None:
        candidates = _own(node, ".tgme_widget_message_link_preview", ("tgme_widget_message_reply",))
        found = candidates[0] if candidates else None
    if found is None:
        return None
    return LinkPreview(
        url=found.attributes.get("href"),
        title=_text_of(found.css_first(".link_preview_title")),
        site=_text_of(found.css_first(".link_preview_site_name")),
    )


def _poll_text(node: LexborNode) -> str:
    poll = node.css_first(".tgme_widget_message_poll")
    if poll is None:
        return ""
    question = _text_of(poll.css_first(".tgme_widget_message_poll_question")) or ""
    options = [_text_of(option) or "" for option in
               poll.css(".tgme_widget_message_poll_option_text")]
    return "\n".join(line for line in [question, *options] if line)


def _message_text(message: LexborNode) -> str:
    blocks = _own(message, ".tgme_widget_message_text", _NOT_OWN_TEXT)
    text = "\n\n".join(filter(None, (_text_of(block) for block in blocks)))
    return text or _poll_text(message)


def _published(message: LexborNode) -> datetime | None:
    stamp = message.css_first(".tgme_widget_message_date time[datetime]")
    if stamp is None:
        stamp = message.css_first(".tgme_widget_message_meta time[datetime]")
    value = stamp.attributes.get("datetime") if stamp is not None else None
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _forwarded_from(message: LexborNode) -> str | None:
    name = message.css_first(".tgme_widget_message_forwarded_from_name")
    if name is not None:
        return _text_of(name)
    text = _text_of(message.css_first(".tgme_widget_message_forwarded_from")) or ""
    return re.sub(r"^Forwarded from\s*", "", text).strip() or None


def _forwarded_url(message: LexborNode) -> str | None:
    """The original post's t.me address from a forward header, when the header links to it."""
    link = message.css_first("a.tgme_widget_message_forwarded_from_name[href]")
    if link is None:
        return None
    return (link.attributes.get("href") or "").strip() or None


def _text_links(message: LexborNode) -> list[str]:
    """t.me addresses the message's own text links to (mentions and post links)."""
    links: list[str] = []
    for block in _own(message, ".tgme_widget_message_text", _NOT_OWN_TEXT):
        for anchor in block.css("a[href]"):
            href = (anchor.attributes.get("href") or "").strip()
            if _TME_LINK.match(href) and href not in links:
                links.append(href)
    return links


def _edited(message: LexborNode) -> bool:
    meta = message.css_first(".tgme_widget_message_meta")
    if meta is None:
        return False
    own = [child.text_content or "" for child in meta.iter(include_text=True)
           if child.tag == "-text"]
    return any("edited" in piece.lower() for piece in own)


# --- a message and a page ----------------------------------------------------------------

def parse_message(message: LexborNode) -> Item | None:
    """One ``div.tgme_widget_message[data-post]`` as an ``Item``; None if its id is unreadable."""
    match = POST_PATH.match((message.attributes.get("data-post") or "").strip())
    if match is None:
        return None
    channel, post_id = match.group(1), int(match.group(2))
    preview = parse_link_preview(message)
    owner = _text_of(message.css_first(".tgme_widget_message_owner_name"))
    signature = _text_of(message.css_first(".tgme_widget_message_from_author"))
    return Item(
        text=_message_text(message),
        url=f"{TME_BASE}{channel}/{post_id}",
        channel=channel,
        post_id=post_id,
        author=signature or owner,
        published_at=_published(message),
        views=parse_views(_text_of(message.css_first(".tgme_widget_message_views"))),
        forwarded_from=_forwarded_from(message),
        forwarded_url=_forwarded_url(message),
        links=_text_links(message),
        link_preview=preview.to_json() if preview is not None else None,
        media=media_kinds(message),
        edited=_edited(message),
    )


def _page_channel(tree: LexborHTMLParser, items: list[Item]) -> str | None:
    if items:
        return items[0].channel
    username = tree.css_first(".tgme_channel_info_header_username a")
    if username is not None:
        return (username.text() or "").strip().lstrip("@") or None
    return None


def _before_url(tree: LexborHTMLParser, base_url: str | None, channel: str | None,
                lowest: int | None) -> str | None:
    more = tree.css_first("a.tme_messages_more[data-before]")
    if more is None:
        return None
    href = more.attributes.get("href")
    if href:
        return urljoin(base_url or TME_BASE, href)
    before = more.attributes.get("data-before") or (str(lowest) if lowest else None)
    return f"{TME_BASE}s/{channel}?before={before}" if channel and before else None


def _check_structure(tree: LexborHTMLParser, url: str | None) -> None:
    """Raise unless an empty page is one Telegram meant to be empty."""
    if tree.css_first(".tme_no_messages_found") is not None:
        return
    if tree.css_first("[data-post]") is not None:
        raise LayoutChanged("t.me page layout changed: posts found but not in "
                            "div.tgme_widget_message (update monitors/telegram.py)", url=url)
    if tree.css_first(".tgme_channel_info, .tgme_channel_history") is not None:
        return
    if tree.css_first(".tgme_page, .tgme_page_title") is not None:
        raise ChannelUnavailable("channel has no public web preview (t.me/s shows no posts)",
                                 url=url)
    raise LayoutChanged("t.me page layout changed: no posts, no channel header and no "
                        "'no messages' marker (update monitors/telegram.py)", url=url)


def _decode(html: bytes | str, charset: str | None) -> str:
    """The page as text: t.me serves UTF-8, but the charset is decided, not assumed."""
    return html if isinstance(html, str) else decode_document(html, charset)


def ensure_complete_page(html: bytes, url: str | None = None) -> None:
    """Raise ``ParseError`` if a fetched page stops before ``</html>`` (cut off on the wire).

    Lenient HTML parsing would otherwise store the last post with half its text (and later
    flag it as edited). Saved fragments are not pages; only fetched pages are checked.
    """
    if _HTML_END.search(html[-4096:]) is None:
        raise ParseError("t.me page is cut off before </html> (connection dropped?)", url=url)


def _check_content(items: list[Item], url: str | None) -> None:
    """Posts found, but not one with text, media or a preview: the inner classes changed."""
    if items and not any(item.text or item.media or item.link_preview for item in items):
        raise LayoutChanged(f"t.me page layout changed: {len(items)} posts but none has text "
                            "or media (update monitors/telegram.py)", url=url)


def parse_channel_page(html: bytes | str, url: str | None = None,
                       charset: str | None = None) -> ChannelPage:
    """Parse a ``t.me/s/<channel>`` page (or a saved fragment of one).

    Raises ``LayoutChanged`` when the markup has none of the structures the parser knows, and
    ``ChannelUnavailable`` when t.me served a channel page without a preview. A page marked
    ``tme_no_messages_found`` gives zero items and no error.
    """
    tree = LexborHTMLParser(_decode(html, charset))
    messages = tree.css(MESSAGE)
    items = [item for item in (parse_message(node) for node in messages) if item is not None]
    if messages and not items:
        raise LayoutChanged("t.me page layout changed: no post has a readable data-post id",
                            url=url)
    if not items:
        _check_structure(tree, url)
    _check_content(items, url)
    if len(items) < len(messages):
        log.warning("%s: skipped %d posts without a readable id", url, len(messages) - len(items))
    lowest = min((item.post_id for item in items if item.post_id is not None), default=None)
    channel = _page_channel(tree, items)
    return ChannelPage(channel=channel, items=items, lowest_post_id=lowest,
                       before_url=_before_url(tree, url, channel, lowest))
