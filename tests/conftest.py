"""Fixtures shared by every test: a fresh store, settings, the shared data folder."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlite_utils

from config import Settings, load_settings
from store.db import open_db

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or skip: a user's checkout has no shared folder."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent (only in the team's checkout)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """The user-level model cache with the packaged model converted (once per machine).

    Shared by every test that loads the real model, and by the child processes some tests
    start, so the suite converts the model at most once.
    """
    from classifiers.convert import ensure_default_model

    cache = Settings.model_fields["cache_dir"].default
    ensure_default_model(cache)
    return cache


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "riftwatch.db"


@pytest.fixture
def db(db_path: Path) -> sqlite_utils.Database:
    return open_db(db_path)


@pytest.fixture
def settings(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings isolated from the developer's environment, pointing at a tmp store."""
    for name in list(__import__("os").environ):
        if name.startswith("RIFTWATCH_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return load_settings(db_path=db_path, cache_dir=tmp_path / "cache", allow_private_urls=True)


# --- a real HTTP server on 127.0.0.1 for monitor, CLI and demo tests ------------------------

@dataclass
class Reply:
    """What the test server answers on one route."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (read-timeout tests)


@dataclass(frozen=True)
class SeenRequest:
    path: str
    headers: dict[str, str]


RouteHandler = Callable[[SeenRequest], Reply]


class FeedServer:
    """Serves registered routes on 127.0.0.1 and records every request it gets."""

    Reply = Reply  # handlers given to ``add_handler`` return ``feed_server.Reply(...)``

    def __init__(self) -> None:
        self.routes: dict[str, RouteHandler] = {}
        self.requests: list[SeenRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, body: bytes | str = b"", status: int = 200,
            content_type: str | None = "application/xml", headers: dict[str, str] | None = None,
            delay: float = 0.0) -> str:
        """Serve a fixed reply at ``path`` (with a query string: only that query); its URL."""
        data = body.encode() if isinstance(body, str) else body
        all_headers = {"Content-Type": content_type} if content_type else {}
        all_headers.update(headers or {})
        reply = Reply(data, status, all_headers, delay)
        self.routes[path] = lambda request: reply
        return self.url(path)

    def add_handler(self, path: str, handler: RouteHandler) -> str:
        self.routes[path] = handler
        return self.url(path)

    def hits(self, path: str) -> list[SeenRequest]:
        return [seen for seen in self.requests if seen.path == path]

    def _reply_for(self, seen: SeenRequest) -> Reply:
        handler = self.routes.get(seen.path) or self.routes.get(seen.path.split("?")[0])
        if handler is None:
            return Reply(b"not found", 404, {"Content-Type": "text/plain"})
        return handler(seen)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # http.server's naming
                seen = SeenRequest(self.path, {k.lower(): v for k, v in self.headers.items()})
                server.requests.append(seen)
                reply = server._reply_for(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A live HTTP server on 127.0.0.1; register routes with ``add`` / ``add_handler``."""
    server = FeedServer()
    server.start()
    yield server
    server.stop()


# --- a store of real t.me markup whose posts forward and mention unwatched channels ----------

# Pages of ../shared/data/tme-pages with forwards (or a t.me link) in them, by watched channel.
FORWARDING_PAGES = {"topwar_official": ["full.html"],
                    "oper_goblin": ["message_media_forwarded_from.html",
                                    "message_media_file.html", "message_voice.html"],
                    "fighter_bomber": ["message_link_preview_video.html"]}


def store_forwarding_pages(db: sqlite_utils.Database, shared_data: Path, shift: timedelta,
                           critical: dict[str, str], model_version: str = "m1") -> None:
    """Watch the three channels, store their real posts ``shift`` later than posted, and
    score the posts keyed in ``critical`` (item key → stance); the rest stay unscored."""
    from config import FeedConfig
    from monitors.telegram import parse_channel_page
    from store.feeds import add_feed
    from store.items import save_items

    for name, pages in FORWARDING_PAGES.items():
        feed_id = add_feed(db, FeedConfig(name=name, kind="telegram", role="blogger",
                                          channel=name)).id
        for page in pages:
            items = parse_channel_page((shared_data / "tme-pages" / page).read_bytes()).items
            save_items(db, feed_id, [replace(item, published_at=item.published_at + shift)
                                     for item in items if item.published_at])
    for key, stance in critical.items():
        db["scores"].insert({"item_id": db.execute("SELECT id FROM items WHERE key = ?",
                                                   [key]).fetchone()[0],
                             "model_version": model_version, "stance": stance,
                             "p_supportive": 0.1, "p_critical": 0.7, "p_alarmed": 0.1,
                             "p_neutral": 0.1, "themes": "{}", "targets": "[]",
                             "evidence": None, "language": "ru", "scored_at": "2023-03-01"})


@pytest.fixture
def forwarding_store(shared_data: Path) -> Callable[..., None]:
    """``store_forwarding_pages`` with the shared data folder (skips where it is absent)."""
    return lambda db, shift, critical: store_forwarding_pages(db, shared_data, shift, critical)
