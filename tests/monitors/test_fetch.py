"""Fetch cycles end to end: real server on 127.0.0.1, real feedparser, real SQLite store."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import sqlite_utils

from config import FeedConfig, Settings
from monitors.fetch import fetch_all, fetch_feed
from store.feeds import add_feed, get_feed, set_feed_enabled
from store.models import from_iso, utc_now

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "tme"


def rss(*titles: str, dated: bool = True) -> bytes:
    """A small RSS 2.0 document with one item per title (sample text)."""
    stamp = format_datetime(utc_now() - timedelta(hours=1), usegmt=True)
    items = "".join(
        f"<item><title>{title}</title><link>https://news.example/{n}</link>"
        f"<guid>news-{title}</guid>{f'<pubDate>{stamp}</pubDate>' if dated else ''}"
        f"<description>&lt;p&gt;Body of {title}&lt;/p&gt;</description></item>"
        for n, title in enumerate(titles))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Sample news</title>{items}</channel></rss>").encode()


def tme_page(channel: str, ids: list[int], more: bool = True) -> bytes:
    """A t.me/s page in the real markup with sample posts ``ids`` (oldest first)."""
    posts = "".join(
        f'<div class="tgme_widget_message_wrap"><div class="tgme_widget_message js-widget_message"'
        f' data-post="{channel}/{post}"><div class="tgme_widget_message_text js-message_text">'
        f"Sample post {post}</div><span class=\"tgme_widget_message_views\">{post}</span>"
        f'<span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" '
        f'href="https://t.me/{channel}/{post}"><time datetime="2023-05-21T0{post % 10}:00:00+00:00"'
        f' class="time">x</time></a></span></div></div>' for post in ids)
    link = (f'<a href="/s/{channel}?before={min(ids)}" class="tme_messages_more" '
            f'data-before="{min(ids)}"></a>') if more and ids else ""
    return (f'<html><body><section class="tgme_channel_history">{link}{posts}</section>'
            f"</body></html>").encode()


def add(db: sqlite_utils.Database, name: str, url: str, kind: str = "rss"):
    role = "blogger" if kind == "telegram" else "news"
    return add_feed(db, FeedConfig(name=name, kind=kind, role=role, url=url))


def item_count(db: sqlite_utils.Database, feed_id: int) -> int:
    return db.execute("SELECT count(*) FROM items WHERE feed_id = ?", [feed_id]).fetchone()[0]


def test_rss_fetch_stores_items_and_a_second_fetch_adds_nothing(feed_server, db, settings) -> None:
    feed = add(db, "news", feed_server.add("/news.xml", rss("One", "Two", "Three")))
    first = fetch_feed(db, feed, settings)
    assert (first.status, first.items_seen, first.items_new) == ("ok", 3, 3)
    second = fetch_feed(db, get_feed(db, "news"), settings)
    assert (second.status, second.items_seen, second.items_new) == ("ok", 3, 0)
    assert item_count(db, feed.id) == 3
    row = db.execute("SELECT text, title FROM items WHERE guid = 'news-One'").fetchone()
    assert row == ("Body of One", "One")
    assert db["fetch_log"].count == 2


def test_items_without_a_date_get_the_fetch_time(feed_server, db, settings) -> None:
    feed = add(db, "news", feed_server.add("/news.xml", rss("Undated", dated=False)))
    before = utc_now().replace(microsecond=0)
    fetch_feed(db, feed, settings)
    (published,) = db.execute("SELECT published_at FROM items").fetchone()
    assert before <= from_iso(published) <= utc_now()


def test_conditional_get_304_is_not_modified(feed_server, db, settings) -> None:
    body = rss("One", "Two")

    def with_etag(request):
        if request.headers.get("if-none-match") == '"v1"':
            return feed_server.Reply(b"", 304, {"ETag": '"v1"'})
        return feed_server.Reply(body, 200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'})

    feed = add(db, "news", feed_server.add_handler("/news.xml", with_etag))
    assert fetch_feed(db, feed, settings).items_new == 2
    assert get_feed(db, "news").etag == '"v1"'
    outcome = fetch_feed(db, get_feed(db, "news"), settings)
    assert (outcome.status, outcome.http_status, outcome.items_new) == ("not_modified", 304, 0)
    state = get_feed(db, "news")
    assert state.last_error is None
    assert state.error_count == 0
    assert item_count(db, feed.id) == 2


def test_telegram_fetch_with_backfill_follows_before_links(feed_server, db, settings) -> None:
    feed_server.add("/s/sample_channel", tme_page("sample_channel", [7, 8, 9]),
                    content_type="text/html; charset=utf-8")
    feed_server.add("/s/sample_channel?before=7", tme_page("sample_channel", [4, 5, 6]),
                    content_type="text/html")
    feed_server.add("/s/sample_channel?before=4", tme_page("sample_channel", [1, 2, 3], False),
                    content_type="text/html")
    feed = add(db, "sample", feed_server.url("/s/sample_channel"), kind="telegram")
    outcome = fetch_feed(db, feed, settings, backfill_pages=1)
    assert (outcome.status, outcome.items_new) == ("ok", 6)
    assert feed_server.hits("/s/sample_channel?before=4") == []
    outcome = fetch_feed(db, get_feed(db, "sample"), settings, backfill_pages=5)
    assert (outcome.items_seen, outcome.items_new) == (9, 3)
    keys = [row[0] for row in db.execute("SELECT key FROM items ORDER BY post_id")]
    assert keys == [f"tg:sample_channel/{n}" for n in range(1, 10)]


def test_backfill_failure_keeps_the_first_page(feed_server, db, settings) -> None:
    feed_server.add("/s/sample_channel", tme_page("sample_channel", [7, 8, 9]))
    feed_server.add("/s/sample_channel?before=7", b"gone", status=500)
    feed = add(db, "sample", feed_server.url("/s/sample_channel"), kind="telegram")
    outcome = fetch_feed(db, feed, settings, backfill_pages=2)
    assert outcome.status == "ok"
    assert outcome.items_new == 3
    assert "backfill page 1: HTTP 500" in (outcome.error or "")
    assert get_feed(db, "sample").error_count == 0


BAD_INPUTS = {
    # name: (route kwargs, kind, expected error fragment, http status)
    "timeout": (dict(body=rss("x"), delay=1.5), "rss", "read timed out", None),
    "status500": (dict(body=b"boom", status=500), "rss", "HTTP 500", 500),
    "status404": (dict(body=b"missing", status=404), "rss", "HTTP 404", 404),
    "ratelimited": (dict(status=429, headers={"Retry-After": "3600"}), "rss",
                    "HTTP 429", 429),
    "huge": (dict(body=b"<rss>" + b"x" * 60_000 + b"</rss>"), "rss", "byte cap", None),
    "html": (dict(body=b"<!DOCTYPE html><html><body><p>Welcome</p></body></html>",
                  content_type="text/html"), "rss", "got an HTML page", None),
    "badxml": (dict(body=b'<?xml version="1.0"?><rss version="2.0"><channel><title>a</item>'),
               "rss", "not a valid RSS/Atom feed", None),
    "newmarkup": (dict(body=(SAMPLES / "changed_markup.html").read_bytes(),
                       content_type="text/html"), "telegram", "layout changed", None),
}


@pytest.fixture
def fast_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"http_read_timeout": 0.4, "http_max_bytes": 50_000})


def test_bad_feeds_are_recorded_while_others_fetch_and_stored_items_survive(
        feed_server, db, db_path, fast_settings) -> None:
    feed_server.add("/good.xml", rss("Good one", "Good two"))
    feed_server.add("/s/empty_channel", (SAMPLES / "empty.html").read_bytes(),
                    content_type="text/html")
    feed_server.add("/s/sample_channel", (SAMPLES / "reply_edited.html").read_bytes(),
                    content_type="text/html")
    feed_server.add("/loop1", status=302, headers={"Location": "/loop2"})
    feed_server.add("/loop2", status=302, headers={"Location": "/loop1"})
    good = add(db, "good", feed_server.url("/good.xml"))
    add(db, "emptychan", feed_server.url("/s/empty_channel"), kind="telegram")
    add(db, "tgsample", feed_server.url("/s/sample_channel"), kind="telegram")
    add(db, "loop", feed_server.url("/loop1"))
    # Each bad feed first succeeds once, so it has items that must survive its failure.
    for name, (_route, kind, _fragment, _status) in BAD_INPUTS.items():
        path = f"/bad/{name}"
        ok_body = rss(f"{name} earlier") if kind == "rss" else tme_page(name, [1])
        feed_server.add(path, ok_body)
        fetch_feed(db, add(db, name, feed_server.url(path), kind=kind), fast_settings)
        assert item_count(db, get_feed(db, name).id) == 1
    for name, (route, _kind, _fragment, _status) in BAD_INPUTS.items():
        feed_server.add(f"/bad/{name}", **route)

    seen: list[str] = []
    results = fetch_all(db_path, fast_settings, progress=lambda name, _o: seen.append(name))

    by_name = {feed.name: outcome for feed, outcome in results}
    assert sorted(seen) == sorted(by_name)
    assert len(by_name) == 4 + len(BAD_INPUTS)
    assert by_name["good"].status == "ok"
    assert by_name["good"].items_new == 2
    assert by_name["tgsample"].status == "ok"
    assert by_name["tgsample"].items_new == 2
    assert (by_name["emptychan"].status, by_name["emptychan"].items_seen) == ("ok", 0)
    assert by_name["loop"].status == "error"
    assert "redirect loop" in by_name["loop"].error
    for name, (_route, _kind, fragment, status) in BAD_INPUTS.items():
        outcome = by_name[name]
        assert outcome.status == "error", name
        assert fragment in outcome.error, (name, outcome.error)
        assert outcome.http_status == status, name
        state = get_feed(db, name)
        assert state.last_error == outcome.error
        assert state.error_count == 1
        assert "\n" not in state.last_error
        assert from_iso(state.next_retry_at) > utc_now()
        assert item_count(db, state.id) == 1, f"{name} lost stored items"
    assert item_count(db, good.id) == 2
    retry = get_feed(db, "ratelimited")
    assert from_iso(retry.next_retry_at) >= from_iso(retry.last_error_at) + timedelta(seconds=3600)


def test_fetch_all_skips_feeds_backing_off_and_paused(feed_server, db, db_path, settings) -> None:
    feed_server.add("/broken.xml", b"", status=500)
    feed_server.add("/good.xml", rss("One"))
    broken = add(db, "broken", feed_server.url("/broken.xml"))
    add(db, "good", feed_server.url("/good.xml"))
    add(db, "paused", feed_server.add("/paused.xml", rss("One")))  # one feed per address
    set_feed_enabled(db, "paused", False)
    fetch_feed(db, broken, settings)
    names = [feed.name for feed, _ in fetch_all(db_path, settings)]
    assert names == ["good"]
    named = fetch_all(db_path, settings, feed_names=["broken", "paused"])
    assert [feed.name for feed, _ in named] == ["broken", "paused"]
    assert get_feed(db, "broken").error_count == 2


def test_redirect_to_private_address_is_refused_and_recorded(feed_server, db, settings) -> None:
    strict = settings.model_copy(update={"allow_private_urls": False})
    feed = add(db, "private", feed_server.add("/feed.xml", rss("One")))
    outcome = fetch_feed(db, feed, strict)
    assert outcome.status == "error"
    assert "non-public address" in outcome.error
    assert feed_server.requests == []
    assert get_feed(db, "private").error_count == 1


def test_backfill_stops_on_a_paging_loop(feed_server, db, settings) -> None:
    # The server answers every ?before= with the same page, whose "more" link points to itself.
    feed_server.add("/s/sample_channel", tme_page("sample_channel", [4, 5]))
    feed_server.add("/s/sample_channel?before=4", tme_page("sample_channel", [4, 5]))
    feed = add(db, "sample", feed_server.url("/s/sample_channel"), kind="telegram")
    outcome = fetch_feed(db, feed, settings, backfill_pages=50)
    assert outcome.status == "ok"
    assert outcome.items_new == 2
    assert len(feed_server.hits("/s/sample_channel?before=4")) == 1
