"""Soak: many fetch cycles against feeds that publish all the time and fail at random.

Bounded (``RIFTWATCH_SOAK_SECONDS``, 25 s by default); skip with ``-m "not soak"``. At the end
every post any feed published is stored exactly once, with its full text and never flagged as
edited (a half-received body stored and then "corrected" would show up as an edit).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import format_datetime
from html import escape

import pytest

from config import Settings
from monitors.fetch import fetch_all
from store.models import utc_now

SOAK_SECONDS = float(os.environ.get("RIFTWATCH_SOAK_SECONDS", "25"))
RSS_WINDOW = 50  # an RSS feed lists its newest 50 posts
TME_PAGE = 20  # a t.me/s page shows 20 posts, older ones behind ?before=
FAULTS = ("500", "timeout", "short-body", "cut-body", "stale-304", "garbage", "429")

log = logging.getLogger(__name__)


@dataclass
class Channel:
    name: str
    kind: str
    posts: list[tuple[int, str]] = field(default_factory=list)

    def publish(self, rng: random.Random) -> None:
        number = len(self.posts) + 1
        text = f"{self.name} post {number}: " + " ".join(
            rng.choice(["Шойгу", "снаряды", "фланги", "Вагнер", "🔥", "отход", "‮RTL‬"])
            for _ in range(rng.randint(3, 40)))
        self.posts.append((number, text))

    def key(self, number: int) -> str:
        """The store's dedup key for post ``number``."""
        if self.kind == "telegram":
            return f"tg:{self.name}/{number}"
        return f"guid:{self.name}-{number}"

    def stored_form(self) -> dict[str, str]:
        return {self.key(number): text for number, text in self.posts}


class FlakyPublisher:
    """An HTTP/1.1 server (raw sockets, so it can cut bodies) for every channel, faults on."""

    def __init__(self, kit, raw_server, channels: dict[str, Channel], seed: int) -> None:
        self.kit = kit
        self.channels = channels
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.fault_rate = 0.4
        self.served: dict[str, int] = {fault: 0 for fault in (*FAULTS, "ok", "304")}
        self.server = raw_server(self.handle)

    def url(self, path: str) -> str:
        return self.server.url.removesuffix("/feed") + path

    def handle(self, conn: socket.socket) -> None:
        head = self.kit.read_request_head(conn).decode("latin-1")
        path = head.split(" ")[1] if head.count(" ") >= 2 else "/"
        etag_sent = next((line.split(":", 1)[1].strip() for line in head.split("\r\n")
                          if line.lower().startswith("if-none-match:")), None)
        with self.lock:
            body, etag, content_type = self.render(path)
            fault = self.rng.choice(FAULTS) if self.rng.random() < self.fault_rate else None
            cut = self.rng.randint(1, max(1, len(body) - 1))
            self.served[fault or ("304" if etag_sent == etag else "ok")] += 1
        self.answer(conn, fault, body, etag if fault is None else None, etag_sent, content_type,
                    cut)

    def answer(self, conn: socket.socket, fault: str | None, body: bytes, etag: str | None,
               etag_sent: str | None, content_type: str, cut: int) -> None:
        def send(status: str, headers: str = "", payload: bytes = b"") -> None:
            conn.sendall(f"HTTP/1.1 {status}\r\nConnection: close\r\n{headers}\r\n".encode()
                         + payload)

        if fault == "timeout":
            time.sleep(0.6)
        elif fault == "500":
            send("500 Internal Server Error", "Content-Length: 4\r\n", b"boom")
        elif fault == "429":
            send("429 Too Many Requests", "Retry-After: 1\r\nContent-Length: 0\r\n")
        elif fault == "garbage":
            conn.sendall(b"\x16\x03\x01\x02\x00 not http at all\r\n\r\n")
        elif fault == "stale-304" or (fault is None and etag is not None and etag_sent == etag):
            send("304 Not Modified", f"ETag: {etag_sent or etag}\r\n")
        elif fault == "short-body":
            send("200 OK", f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n",
                 body[:cut])
        elif fault == "cut-body":
            send("200 OK", f"Content-Type: {content_type}\r\n", body[:cut])
        else:
            send("200 OK", f"Content-Type: {content_type}\r\nETag: {etag}\r\n"
                           f"Content-Length: {len(body)}\r\n", body)

    def render(self, path: str) -> tuple[bytes, str, str]:
        route, _, query = path.partition("?")
        channel = self.channels[route.rsplit("/", 1)[-1].removesuffix(".xml")]
        if channel.kind == "rss":
            posts = channel.posts[-RSS_WINDOW:]
            return rss(channel.name, posts), f'"{channel.name}-{len(channel.posts)}"', \
                "application/rss+xml"
        before = int(query.split("=", 1)[1]) if query.startswith("before=") else None
        older = [post for post in channel.posts if before is None or post[0] < before]
        page = older[-TME_PAGE:]
        return (tme(channel.name, page, more=len(older) > len(page)),
                f'"{channel.name}-{len(channel.posts)}-{before}"', "text/html; charset=utf-8")


def rss(name: str, posts: list[tuple[int, str]]) -> bytes:
    stamp = format_datetime(utc_now(), usegmt=True)
    items = "".join(f"<item><title>{name} {number}</title><guid>{name}-{number}</guid>"
                    f"<pubDate>{stamp}</pubDate><description>{escape(text)}</description></item>"
                    for number, text in reversed(posts))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{name}'
            f"</title>{items}</channel></rss>").encode()


def tme(name: str, posts: list[tuple[int, str]], more: bool) -> bytes:
    stamp = utc_now().isoformat(timespec="seconds")
    blocks = "".join(
        f'<div class="tgme_widget_message" data-post="{name}/{number}">'
        f'<div class="tgme_widget_message_text">{escape(text)}</div>'
        f'<a class="tgme_widget_message_date"><time datetime="{stamp}"></time></a></div>'
        for number, text in posts)
    link = (f'<a class="tme_messages_more" data-before="{posts[0][0]}" '
            f'href="/s/{name}?before={posts[0][0]}"></a>') if more and posts else ""
    empty = "" if posts else '<div class="tme_no_messages_found">No posts</div>'
    return (f'<html><body><section class="tgme_channel_history">{link}{blocks}{empty}'
            "</section></body></html>").encode()


@pytest.mark.soak
def test_every_published_post_is_stored_exactly_once_despite_random_faults(
        kit, raw_server, db, db_path, settings: Settings) -> None:
    seed = int(os.environ.get("RIFTWATCH_SOAK_SEED", str(random.randrange(1 << 30))))
    print(f"soak seed {seed} (RIFTWATCH_SOAK_SEED={seed} repeats this run)")
    rng = random.Random(seed)
    channels = {f"rss{n}": Channel(f"rss{n}", "rss") for n in range(6)}
    channels |= {f"chan{n}": Channel(f"chan{n}", "telegram") for n in range(6)}
    publisher = FlakyPublisher(kit, raw_server, channels, seed)
    for channel in channels.values():
        path = f"/{channel.name}.xml" if channel.kind == "rss" else f"/s/{channel.name}"
        kit.add_test_feed(db, channel.name, publisher.url(path), channel.kind)
    fast = settings.model_copy(update={"http_connect_timeout": 0.25, "http_read_timeout": 0.25})
    names = sorted(channels)

    cycles = 0
    deadline = time.monotonic() + SOAK_SECONDS
    while time.monotonic() < deadline:
        for channel in channels.values():
            for _ in range(rng.choice([0, 0, 1, 1, 2])):
                channel.publish(rng)
        fetch_all(db_path, fast, feed_names=names, backfill_pages=rng.choice([0, 0, 0, 1]))
        cycles += 1

    publisher.fault_rate = 0.0  # the network heals: one more post each, a calm deep cycle
    for channel in channels.values():
        channel.publish(rng)
    for outcome in (o for _, o in fetch_all(db_path, fast, feed_names=names, backfill_pages=100)):
        assert outcome.status in ("ok", "not_modified"), outcome.error

    print(f"{cycles} cycles; requests served: {publisher.served}")
    assert cycles >= 10
    assert all(publisher.served[fault] > 0 for fault in FAULTS)
    published: dict[str, str] = {}
    for channel in channels.values():
        published |= channel.stored_form()
    stored = db.execute("SELECT key, text FROM items").fetchall()
    assert len(stored) == len(published), "posts lost or duplicated"
    assert dict(stored) == published
    assert db.execute("SELECT count(*) FROM items WHERE edited = 1").fetchone()[0] == 0
    assert kit.integrity(db_path) == "ok"
