"""Plain data that crosses layers: an ``Item`` as parsed, a feed's stored state, and stable keys."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING_PREFIXES = ("utm_", "fbclid", "gclid", "yclid", "mc_")


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime | None) -> str | None:
    """UTC ISO-8601 with seconds, the one time format the store uses (sorts as text)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def normalise_url(url: str) -> str:
    """Lower-case scheme and host, drop the fragment, tracking parameters and a trailing slash."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.lower().startswith(_TRACKING_PREFIXES)]
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, urlencode(query), ""))


@dataclass
class Item:
    """One post or article as a monitor parsed it (no database ids)."""

    text: str
    url: str | None = None
    title: str | None = None
    guid: str | None = None
    channel: str | None = None
    post_id: int | None = None
    author: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    views: int | None = None
    forwarded_from: str | None = None
    forwarded_url: str | None = None  # the original post's t.me address, for a forward
    links: list[str] = field(default_factory=list)  # t.me addresses its text links to
    link_preview: str | None = None
    media: list[str] = field(default_factory=list)
    edited: bool = False

    @property
    def key(self) -> str:
        """The stable dedup key: channel+post id, else guid, else normalised link, else hash."""
        if self.channel and self.post_id is not None:
            return f"tg:{self.channel.lower()}/{self.post_id}"
        if self.guid:
            return f"guid:{self.guid.strip()}"
        if self.url:
            return f"url:{normalise_url(self.url)}"
        digest = hashlib.sha1(f"{self.title or ''}\n{self.text}".encode()).hexdigest()
        return f"sha1:{digest}"


@dataclass
class FeedState:
    """A feed row as stored: its configuration plus fetch health."""

    id: int
    name: str
    kind: str
    role: str
    url: str
    channel: str | None
    title: str | None
    interval_minutes: int
    enabled: bool
    etag: str | None
    last_modified: str | None
    last_fetch_at: str | None
    last_success_at: str | None
    last_error: str | None
    last_error_at: str | None
    error_count: int
    next_retry_at: str | None
    removed: bool

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> FeedState:
        fields: dict[str, Any] = {name: row.get(name) for name in cls.__dataclass_fields__}
        fields["enabled"] = bool(row.get("enabled"))
        fields["removed"] = bool(row.get("removed"))
        fields["error_count"] = int(row.get("error_count") or 0)
        return cls(**fields)
