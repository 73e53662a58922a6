"""Read a Telegram Desktop channel export (``result.json``) into ``Item``s and store them as a feed.

Items get the monitors' stable key (channel + post id), so an export and the t.me/s monitor
never store a post twice; nothing here fetches or scores.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from pydantic import ValidationError

from config import FeedConfig, RiftwatchError
from config.feeds import normalise_channel
from riftwatch.byod.readers import MAX_RECORD_CHARS, bounded_lines
from store.feeds import FeedNotFound, add_feed, get_feed, list_feeds, set_feed_enabled
from store.items import known_keys, save_items
from store.models import FeedState, Item

log = logging.getLogger(__name__)

TME_BASE = "https://t.me/"
SAVE_CHUNK = 500
MAX_POST_ID = 2**63 - 1  # SQLite's largest integer; Telegram's ids are far below it
# Telegram Desktop's media_type values, in the monitors' media names.
_MEDIA_NAMES = {
    "video_file": "video", "animation": "video", "video_message": "roundvideo",
    "voice_message": "voice", "audio_file": "document", "sticker": "sticker",
}


class ExportError(RiftwatchError):
    """Not a readable single-channel Telegram Desktop export: one line says why."""


@dataclass
class TelegramExport:
    """A parsed export: the channel as the export names it, and its posts as items."""

    title: str
    chat_type: str
    chat_id: int | None
    channel: str | None
    items: list[Item] = field(default_factory=list)
    skipped: int = 0


@dataclass(frozen=True)
class ImportReport:
    feed: str
    created_feed: bool
    read: int
    new: int
    already_stored: int
    skipped: int


def flatten_text(text: Any) -> str:
    """An export's ``text``: a plain string, or a list of strings and entity objects."""
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        return "".join(part if isinstance(part, str) else str(part.get("text", ""))
                       for part in text if isinstance(part, str | dict))
    return ""


def _published(message: dict[str, Any]) -> datetime | None:
    """``date_unixtime`` (UTC) when present; else ``date``, local time of the exporting
    computer with no zone, read as UTC. ExportError names the message when neither is a date."""
    stamp, text = message.get("date_unixtime"), message.get("date")
    try:
        if stamp not in (None, ""):
            return datetime.fromtimestamp(int(stamp), UTC)
        if not text:
            return None
        return datetime.fromisoformat(str(text)).replace(tzinfo=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        shown = stamp if stamp not in (None, "") else text
        raise ExportError(f"message {message.get('id')}: {str(shown)[:40]!r} is not a date; "
                          "export the channel again (format JSON)") from None


def _media(message: dict[str, Any]) -> list[str]:
    kinds = []
    if "photo" in message:
        kinds.append("photo")
    if "media_type" in message:
        media_type = message["media_type"]  # a string in real exports; anything in others
        kinds.append(_MEDIA_NAMES.get(media_type, "document") if isinstance(media_type, str)
                     else "document")
    elif "file" in message:
        kinds.append("document")
    if "poll" in message:
        kinds.append("poll")
    return kinds


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _post_id(message: dict[str, Any]) -> int | None:
    """The message id; None when there is none, ExportError when it cannot be a post id."""
    post_id = message.get("id")
    if not isinstance(post_id, int) or isinstance(post_id, bool):
        return None
    if not 0 < post_id <= MAX_POST_ID:
        raise ExportError(f"message id {str(post_id)[:40]} is not a Telegram post id; "
                          "export the channel again (format JSON)")
    return post_id


def message_item(message: dict[str, Any], channel: str | None, chat_id: int | None) -> Item | None:
    """One exported message as an ``Item``; None for service messages and empty posts.

    ExportError when the message's id or date cannot be one.
    """
    if message.get("type", "message") != "message":
        return None
    post_id = _post_id(message)
    if post_id is None:
        return None
    text, media = flatten_text(message.get("text")).strip(), _media(message)
    if not text and not media:
        return None
    return Item(
        text=text,
        url=f"{TME_BASE}{channel}/{post_id}" if channel else None,
        guid=None if channel else f"tg-export:{chat_id}/{post_id}",
        channel=channel,
        post_id=post_id,
        author=_text_or_none(message.get("author")) or _text_or_none(message.get("from")),
        published_at=_published(message),
        forwarded_from=_text_or_none(message.get("forwarded_from")),
        media=media,
        edited="edited" in message or "edited_unixtime" in message,
    )


def _load_json(path: Path, max_record_chars: int) -> dict[str, Any]:
    """The export's top-level object, read line by line with bounded reads."""
    if path.is_dir():
        path = path / "result.json"
    try:
        with path.open(encoding="utf-8-sig", newline="\n") as handle:
            data = json.loads("".join(bounded_lines(handle, path, max_record_chars)))
    except FileNotFoundError:
        raise ExportError(f"{path}: no such file (point at result.json or its folder)") from None
    except OSError as exc:
        raise ExportError(f"{path}: cannot be read ({exc.strerror})") from None
    except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, too deep, huge numbers
        raise ExportError(f"{path}: not a JSON export ({exc}); export with format JSON") from None
    if not isinstance(data, dict):
        raise ExportError(f"{path}: not a Telegram Desktop export (no top-level object)")
    if not isinstance(data.get("messages"), list):
        hint = "a whole-account export; export one channel" if "chats" in data else \
            "no 'messages' list"
        raise ExportError(f"{path}: {hint}")
    return data


def _username(data: dict[str, Any], channel: str | None) -> str | None:
    given = channel or data.get("username")
    if not given:
        return None
    try:
        return normalise_channel(str(given))
    except ValueError as exc:
        raise ExportError(str(exc)) from None


def read_telegram_export(
    path: Path, channel: str | None = None, max_record_chars: int = MAX_RECORD_CHARS
) -> TelegramExport:
    """Parse ``result.json`` (or the folder holding it); ``channel`` is the public username.

    ``RecordTooLong`` at a line, and ExportError at a post, longer than ``max_record_chars``.
    """
    data = _load_json(Path(path), max_record_chars)
    username = _username(data, channel)
    chat_id = data.get("id") if isinstance(data.get("id"), int) else None
    export = TelegramExport(title=str(data.get("name") or username or chat_id or "export"),
                            chat_type=str(data.get("type") or "unknown"), chat_id=chat_id,
                            channel=username)
    for message in data["messages"]:
        try:
            item = message_item(message, username, chat_id) if isinstance(message, dict) else None
        except ExportError as exc:
            raise ExportError(f"{path}: {exc}") from None
        if item is not None and len(item.text) > max_record_chars:
            raise ExportError(f"{path}: message {item.post_id}: text longer than "
                              f"{max_record_chars} characters; raise RIFTWATCH_MAX_RECORD_CHARS")
        if item is None:
            export.skipped += 1
        else:
            export.items.append(item)
    return export


def _feed_name(export: TelegramExport, wanted: str | None) -> str:
    if wanted:
        return wanted
    if export.channel:
        return export.channel
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", export.title).strip("-.")[:64]
    return slug or f"telegram-export-{export.chat_id}"


def _existing_feed(
    db: sqlite_utils.Database, export: TelegramExport, name: str
) -> FeedState | None:
    """The feed already watching this channel, else the feed of that name (if it fits)."""
    if export.channel:
        for feed in list_feeds(db):
            if feed.kind == "telegram" and (feed.channel or "").lower() == export.channel.lower():
                return feed
    try:
        feed = get_feed(db, name)
    except FeedNotFound:
        return None
    if feed.kind != "telegram" or (feed.channel or "").lower() != (export.channel or "").lower():
        raise ExportError(f"a feed named {name!r} already exists for another source; "
                          "pass --name NEW_NAME")
    return feed


def _create_feed(db: sqlite_utils.Database, export: TelegramExport, name: str,
                 role: str) -> FeedState:
    """A new telegram feed for the export, left disabled: importing is not watching."""
    try:
        config = FeedConfig.model_validate({
            "name": name, "kind": "telegram", "role": role, "title": export.title,
            **({"channel": export.channel} if export.channel
               else {"url": f"{TME_BASE}c/{export.chat_id}"}),
        })
    except ValidationError as exc:
        raise ExportError(f"cannot create feed {name!r}: {exc.errors()[0]['msg']}; "
                          "pass --name with letters, digits, _ . or -") from None
    add_feed(db, config)
    return set_feed_enabled(db, name, False)


def _chunks(items: list[Item], size: int) -> Iterator[list[Item]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def import_telegram_export(
    db: sqlite_utils.Database, path: Path, *, channel: str | None = None,
    feed_name: str | None = None, role: str = "blogger",
    max_record_chars: int = MAX_RECORD_CHARS,
) -> ImportReport:
    """Store an export's posts as items of a feed; posts already stored are left as they are.

    The whole export is read and checked before anything is stored.
    """
    export = read_telegram_export(path, channel, max_record_chars)
    name = _feed_name(export, feed_name)
    feed = _existing_feed(db, export, name)
    created = feed is None
    if feed is None:
        feed = _create_feed(db, export, name, role)
    new = already = 0
    for chunk in _chunks(export.items, SAVE_CHUNK):
        stored = known_keys(db, [item.key for item in chunk])
        fresh = [item for item in chunk if item.key not in stored]
        already += len(chunk) - len(fresh)
        new += save_items(db, feed.id, fresh).new
    log.info("imported %s into feed %s: %d new, %d already stored, %d skipped", path, feed.name,
             new, already, export.skipped)
    return ImportReport(feed=feed.name, created_feed=created, read=len(export.items), new=new,
                        already_stored=already, skipped=export.skipped)
