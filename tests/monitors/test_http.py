"""The fetcher against a real HTTP server on 127.0.0.1: limits, redirects, caching headers."""

from __future__ import annotations

import gzip
import socket
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from config import Settings
from monitors.errors import (
    BlockedAddress,
    BodyTooLarge,
    FetchTimeout,
    HttpStatusError,
    TooManyRedirects,
)
from monitors.http import (
    USER_AGENT,
    check_url_allowed,
    fetch_url,
    new_client,
    parse_retry_after,
)


def test_plain_get_sends_user_agent_and_returns_headers(feed_server, settings: Settings) -> None:
    url = feed_server.add("/feed.xml", b"<rss/>", headers={"ETag": '"v1"',
                          "Last-Modified": "Sun, 21 May 2023 10:00:00 GMT"})
    page = fetch_url(url, settings)
    assert (page.status, page.body, page.etag) == (200, b"<rss/>", '"v1"')
    assert page.last_modified == "Sun, 21 May 2023 10:00:00 GMT"
    assert page.content_type == "application/xml"
    assert feed_server.hits("/feed.xml")[0].headers["user-agent"] == USER_AGENT


def test_conditional_get_gets_304(feed_server, settings: Settings) -> None:
    url = feed_server.add("/feed.xml", b"", status=304)
    page = fetch_url(url, settings, etag='"v1"', last_modified="Sun, 21 May 2023 10:00:00 GMT")
    assert page.not_modified
    assert page.body == b""
    headers = feed_server.hits("/feed.xml")[0].headers
    assert headers["if-none-match"] == '"v1"'
    assert headers["if-modified-since"] == "Sun, 21 May 2023 10:00:00 GMT"


def test_gzip_body_is_decompressed(feed_server, settings: Settings) -> None:
    url = feed_server.add("/gz", gzip.compress(b"<rss>" + b"x" * 5000 + b"</rss>"),
                          headers={"Content-Encoding": "gzip"})
    assert fetch_url(url, settings).body == b"<rss>" + b"x" * 5000 + b"</rss>"


def test_deflate_body_is_decompressed(feed_server, settings: Settings) -> None:
    url = feed_server.add("/deflate", zlib.compress(b"<rss>deflated</rss>"),
                          headers={"Content-Encoding": "deflate"})
    assert fetch_url(url, settings).body == b"<rss>deflated</rss>"


def test_body_over_cap_is_refused(feed_server, settings: Settings) -> None:
    small = settings.model_copy(update={"http_max_bytes": 10_000})
    url = feed_server.add("/big", b"a" * 10_001)
    with pytest.raises(BodyTooLarge, match="10,000-byte cap"):
        fetch_url(url, small)
    assert fetch_url(feed_server.add("/fits", b"a" * 10_000), small).body == b"a" * 10_000


def test_gzip_bomb_is_cut_at_the_cap(feed_server, settings: Settings) -> None:
    small = settings.model_copy(update={"http_max_bytes": 1_000_000})
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)  # ~50 KB on the wire
    url = feed_server.add("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(BodyTooLarge, match="cap"):
        fetch_url(url, small)


def test_read_timeout(feed_server, settings: Settings) -> None:
    quick = settings.model_copy(update={"http_read_timeout": 0.3})
    url = feed_server.add("/slow", b"<rss/>", delay=1.5)
    with pytest.raises(FetchTimeout, match="read timed out after 0.3s"):
        fetch_url(url, quick)


@pytest.mark.parametrize("status", [404, 500])
def test_error_status(feed_server, settings: Settings, status: int) -> None:
    url = feed_server.add(f"/e{status}", b"nope", status=status, content_type="text/plain")
    with pytest.raises(HttpStatusError, match=f"HTTP {status}") as caught:
        fetch_url(url, settings)
    assert caught.value.http_status == status
    assert caught.value.retry_after is None


def test_429_carries_retry_after(feed_server, settings: Settings) -> None:
    url = feed_server.add("/busy", b"", status=429, headers={"Retry-After": "120"})
    with pytest.raises(HttpStatusError, match="retry after 120s") as caught:
        fetch_url(url, settings)
    assert caught.value.retry_after == 120.0


def test_retry_after_forms() -> None:
    now = datetime(2023, 5, 21, 10, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(minutes=5), usegmt=True)
    assert parse_retry_after(later, cap=3600, now=now) == 300.0
    assert parse_retry_after("999999", cap=3600) == 3600.0
    assert parse_retry_after("soon", cap=3600) is None
    assert parse_retry_after(None, cap=3600) is None


def test_redirects_are_followed_to_the_final_url(feed_server, settings: Settings) -> None:
    feed_server.add("/a", status=301, headers={"Location": "/b"})
    feed_server.add("/b", status=302, headers={"Location": feed_server.url("/c")})
    feed_server.add("/c", b"<rss/>")
    page = fetch_url(feed_server.url("/a"), settings)
    assert page.body == b"<rss/>"
    assert page.final_url == feed_server.url("/c")


def test_redirect_loop(feed_server, settings: Settings) -> None:
    feed_server.add("/loop1", status=302, headers={"Location": "/loop2"})
    feed_server.add("/loop2", status=302, headers={"Location": "/loop1"})
    with pytest.raises(TooManyRedirects, match="redirect loop"):
        fetch_url(feed_server.url("/loop1"), settings)
    assert len(feed_server.requests) == 2


def test_too_many_redirects(feed_server, settings: Settings) -> None:
    for hop in range(10):
        feed_server.add(f"/hop{hop}", status=307, headers={"Location": f"/hop{hop + 1}"})
    with pytest.raises(TooManyRedirects, match="more than 5 redirects"):
        fetch_url(feed_server.url("/hop0"), settings)
    assert len(feed_server.requests) == 6


def test_redirect_to_a_non_http_scheme_is_refused(feed_server, settings: Settings) -> None:
    feed_server.add("/to-file", status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(BlockedAddress, match="only http"):
        fetch_url(feed_server.url("/to-file"), settings)


def test_private_address_refused_before_any_request(feed_server, settings: Settings) -> None:
    strict = settings.model_copy(update={"allow_private_urls": False})
    url = feed_server.add("/feed.xml", b"<rss/>")
    with pytest.raises(BlockedAddress, match="non-public address 127.0.0.1"):
        fetch_url(url, strict)
    assert feed_server.requests == []


def test_refused_address_is_never_connected_to(settings: Settings) -> None:
    """The address is checked where the socket opens: a listener on a refused address sees no
    connection, let alone a byte. Allowed, the same client reaches it and sends its request."""
    allowed = settings.model_copy(update={"http_read_timeout": 0.2})
    strict = allowed.model_copy(update={"allow_private_urls": False})
    with socket.create_server(("127.0.0.1", 0)) as listener:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/feed.xml"
        with new_client(allowed) as client, pytest.raises(httpx.ReadTimeout):
            client.get(url)
        connection, _ = listener.accept()
        with connection:
            assert connection.recv(100).startswith(b"GET /feed.xml HTTP/1.1")
        with new_client(strict) as client, \
                pytest.raises(BlockedAddress, match="non-public address 127.0.0.1") as refused:
            client.get(url)
        assert refused.value.url == url
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()


@pytest.mark.parametrize("url", [
    "http://10.1.2.3/feed", "http://192.168.0.1/", "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:8080/", "http://0.0.0.0/", "http://localhost/feed",
    "http://[::ffff:127.0.0.1]/",
])
def test_non_public_addresses_are_refused(settings: Settings, url: str) -> None:
    strict = settings.model_copy(update={"allow_private_urls": False})
    with pytest.raises(BlockedAddress):
        check_url_allowed(url, strict)


def test_public_literal_address_is_allowed(settings: Settings) -> None:
    strict = settings.model_copy(update={"allow_private_urls": False})
    check_url_allowed("https://8.8.8.8/feed", strict)
