"""The exceptions a monitor raises: one class per way a feed can fail, each a readable line.

Raised by the fetcher and parsers, caught per feed by ``monitors.fetch``; never logged here.
"""

from __future__ import annotations

from config.errors import RiftwatchError


class MonitorError(RiftwatchError):
    """A feed could not be fetched or parsed; ``str()`` is one line fit for a user."""

    def __init__(self, message: str, *, url: str | None = None,
                 http_status: int | None = None, retry_after: float | None = None) -> None:
        self.message = message
        self.url = url
        self.http_status = http_status
        self.retry_after = retry_after
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message} ({self.url})" if self.url else self.message


class FetchError(MonitorError):
    """The HTTP exchange failed (network, status, limits, refused address)."""


class FetchTimeout(FetchError):
    """Connecting or reading took longer than the configured timeout."""


class ConnectFailed(FetchError):
    """The host could not be resolved or refused the connection."""


class HttpStatusError(FetchError):
    """The server answered with an error status (4xx/5xx)."""


class BodyTooLarge(FetchError):
    """The body (after decompression) passed ``http_max_bytes``."""


class TooManyRedirects(FetchError):
    """A redirect loop, or more hops than ``http_max_redirects``."""


class BlockedAddress(FetchError):
    """The URL (or a redirect hop) points at a private, loopback or link-local address."""


class ParseError(MonitorError):
    """The body was fetched but is not what the feed's kind expects."""


class NotAFeed(ParseError):
    """An RSS/Atom feed URL served something else (an HTML page, plain text)."""


class InvalidFeed(ParseError):
    """The feed's XML is broken beyond recovery, or unsafe (entity declarations)."""


class LayoutChanged(ParseError):
    """A t.me/s page lacks every structure the parser knows: Telegram changed its markup."""


class ChannelUnavailable(ParseError):
    """t.me served the channel's info page instead of its post preview (no public preview)."""
