"""Fetch one URL safely: timeouts, a size cap after decompression, redirects checked hop by hop.

Returns bytes and caching headers as a ``FetchedPage``; never parses, stores or retries.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from config.feeds import is_channel_source
from config.settings import Settings
from monitors.charsets import header_charset
from monitors.errors import (
    BlockedAddress,
    BodyTooLarge,
    ConnectFailed,
    FetchError,
    FetchTimeout,
    HttpStatusError,
    TooManyRedirects,
)
from monitors.transport import GuardedTransport, fetch_deadline, public_addresses

log = logging.getLogger(__name__)

USER_AGENT = "riftwatch/0.1 (+feed monitor)"
ACCEPT = ("application/rss+xml, application/atom+xml, application/xml;q=0.9, "
          "text/xml;q=0.9, text/html;q=0.8, */*;q=0.5")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class FetchedPage:
    """A response as the parsers need it; ``status`` 304 means "unchanged", with no body."""

    status: int
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    final_url: str

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def charset(self) -> str | None:
        """The charset named in the Content-Type header, if any."""
        return header_charset(self.content_type)


def new_client(settings: Settings) -> httpx.Client:
    """An httpx client with riftwatch's headers and timeouts; it never follows redirects itself,
    and connects to a non-public address only when ``settings.allow_private_urls`` is set."""
    return httpx.Client(
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT,
                 "Accept-Encoding": "gzip, deflate"},
        timeout=_timeout(settings),
        follow_redirects=False,
        trust_env=False,
        transport=GuardedTransport(allow_private=settings.allow_private_urls),
    )


def _timeout(settings: Settings) -> httpx.Timeout:
    return httpx.Timeout(connect=settings.http_connect_timeout, read=settings.http_read_timeout,
                         write=settings.http_read_timeout, pool=settings.http_connect_timeout)


# --- addresses ---------------------------------------------------------------------------

def _check_scheme(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedAddress("only http:// and https:// URLs can be fetched", url=url)


def check_url_allowed(url: str, settings: Settings) -> None:
    """Refuse non-http(s) URLs, and hosts resolving to non-public addresses unless allowed.

    The rule for a feed being added; a fetch applies the same rule when it connects."""
    _check_scheme(url)
    if settings.allow_private_urls:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        public_addresses(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError) as exc:
        raise ConnectFailed(f"cannot resolve host {host!r}: {exc}", url=url) from None
    except BlockedAddress as exc:
        raise BlockedAddress(exc.message, url=url) from None


def check_source_allowed(source: str, settings: Settings) -> None:
    """The rule for adding a feed, wherever it is added: a Telegram channel (``@name``,
    ``t.me/name``) passes; a URL must pass ``check_url_allowed``."""
    if not is_channel_source(source):
        check_url_allowed(source, settings)


# --- body --------------------------------------------------------------------------------

def _decoder(encoding: str, url: str) -> zlib._Decompress | None:
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return None
    if name in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if name == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS | 32)
    raise FetchError(f"unsupported Content-Encoding {encoding!r}", url=url)


def _inflate(decoder: zlib._Decompress, chunk: bytes, room: int) -> Iterator[bytes]:
    """Decompress ``chunk`` a bounded piece at a time, never more than ``room`` + 1 bytes."""
    data = chunk
    while data and room >= 0:
        piece = decoder.decompress(data, room + 1)
        room -= len(piece)
        yield piece
        data = decoder.unconsumed_tail


def read_body(response: httpx.Response, url: str, max_bytes: int, deadline: float) -> bytes:
    """Stream the body, decompressing gzip/deflate ourselves, aborting past ``max_bytes``."""
    declared = response.headers.get("Content-Length", "")
    encoding = response.headers.get("Content-Encoding", "")
    if declared.isdigit() and not encoding and int(declared) > max_bytes:
        raise BodyTooLarge(f"response is {int(declared):,} bytes, over the {max_bytes:,}-byte cap",
                           url=url)
    decoder = _decoder(encoding, url)
    parts: list[bytes] = []
    size = 0
    for raw in response.iter_raw():
        if time.monotonic() > deadline:
            raise FetchTimeout("response took too long to arrive in full", url=url)
        pieces = [raw] if decoder is None else _inflate(decoder, raw, max_bytes - size)
        for piece in pieces:
            size += len(piece)
            if size > max_bytes:
                raise BodyTooLarge(f"response passed the {max_bytes:,}-byte cap", url=url)
            parts.append(piece)
    if decoder is not None:
        parts.append(decoder.flush())
    return b"".join(parts)


# --- headers -----------------------------------------------------------------------------

def parse_retry_after(value: str | None, cap: float, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), capped; None if absent."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), cap)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), cap)


def _conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _status_error(response: httpx.Response, url: str, settings: Settings) -> HttpStatusError:
    status = response.status_code
    retry_after = None
    if status in RETRY_AFTER_STATUSES:
        retry_after = parse_retry_after(response.headers.get("Retry-After"),
                                        settings.retry_max_seconds)
    reason = response.reason_phrase or "error"
    message = f"HTTP {status} {reason}"
    if retry_after is not None:
        message += f", retry after {retry_after:.0f}s"
    return HttpStatusError(message, url=url, http_status=status, retry_after=retry_after)


# --- the fetch ---------------------------------------------------------------------------

def _page(response: httpx.Response, url: str, body: bytes) -> FetchedPage:
    return FetchedPage(
        status=response.status_code,
        body=body,
        content_type=response.headers.get("Content-Type"),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        final_url=url,
    )


def _one_hop(client: httpx.Client, url: str, headers: dict[str, str], settings: Settings,
             deadline: float) -> FetchedPage | str:
    """Do one request; return the page, or the next URL when it is a redirect."""
    _check_scheme(url)
    with client.stream("GET", url, headers=headers, timeout=_timeout(settings)) as response:
        status = response.status_code
        if status in REDIRECT_STATUSES:
            location = response.headers.get("Location")
            if not location:
                raise FetchError(f"HTTP {status} redirect without a Location header", url=url)
            return urljoin(url, location.strip())
        if status == 304:
            return _page(response, url, b"")
        if status >= 400:
            raise _status_error(response, url, settings)
        if status != 200 and status // 100 != 2:
            raise HttpStatusError(f"unexpected HTTP {status}", url=url, http_status=status)
        return _page(response, url, read_body(response, url, settings.http_max_bytes, deadline))


def total_limit(settings: Settings) -> float:
    """Seconds one URL (every hop, headers and body) may take in all."""
    return (settings.http_connect_timeout
            + settings.http_total_timeout_factor * settings.http_read_timeout)


def _follow(client: httpx.Client, url: str, headers: dict[str, str],
            settings: Settings) -> FetchedPage:
    deadline = time.monotonic() + total_limit(settings)
    try:
        with fetch_deadline(deadline):
            return _follow_hops(client, url, headers, settings, deadline)
    except httpx.TimeoutException:
        if time.monotonic() < deadline - 0.05:
            raise  # an ordinary connect or read timeout
        raise _too_slow(url, settings) from None


def _too_slow(url: str, settings: Settings) -> FetchTimeout:
    return FetchTimeout(f"response took too long to arrive in full (limit "
                        f"{total_limit(settings):g}s)", url=url)


def _follow_hops(client: httpx.Client, url: str, headers: dict[str, str], settings: Settings,
                 deadline: float) -> FetchedPage:
    seen = [url]
    while True:
        result = _one_hop(client, url, headers, settings, deadline)
        if isinstance(result, FetchedPage):
            return result
        if result in seen:
            raise TooManyRedirects(f"redirect loop back to {result}", url=seen[0])
        if len(seen) > settings.http_max_redirects:
            raise TooManyRedirects(
                f"more than {settings.http_max_redirects} redirects", url=seen[0])
        log.debug("redirect %s -> %s", url, result)
        seen.append(result)
        url = result


def fetch_url(
    url: str,
    settings: Settings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    client: httpx.Client | None = None,
) -> FetchedPage:
    """GET ``url`` under riftwatch's limits; raise a ``FetchError`` subclass on any failure.

    ``etag`` / ``last_modified`` make the request conditional: an unchanged resource comes back
    as a page with status 304 and an empty body.
    """
    own = client is None
    http = client or new_client(settings)
    headers = _conditional_headers(etag, last_modified)
    try:
        return _follow(http, url, headers, settings)
    except httpx.TimeoutException as exc:
        kind = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read"
        limit = settings.http_connect_timeout if kind == "connect" else settings.http_read_timeout
        raise FetchTimeout(f"{kind} timed out after {limit:g}s", url=url) from None
    except httpx.ConnectError as exc:
        raise ConnectFailed(f"cannot connect: {_first_line(exc)}", url=url) from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise BlockedAddress(f"invalid URL: {_first_line(exc)}", url=url) from None
    except (httpx.HTTPError, zlib.error) as exc:
        raise FetchError(f"{type(exc).__name__}: {_first_line(exc)}", url=url) from None
    finally:
        if own:
            http.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
