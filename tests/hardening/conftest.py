"""Fixtures for the hardening tests: raw TCP servers that misbehave below HTTP, feed builders.

The ``feed_server`` fixture (tests/conftest.py) answers well-formed HTTP; the servers here can
drip bytes, speak garbage, stream 50 MB without holding it, or hang until a test kills a process.
"""

from __future__ import annotations

import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

import pytest
import sqlite_utils

from config import FeedConfig
from store.feeds import add_feed
from store.models import FeedState

REPO = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable

Behaviour = Callable[[socket.socket], None]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "soak: bounded soak test (about 25 s; -m 'not soak' skips)")


# --- raw servers -----------------------------------------------------------------------------

def read_request_head(conn: socket.socket, limit: int = 65536) -> bytes:
    """Read up to the blank line that ends an HTTP request head (or EOF / limit)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < limit:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


class RawServer:
    """A threaded TCP server on 127.0.0.1 that hands each connection to ``behaviour``."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.connections = 0
        self.bytes_sent = 0
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer.connections += 1
                try:
                    outer.behaviour(self.request)
                except OSError:  # the client hung up: the point of most behaviours
                    pass

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/feed"

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        self.bytes_sent += len(data)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[Behaviour], RawServer]]:
    """Start raw servers with ``raw_server(behaviour)``; all are stopped after the test."""
    started: list[RawServer] = []

    def start(behaviour: Behaviour) -> RawServer:
        server = RawServer(behaviour)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed"


# --- feed bodies -----------------------------------------------------------------------------

def rss_feed(posts: list[tuple[str, str]], hours_ago: float = 1.0) -> bytes:
    """RSS 2.0 with one item per (guid, text); text is escaped as XML character data."""
    stamp = format_datetime(datetime.now(UTC) - timedelta(hours=hours_ago), usegmt=True)
    items = "".join(
        f"<item><title>{escape(guid)}</title><link>https://news.example/{escape(guid)}</link>"
        f"<guid>{escape(guid)}</guid><pubDate>{stamp}</pubDate>"
        f"<description>{escape(text)}</description></item>" for guid, text in posts)
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Sample news</title>{items}</channel></rss>").encode()


def tme_page(channel: str, posts: list[tuple[int, str]], text_is_html: bool = False,
             hours_ago: float = 1.0) -> bytes:
    """A t.me/s page in the real markup with (post id, text) posts, oldest first."""
    stamp = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat(timespec="seconds")
    blocks = "".join(
        f'<div class="tgme_widget_message_wrap"><div class="tgme_widget_message js-widget_message"'
        f' data-post="{channel}/{post}"><div class="tgme_widget_message_text js-message_text">'
        f"{text if text_is_html else escape(text)}</div>"
        f'<span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" '
        f'href="https://t.me/{channel}/{post}"><time datetime="{stamp}" class="time">x</time>'
        f"</a></span></div></div>" for post, text in posts)
    return ('<html><head><meta charset="utf-8"></head><body>'
            f'<section class="tgme_channel_history">{blocks}</section></body></html>').encode()


def add_test_feed(db: sqlite_utils.Database, name: str, url: str,
                  kind: str = "rss") -> FeedState:
    role = "blogger" if kind == "telegram" else "news"
    return add_feed(db, FeedConfig(name=name, kind=kind, role=role, url=url))


def item_keys(db: sqlite_utils.Database, feed_id: int | None = None) -> list[str]:
    sql = "SELECT key FROM items" + (" WHERE feed_id = ?" if feed_id is not None else "")
    return sorted(row[0] for row in db.execute(sql, [feed_id] if feed_id is not None else []))


def integrity(db_path: Path) -> str:
    """``PRAGMA integrity_check`` on a fresh connection ('ok' when the file is sound)."""
    import sqlite3

    conn = sqlite3.connect(str(db_path))
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


# --- child processes -------------------------------------------------------------------------

def child_env(db_path: Path, **extra: str) -> dict[str, str]:
    """The environment for a riftwatch child process: this repo importable, a tmp store."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RIFTWATCH_")}
    env.update({"PYTHONPATH": str(REPO), "RIFTWATCH_DB_PATH": str(db_path),
                "RIFTWATCH_ALLOW_PRIVATE_URLS": "true", "PYTHONUNBUFFERED": "1",
                "RIFTWATCH_LOG_LEVEL": "WARNING"})
    env.update(extra)
    return env


def spawn(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def kit():  # this module, so tests reach the helpers without sys.path tricks
    """The helpers above (``kit.rss_feed``, ``kit.integrity`` …) for the test modules."""
    return sys.modules[__name__]


def write_feeds_file(path: Path, feeds: list[tuple[str, str, str]]) -> Path:
    """A feeds.toml with (name, kind, url) entries (telegram feeds served from ``url``)."""
    blocks = [f'[[feed]]\nname = "{name}"\nkind = "{kind}"\n'
              f'role = "{"blogger" if kind == "telegram" else "news"}"\nurl = "{url}"\n'
              for name, kind, url in feeds]
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def bot_standin():  # the module object
    """tests/bot/conftest.py as a module: the Bot API stand-in and its helpers, not copied."""
    import importlib.util

    name = "riftwatch_hardening_bot_standin"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "tests" / "bot" / "conftest.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def user_cache_classifier(model_cache):  # type: ignore[no-untyped-def]
    """The real classifier from the user-level model cache, the one child processes use too.

    Loaded once per session; ``riftwatch prepare-model`` (or the first use) fills that cache.
    """
    from classifiers.scoring import load_classifier
    from config import load_settings
    from config.settings import DEFAULT_THEMES_FILE
    from config.themes import load_themes

    settings = load_settings(cache_dir=model_cache, model=None, threads=2, batch_size=16)
    return load_classifier(settings, load_themes(DEFAULT_THEMES_FILE))
