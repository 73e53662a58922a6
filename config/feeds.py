"""The watched feeds: a TOML file of ``[[feed]]`` tables, validated into ``FeedConfig``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from config.errors import ConfigError, config_error_from_validation
from config.settings import DEFAULT_FEED_INTERVAL_MINUTES
from config.telegram_names import is_channel_source, is_tme_path, normalise_channel
from config.toml_file import read_toml

FeedKind = Literal["rss", "telegram"]
FeedRole = Literal["blogger", "news"]
FEED_ROLES: tuple[FeedRole, ...] = get_args(FeedRole)
FEED_KINDS: tuple[FeedKind, ...] = get_args(FeedKind)


def telegram_preview_url(channel: str) -> str:
    return f"https://t.me/s/{channel}"


class FeedConfig(BaseModel):
    """One watched source as configured."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    kind: FeedKind
    role: FeedRole
    url: str | None = None
    channel: str | None = None
    title: str | None = None
    interval_minutes: int = Field(default=DEFAULT_FEED_INTERVAL_MINUTES, ge=1, le=7 * 24 * 60)
    enabled: bool = True

    @model_validator(mode="after")
    def _check_source(self) -> FeedConfig:
        if self.kind == "telegram":
            if self.channel is None and self.url is None:
                raise ValueError("a telegram feed needs `channel` (or a t.me `url`)")
            if self.channel is not None:
                self.channel = normalise_channel(self.channel)
            elif self.url is not None and is_tme_path(self.url):
                self.channel = normalise_channel(self.url)
                self.url = None
        if self.url is not None and not re.match(r"^https?://", self.url):
            raise ValueError(f"url must start with http:// or https:// (got {self.url!r})")
        if self.kind == "rss" and self.url is None:
            raise ValueError("an rss feed needs `url`")
        return self

    @property
    def fetch_url(self) -> str:
        """Where the monitor fetches: the explicit url, else the channel's t.me/s preview."""
        if self.url is not None:
            return self.url
        assert self.channel is not None
        return telegram_preview_url(self.channel)


def feed_from_source(
    source: str, role: FeedRole | None = None, name: str | None = None,
    title: str | None = None, interval_minutes: int = DEFAULT_FEED_INTERVAL_MINUTES,
) -> FeedConfig:
    """A FeedConfig from ``@NAME``, ``t.me/NAME`` or an http(s) URL, as a user types it.

    Channels default to the blogger role and URLs to news. ValueError says what is wrong.
    """
    text = source.strip()
    try:
        if is_channel_source(text):
            channel = normalise_channel(text)
            return FeedConfig(name=name or channel.lower(), kind="telegram",
                              role=role or "blogger", channel=channel, title=title,
                              interval_minutes=interval_minutes)
        host = (urlsplit(text).hostname or "").removeprefix("www.")
        host_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", host).strip("-.")[:64] or "feed"
        return FeedConfig(name=name or host_name, kind="rss", role=role or "news", url=text,
                          title=title, interval_minutes=interval_minutes)
    except ValidationError as exc:
        problem = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise ValueError(f"cannot add {source}: {problem}") from None


def parse_feeds(data: dict[str, object], source: str) -> list[FeedConfig]:
    """Validate the ``feed`` array of a parsed TOML document."""
    raw = data.get("feed", [])
    if not isinstance(raw, list):
        raise ConfigError(source, "feed", "must be an array of tables", "write each as [[feed]]")
    feeds: list[FeedConfig] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        try:
            feed = FeedConfig.model_validate(entry)
        except ValidationError as exc:
            raise config_error_from_validation(
                source, exc, key_prefix=f"feed[{index}].", fix_hint=_FEED_FIX
            ) from None
        if feed.name in seen:
            raise ConfigError(source, f"feed[{index}].name", f"duplicate name {feed.name!r}",
                              "give every feed a unique name")
        seen.add(feed.name)
        feeds.append(feed)
    return feeds


_FEED_FIX = (
    "each [[feed]] needs name, kind = rss|telegram, role = blogger|news, "
    "and url (rss) or channel (telegram)"
)


def load_feeds(path: Path) -> list[FeedConfig]:
    """Read and validate a feeds TOML file; raise ConfigError naming file, key and fix."""
    source = str(path)
    data = read_toml(path, "RIFTWATCH_FEEDS_FILE")
    return parse_feeds(data, source)
