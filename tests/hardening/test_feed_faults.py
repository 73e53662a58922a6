"""Feeds that misbehave, each in a real fetch cycle beside a good feed on 127.0.0.1.

Every fault must end as a readable one-line error on its own feed, with the feed's stored items
intact and the other feed fetched. Already covered in tests/monitors and not repeated here:
redirect loops and too many redirects (test_http.py, test_fetch.py), 404/500/429 and a plain
read timeout (test_fetch.py), an HTML page for RSS and broken XML (test_fetch.py), a fully
foreign t.me layout (test_telegram.py, test_fetch.py), billion laughs / XXE at the parser
(test_rss.py).
"""

from __future__ import annotations

import gzip
import ipaddress
import socket
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from config import Settings
from monitors import http, transport
from monitors.fetch import fetch_all
from store.feeds import get_feed
from store.items import save_items
from store.models import Item, from_iso, utc_now

CAP = 1_000_000
FIFTY_MB = 50 * 1024 * 1024
CHUNK = b"<!-- filler -->" * 4096  # ~60 KB, sent again and again: the server never holds 50 MB
SENTINEL = "SENTINEL-7f3a-never-in-the-store"


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"http_connect_timeout": 0.3, "http_read_timeout": 0.3,
                                       "http_max_bytes": CAP})


@pytest.fixture
def sentinel_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SENTINEL)
    return path


# --- raw behaviours: (conn, server, kit) after the request head has been read -----------------

Behaviour = Callable[..., None]


def _drip(data: bytes, pause: float = 0.05) -> Behaviour:
    def behaviour(conn: socket.socket, server, kit) -> None:
        for byte in data:
            server.send(conn, bytes([byte]))
            time.sleep(pause)
    return behaviour


def _headers_then(behaviour: Behaviour) -> Behaviour:
    def wrapped(conn: socket.socket, server, kit) -> None:
        server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n\r\n")
        behaviour(conn, server, kit)
    return wrapped


def _stream_50mb(declare_length: bool) -> Behaviour:
    def behaviour(conn: socket.socket, server, kit) -> None:
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
        head += f"Content-Length: {FIFTY_MB}\r\n" if declare_length else "Connection: close\r\n"
        server.send(conn, head.encode() + b"\r\n")
        sent = 0
        while sent < FIFTY_MB:
            server.send(conn, CHUNK)
            sent += len(CHUNK)
    return behaviour


def _close_delimited(body: Callable[..., bytes], declared: int | None = None) -> Behaviour:
    """Answer ``body(kit)``; with ``declared`` a Content-Length that may be a lie."""
    def behaviour(conn: socket.socket, server, kit) -> None:
        length = f"Content-Length: {declared}\r\n" if declared is not None else ""
        server.send(conn, f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n{length}"
                          "Connection: close\r\n\r\n".encode() + body(kit))
    return behaviour


def _bytes_then_hang_up(data: bytes) -> Behaviour:
    def behaviour(conn: socket.socket, server, kit) -> None:
        server.send(conn, data)
        time.sleep(0.1)
    return behaviour


# --- bodies ------------------------------------------------------------------------------------

@cache
def _gzip_bomb() -> bytes:
    return gzip.compress(b"\0" * FIFTY_MB, compresslevel=9)  # ~50 KB on the wire


def _billion_laughs() -> bytes:
    levels = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{levels}]>'
            '<rss version="2.0"><channel><title>&l9;</title>'
            "<item><title>&l9;</title><guid>laugh</guid></item></channel></rss>").encode()


def _xxe(secret: Path) -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
            '<rss version="2.0"><channel><title>t</title><item><title>&xxe;</title>'
            "<guid>xxe</guid><description>&xxe;</description></item></channel></rss>").encode()


def _page(kit) -> bytes:
    return kit.tme_page("faultchan", [(1, "one"), (2, "two"), (12, "twelve")])


def _rss_cut_inside_a_guid(kit) -> bytes:
    """An RSS body dropped mid-``<guid>news-12``: lenient parsing would store guid "news-1"."""
    return kit.rss_feed([("news-1", "one"), ("news-12", "two")]).split(b"news-12</guid>")[0] + (
        b"<guid>news-1")


def _page_cut_inside_a_post(kit) -> bytes:
    return _page(kit).split(b"welve")[0]


# --- the fault table ---------------------------------------------------------------------------

Serve = Callable[..., str]  # (kit, raw_server, feed_server, secret) -> the feed's URL


def _raw(behaviour: Behaviour) -> Serve:
    def serve(kit, raw_server, feed_server, secret) -> str:
        holder: dict = {}

        def run(conn: socket.socket) -> None:
            kit.read_request_head(conn)
            behaviour(conn, holder["server"], kit)

        holder["server"] = raw_server(run)
        return holder["server"].url
    return serve


def _served(body: Callable[..., bytes], **reply: object) -> Serve:
    def serve(kit, raw_server, feed_server, secret) -> str:
        return feed_server.add("/fault", body(kit, secret), **reply)
    return serve


def _closed_port(kit, raw_server, feed_server, secret) -> str:
    return kit.closed_port_url()


HTML = {"content_type": "text/html"}
FAULTS: dict[str, tuple[str, Serve, str]] = {
    # name: (feed kind, how the fault is served, a fragment of the error recorded on the feed)
    "slow-loris status line and headers": (
        "rss", _raw(_drip(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 400)), "took too long"),
    "slow-loris body": ("rss", _raw(_headers_then(_drip(b"<" * 400))), "took too long"),
    "connection refused (closed port)": ("rss", _closed_port, "Connection refused"),
    "TLS handshake bytes on plain HTTP": (
        "rss", _raw(_bytes_then_hang_up(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"
                                        b"\x8e\x11garbage\r\n\r\n")), "illegal status line"),
    "non-HTTP banner then hang-up": (
        "rss", _raw(_bytes_then_hang_up(b"SSH-2.0-OpenSSH_9.6\r\n")),
        "without sending a response"),
    "silent hang-up": ("rss", _raw(lambda conn, server, kit: None), "without sending a response"),
    "50 MB body with Content-Length": (
        "rss", _raw(_stream_50mb(declare_length=True)), "over the 1,000,000-byte cap"),
    "50 MB body without length": (
        "rss", _raw(_stream_50mb(declare_length=False)), "passed the 1,000,000-byte cap"),
    "gzip bomb (50 MB of zeros)": (
        "rss", _served(lambda kit, secret: _gzip_bomb(), headers={"Content-Encoding": "gzip"}),
        "passed the 1,000,000-byte cap"),
    "unknown Content-Encoding": (
        "rss", _served(lambda kit, secret: b"<rss/>", headers={"Content-Encoding": "br"}),
        "unsupported Content-Encoding"),
    "body shorter than its Content-Length": (
        "rss", _raw(_close_delimited(lambda kit: b"<rss>" * 20, declared=1000)),
        "without sending complete message body"),
    "RSS cut off inside a guid (no length)": (
        "rss", _raw(_close_delimited(_rss_cut_inside_a_guid)), "cut off before its end"),
    "billion laughs": ("rss", _served(lambda kit, secret: _billion_laughs()),
                       "declares XML entities"),
    "external entity reading a file": ("rss", _served(lambda kit, secret: _xxe(secret)),
                                       "declares XML entities"),
    "t.me page cut off inside a post": (
        "telegram", _raw(_close_delimited(_page_cut_inside_a_post)), "cut off before </html>"),
    "t.me text and media classes renamed": (
        "telegram", _served(lambda kit, secret: _page(kit).replace(
            b"tgme_widget_message_text", b"tgme_widget_message_body"), **HTML),
        "none has text or media"),
    "t.me data-post format changed": (
        "telegram", _served(lambda kit, secret: _page(kit).replace(
            b'data-post="faultchan/', b'data-post="faultchan-'), **HTML),
        "no post has a readable data-post id"),
}


def _earlier_item(kind: str) -> Item:
    if kind == "telegram":
        return Item(text="stored before the fault", channel="faultchan", post_id=1,
                    published_at=utc_now())
    return Item(text="stored before the fault", guid="earlier", published_at=utc_now())


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_is_recorded_on_its_feed_and_nothing_else_suffers(
        name, kit, raw_server, feed_server, db, db_path, fast, sentinel_file) -> None:
    kind, serve, fragment = FAULTS[name]
    good = kit.add_test_feed(db, "good", feed_server.add(
        "/good.xml", kit.rss_feed([("g1", "first"), ("g2", "second")])))
    bad = kit.add_test_feed(db, "bad", serve(kit, raw_server, feed_server, sentinel_file), kind)
    save_items(db, bad.id, [_earlier_item(kind)])
    before = kit.item_keys(db, bad.id)

    started = time.monotonic()
    outcomes = {feed.name: outcome for feed, outcome in fetch_all(db_path, fast)}

    assert time.monotonic() - started < http.total_limit(fast) + 2.0
    assert outcomes["good"].status == "ok"
    assert kit.item_keys(db, good.id) == ["guid:g1", "guid:g2"]
    outcome = outcomes["bad"]
    assert outcome.status == "error", outcome.error
    assert fragment in outcome.error, outcome.error
    state = get_feed(db, "bad")
    assert state.last_error == outcome.error
    assert state.error_count == 1
    assert "\n" not in state.last_error
    assert len(state.last_error) < 400
    assert from_iso(state.next_retry_at) > utc_now()
    assert kit.item_keys(db, bad.id) == before, "stored items changed"
    dump = "\n".join(db.conn.iterdump())
    assert SENTINEL not in dump
    assert "lollol" not in dump
    assert kit.integrity(db_path) == "ok"


def test_a_50_mb_stream_is_abandoned_early_not_read_to_the_end(kit, raw_server, fast) -> None:
    holder: dict = {}

    def run(conn: socket.socket) -> None:
        kit.read_request_head(conn)
        _stream_50mb(declare_length=False)(conn, holder["server"], kit)

    holder["server"] = server = raw_server(run)
    with pytest.raises(http.BodyTooLarge):
        http.fetch_url(server.url, fast)
    time.sleep(0.2)  # let the server notice the hang-up
    assert server.bytes_sent < 16 * 1024 * 1024  # the cap plus socket buffers, not 50 MB


def test_external_dtd_and_redirects_to_private_addresses_fetch_nothing(
        kit, feed_server, db, db_path, fast, sentinel_file, monkeypatch) -> None:
    """An external DTD is never requested; a redirect into a private range is refused.

    127.0.0.1 stands in for "the public internet" here (only it counts as public), so the hop
    to 127.0.0.2, 10.0.0.1 or the cloud metadata address is what the check must catch. The
    DTD is served (with an entity reading the sentinel) so a fetch of it would show as a hit.
    """
    public = ipaddress.ip_address("127.0.0.1")
    strict_check = transport._is_public
    monkeypatch.setattr(transport, "_is_public", lambda address: address == public
                        or strict_check(address))
    strict = fast.model_copy(update={"allow_private_urls": False})
    dtd_url = feed_server.add("/evil.dtd", f'<!ENTITY xxe SYSTEM "file://{sentinel_file}">',
                              content_type="application/xml-dtd")
    internal = feed_server.url("/internal").replace("127.0.0.1", "127.0.0.2")
    dtd_feed = (f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{dtd_url}">'
                '<rss version="2.0"><channel><item><title>dtd</title><guid>dtd-1</guid></item>'
                f'</channel></rss><!-- file://{sentinel_file} -->').encode()
    kit.add_test_feed(db, "dtd", feed_server.add("/dtd.xml", dtd_feed))
    targets = {"to-loopback-2": internal, "to-ten": "http://10.0.0.1/feed",
               "to-metadata": "http://169.254.169.254/latest/meta-data/"}
    for name, target in targets.items():
        kit.add_test_feed(db, name, feed_server.add(f"/{name}", status=302,
                                                    headers={"Location": target}))

    outcomes = {feed.name: outcome for feed, outcome in fetch_all(db_path, strict)}

    assert outcomes["dtd"].status == "ok"
    assert kit.item_keys(db) == ["guid:dtd-1"]
    for name in targets:
        assert outcomes[name].status == "error", name
        assert "non-public address" in outcomes[name].error, outcomes[name].error
    assert feed_server.hits("/evil.dtd") == []
    assert SENTINEL not in "\n".join(db.conn.iterdump())


# --- bodies that are odd but readable: stored correctly, not refused ------------------------------

def _rss_cp1251_declared_utf8(kit) -> bytes:
    return kit.rss_feed([("c1", "Минобороны опять врёт")]).decode().encode("cp1251")


def _rss_utf16(kit) -> bytes:
    return kit.rss_feed([("c1", "Минобороны опять врёт")]).decode().replace(
        'encoding="utf-8"', 'encoding="utf-16"').encode("utf-16")


TOLERATED: dict[str, tuple[str, Callable[..., bytes], str | None, str]] = {
    # name: (kind, body, Content-Type header, text expected in the stored item)
    "RSS served as text/html": (
        "rss", lambda kit: kit.rss_feed([("c1", "Минобороны опять врёт")]),
        "text/html; charset=utf-8", "Минобороны опять врёт"),
    "RSS with no Content-Type": (
        "rss", lambda kit: kit.rss_feed([("c1", "Минобороны опять врёт")]), None,
        "Минобороны опять врёт"),
    "RSS with an unknown charset": (
        "rss", lambda kit: kit.rss_feed([("c1", "Минобороны опять врёт")]),
        "application/xml; charset=x-klingon", "Минобороны опять врёт"),
    "cp1251 bytes declared as utf-8": (
        "rss", _rss_cp1251_declared_utf8, "application/xml", "Минобороны опять врёт"),
    "UTF-16 RSS with a BOM": ("rss", _rss_utf16, "application/xml", "Минобороны опять врёт"),
    "t.me page as application/octet-stream": (
        "telegram", lambda kit: kit.tme_page("okchan", [(5, "Шойгу где снаряды?")]),
        "application/octet-stream", "Шойгу где снаряды?"),
    "t.me page with invalid UTF-8 bytes": (
        "telegram", lambda kit: kit.tme_page("okchan", [(5, "Шойгу где снаряды?")]).replace(
            "где".encode(), b"\xff\xfe"), "text/html; charset=utf-8",
        "Шойгу \ufffd\ufffd снаряды?"),
    "t.me page with an unknown charset": (
        "telegram", lambda kit: kit.tme_page("okchan", [(5, "Шойгу где снаряды?")]),
        "text/html; charset=x-klingon", "Шойгу где снаряды?"),
}


@pytest.mark.parametrize("name", list(TOLERATED))
def test_odd_but_readable_bodies_are_stored_correctly(name, kit, feed_server, db, db_path,
                                                      fast) -> None:
    kind, body, content_type, text = TOLERATED[name]
    feed = kit.add_test_feed(db, "odd", feed_server.add("/odd", body(kit),
                                                        content_type=content_type), kind)
    ((_, outcome),) = fetch_all(db_path, fast)
    assert outcome.status == "ok", outcome.error
    assert outcome.items_new == 1, outcome.error
    (stored,) = db.execute("SELECT text FROM items WHERE feed_id = ?", [feed.id]).fetchone()
    assert stored == text
