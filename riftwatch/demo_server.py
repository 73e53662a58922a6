"""Serve the bundled demo corpus on 127.0.0.1 as t.me/s pages and an RSS feed.

The corpus (``demo_corpus/corpus.toml``) is sample text written by this project. Pages use
the real t.me/s markup, so the demo exercises the real monitors end to end: its ``spread``
entries become forwards (with the "Forwarded from" header), quotes and mentions (with a
t.me link to the original post) of the ``today`` posts, and forwards and mentions of the
``unwatched`` channels, which are named but never served. Its ``changes`` are served by a
later state of the corpus (``changed_corpus``): posts deleted and posts edited after posting.
"""

from __future__ import annotations

import html
import re
import threading
import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from store.models import utc_now

CORPUS_DIR = Path(__file__).resolve().parent / "demo_corpus"
CORPUS_FILE = CORPUS_DIR / "corpus.toml"
PAGE_SIZE = 20
BACKGROUND_DAYS = 14
POSTS_PER_DAY = 2
FIRST_POST_ID = 1000


@dataclass(frozen=True)
class DemoPost:
    channel: str
    post_id: int
    published_at: datetime
    text: str
    views: int
    ref: str | None = None  # "today/N" for a today post, so spread posts can point at it
    forward_of: str | None = None  # a forward of this ref ("today/N", or "NAME/ID" unwatched)


@dataclass(frozen=True)
class DemoArticle:
    guid: str
    title: str
    published_at: datetime


@dataclass
class DemoCorpus:
    """The corpus laid out in time relative to ``now``."""

    titles: dict[str, str]
    posts: dict[str, list[DemoPost]]
    news_name: str
    news_title: str
    articles: list[DemoArticle]
    unwatched: dict[str, str] = field(default_factory=dict)  # forwarded, never served: titles
    deleted: list[str] = field(default_factory=list)  # refs ("today/N") gone in a later state
    edits: dict[str, str] = field(default_factory=dict)  # ref → its text in a later state

    def post_address(self, ref: str) -> tuple[str, int]:
        """(channel, post id) of the post laid out for ``ref`` ("today/N")."""
        for channel, posts in self.posts.items():
            for post in posts:
                if post.ref == ref:
                    return channel, post.post_id
        raise KeyError(f"no demo post for {ref}")


Timed = tuple[datetime, str, str | None, str | None]  # moment, text, ref, forward_of


def _today_moment(position: int, now: datetime) -> datetime:
    return now - timedelta(minutes=20 + 35 * position)


def _spread_moment(entry: dict, now: datetime) -> datetime:
    """``after_minutes`` after the today post it picks up (``of``), else ``minutes_ago``."""
    if "of" in entry:
        position = int(entry["of"].split("/")[1])
        return _today_moment(position, now) + timedelta(minutes=entry["after_minutes"])
    return now - timedelta(minutes=entry["minutes_ago"])


def _spread_posts(channel: str, data: dict, now: datetime) -> list[Timed]:
    """This channel's pick-ups: a forward of a today post (``of``) keeps its text; a forward of
    an unwatched channel's post (``from``, "NAME/ID") and quotes and mentions carry their own
    (``{link}`` marks where the address of the ``of`` post goes)."""
    timed: list[Timed] = []
    for entry in data.get("spread", []):
        if entry["channel"] != channel:
            continue
        moment = _spread_moment(entry, now)
        if entry["kind"] == "forward" and "of" in entry:
            position = int(entry["of"].split("/")[1])
            timed.append((moment, data["posts"]["today"][position], None, entry["of"]))
        elif entry["kind"] == "forward":
            timed.append((moment, entry["text"], None, entry["from"]))
        elif "of" in entry:
            timed.append((moment, entry["text"].replace("{link}", "{link:" + entry["of"] + "}"),
                          None, None))
        else:
            timed.append((moment, entry["text"], None, None))
    return timed


def _channel_posts(channel: str, index: int, data: dict, now: datetime) -> list[DemoPost]:
    background, today = data["posts"]["background"], data["posts"]["today"]
    timed: list[Timed] = []
    for day in range(1, BACKGROUND_DAYS + 1):
        for slot in range(POSTS_PER_DAY):
            text = background[(index * 5 + day * 3 + slot) % len(background)]
            timed.append((now - timedelta(days=day, hours=3 + 7 * slot + index), text, None,
                          None))
    channels = len(data["channel"])
    for position, text in enumerate(today):
        if position % channels == index:
            timed.append((_today_moment(position, now), text, f"today/{position}", None))
    timed += _spread_posts(channel, data, now)
    timed.sort(key=lambda entry: entry[0])
    return [DemoPost(channel, FIRST_POST_ID + offset, moment, text, 900 + 137 * offset, ref,
                     forward_of)
            for offset, (moment, text, ref, forward_of) in enumerate(timed)]


def _articles(data: dict, now: datetime) -> list[DemoArticle]:
    news = data["news"]
    articles = []
    for day in range(1, BACKGROUND_DAYS + 1):
        title = news["background"][day % len(news["background"])]
        moment = now - timedelta(days=day, hours=5)
        articles.append(DemoArticle(f"demo-news-bg-{day}", title, moment))
    for position, title in enumerate(news["today"]):
        articles.append(DemoArticle(f"demo-news-today-{position}", title,
                                    now - timedelta(minutes=30 + 50 * position)))
    return sorted(articles, key=lambda article: article.published_at, reverse=True)


def load_corpus(now: datetime | None = None, path: Path = CORPUS_FILE) -> DemoCorpus:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    moment = now or utc_now()
    channels = data["channel"]
    return DemoCorpus(
        titles={channel["name"]: channel["title"] for channel in channels},
        posts={channel["name"]: _channel_posts(channel["name"], index, data, moment)
               for index, channel in enumerate(channels)},
        news_name=data["news"]["name"],
        news_title=data["news"]["title"],
        articles=_articles(data, moment),
        unwatched={channel["name"]: channel["title"] for channel in data.get("unwatched", [])},
        deleted=list(data.get("changes", {}).get("deleted", [])),
        edits={edit["of"]: edit["text"] for edit in data.get("changes", {}).get("edit", [])},
    )


def changed_corpus(corpus: DemoCorpus) -> DemoCorpus:
    """The corpus as a later fetch sees it: its ``deleted`` posts gone, its ``edits`` made."""
    posts = {channel: [replace(post, text=corpus.edits.get(post.ref or "", post.text))
                       for post in timeline if post.ref not in corpus.deleted]
             for channel, timeline in corpus.posts.items()}
    return replace(corpus, posts=posts)


_MESSAGE = (CORPUS_DIR / "message.html").read_text(encoding="utf-8")
_PAGE = (CORPUS_DIR / "page.html").read_text(encoding="utf-8")
_MORE = ('<div class="tgme_widget_message_centered js-messages_more_wrap">'
         '<a href="/s/{channel}?before={before}" class="tme_messages_more js-messages_more" '
         'data-before="{before}"></a></div>\n')


def _views(count: int) -> str:
    return f"{count / 1000:.1f}K" if count >= 1000 else str(count)


_FORWARDED = ('<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from&nbsp;'
              '<a class="tgme_widget_message_forwarded_from_name" href="https://t.me/{channel}/'
              '{post_id}"><span dir="auto">{title}</span></a></div>\n')
_LINK_MARK = re.compile(r"\{link:(today/\d+)\}")


def _forward_origin(corpus: DemoCorpus, ref: str) -> tuple[str, int, str]:
    """(channel, post id, title) of the post a forward repeats: a today post ("today/N"), or
    an unwatched channel's ("NAME/ID")."""
    if ref.startswith("today/"):
        channel, post_id = corpus.post_address(ref)
        return channel, post_id, corpus.titles[channel]
    channel, post_id_text = ref.split("/")
    return channel, int(post_id_text), corpus.unwatched[channel]


def _forwarded_header(corpus: DemoCorpus, post: DemoPost) -> str:
    if post.forward_of is None:
        return ""
    channel, post_id, title = _forward_origin(corpus, post.forward_of)
    return _FORWARDED.format(channel=channel, post_id=post_id, title=html.escape(title))


def _text_html(corpus: DemoCorpus, text: str) -> str:
    """Escaped post text, each ``{link:today/N}`` an anchor to that post, as t.me shows it."""
    def anchor(match: re.Match[str]) -> str:
        channel, post_id = corpus.post_address(match.group(1))
        address = f"https://t.me/{channel}/{post_id}"
        return f'<a href="{address}" target="_blank">{address}</a>'

    return _LINK_MARK.sub(anchor, html.escape(text))


def render_channel_page(corpus: DemoCorpus, channel: str, before: int | None) -> str:
    """The t.me/s page of the newest PAGE_SIZE posts older than ``before``."""
    posts = [post for post in corpus.posts[channel] if before is None or post.post_id < before]
    page = posts[-PAGE_SIZE:]
    title = html.escape(corpus.titles[channel])
    messages = "".join(
        _MESSAGE.format(channel=channel, post_id=post.post_id, title=title,
                        forwarded=_forwarded_header(corpus, post),
                        text=_text_html(corpus, post.text), views=_views(post.views),
                        datetime=post.published_at.isoformat(timespec="seconds"),
                        clock=post.published_at.strftime("%H:%M"))
        for post in page
    )
    more = _MORE.format(channel=channel, before=page[0].post_id) if len(posts) > len(page) else ""
    return _PAGE.format(title=title, channel=channel, more=more, messages=messages)


def render_news_feed(corpus: DemoCorpus, base_url: str) -> str:
    entries = "".join(
        f"<item><title>{html.escape(article.title)}</title>"
        f"<link>{base_url}/news/{article.guid}</link>"
        f"<guid isPermaLink=\"false\">{article.guid}</guid>"
        f"<pubDate>{format_datetime(article.published_at)}</pubDate>"
        f"<description>{html.escape(article.title)}</description></item>\n"
        for article in corpus.articles
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{html.escape(corpus.news_title)}</title><link>{base_url}/</link>"
        "<description>Sample news written for the riftwatch demo</description>"
        f"<language>en</language>\n{entries}</channel></rss>\n"
    )


class DemoServer:
    """A ThreadingHTTPServer on 127.0.0.1 (ephemeral port) serving one corpus."""

    def __init__(self, corpus: DemoCorpus) -> None:
        self.corpus = corpus
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def channel_url(self, channel: str) -> str:
        return f"{self.base_url}/s/{channel}"

    @property
    def news_url(self) -> str:
        return f"{self.base_url}/news.xml"

    def __enter__(self) -> DemoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(server: DemoServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's naming
            parts = urlsplit(self.path)
            if parts.path == "/news.xml":
                self._reply("application/rss+xml", render_news_feed(server.corpus, server.base_url))
                return
            channel = parts.path.removeprefix("/s/")
            if not parts.path.startswith("/s/") or channel not in server.corpus.posts:
                self.send_error(404)
                return
            before = parse_qs(parts.query).get("before", [None])[0]
            page = render_channel_page(server.corpus, channel, int(before) if before else None)
            self._reply("text/html; charset=utf-8", page)

        def _reply(self, content_type: str, body: str) -> None:
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler
