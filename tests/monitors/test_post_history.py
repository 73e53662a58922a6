"""Edits, deletions and view samples over the real t.me/s markup served on 127.0.0.1.

A saved real page (``../shared/data/tme-pages/full.html``) is fetched, then served again with
one post's text changed and another post cut out, as t.me would show an edit and a deletion.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import sqlite_utils

from config import FeedConfig, Settings
from monitors.fetch import fetch_feed
from monitors.telegram import parse_channel_page
from store.feeds import add_feed, get_feed
from store.item_history import prune_history
from store.items import save_items
from store.scores import unscored_items

WRAP = '<div class="tgme_widget_message_wrap js-widget_message_wrap"'
EDITED_ID, DELETED_ID = 70990, 70998
OLD_WORDS, NEW_WORDS = "временно не принимает самолеты", "снова <b>работает</b>"  # markup
MODEL = "test-model"


def _posts(raw: str) -> tuple[str, list[str]]:
    """The page cut before each post: (the head, one chunk per post, the last with the tail)."""
    head, *chunks = raw.split(WRAP)
    return head, chunks


def _post_id(chunk: str) -> int:
    found = re.search(r'data-post="[^/"]+/(\d+)"', chunk)
    assert found is not None
    return int(found.group(1))


def _page(raw: str, drop: tuple[int, ...] = (), edit: bool = False,
          views: str | None = None) -> bytes:
    """The real page with posts ``drop`` cut out, the edited post's words changed, and the
    edited post's view count set to ``views``."""
    head, chunks = _posts(raw)
    kept = []
    for chunk in chunks:
        if _post_id(chunk) in drop:
            continue
        if _post_id(chunk) == EDITED_ID:
            if edit:
                assert OLD_WORDS in chunk
                chunk = chunk.replace(OLD_WORDS, NEW_WORDS)
            if views is not None:
                chunk = re.sub(r'(tgme_widget_message_views">)[^<]*', rf"\g<1>{views}", chunk)
        kept.append(chunk)
    return (head + "".join(WRAP + chunk for chunk in kept)).encode()


def rss(*entries: tuple[str, str]) -> bytes:
    """RSS 2.0 with one sample item per (guid, description)."""
    items = "".join(f"<item><title>{guid}</title><guid>{guid}</guid><description>{text}"
                    "</description><pubDate>Wed, 20 May 2026 08:00:00 GMT</pubDate></item>"
                    for guid, text in entries)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Sample news</title>{items}</channel></rss>").encode()


def _serve(feed_server, body: bytes) -> str:  # noqa: ANN001
    return feed_server.add("/s/topwar_official", body, content_type="text/html")


def _fetch(db: sqlite_utils.Database, settings: Settings) -> None:
    outcome = fetch_feed(db, get_feed(db, "topwar"), settings)
    assert outcome.status == "ok", outcome.error


def _item(db: sqlite_utils.Database, post_id: int) -> dict:
    return next(db.query("SELECT * FROM items WHERE post_id = ?", [post_id]))


def _score_everything(db: sqlite_utils.Database) -> None:
    """A stored score for every item, as the scoring step leaves them (a fixed critical one)."""
    for item_id, _ in unscored_items(db, MODEL, 1000):
        db.table("scores").insert({
            "item_id": item_id, "model_version": MODEL, "stance": "critical",
            "p_supportive": 0.1, "p_critical": 0.7, "p_alarmed": 0.1, "p_neutral": 0.1,
            "themes": "{}", "themes_present": "[]", "targets": "[]",
            "scored_at": "2026-01-01T00:00:00Z"})


def _watch(db: sqlite_utils.Database, feed_server, raw: str) -> None:  # noqa: ANN001
    add_feed(db, FeedConfig(name="topwar", kind="telegram", role="blogger",
                            url=_serve(feed_server, _page(raw))))


def test_an_edit_keeps_both_versions_and_queues_only_that_post_for_rescoring(
        db, settings, feed_server, shared_data: Path) -> None:
    raw = (shared_data / "tme-pages" / "full.html").read_text(encoding="utf-8")
    _watch(db, feed_server, raw)
    _fetch(db, settings)
    _score_everything(db)
    first_text = _item(db, EDITED_ID)["text"]
    assert unscored_items(db, MODEL, 100) == []

    _serve(feed_server, _page(raw, edit=True))
    _fetch(db, settings)
    edited = _item(db, EDITED_ID)
    assert edited["version"] == 2
    assert edited["text"].endswith("Пулково снова работает.")  # the latest text
    assert edited["edited"] == 1
    versions = list(db.query("SELECT * FROM item_versions"))
    assert [(row["item_id"], row["version"], row["text"], row["stance"]) for row in versions] \
        == [(edited["id"], 1, first_text, "critical")]
    assert unscored_items(db, MODEL, 100) == [(edited["id"], edited["text"])]

    _serve(feed_server, _page(raw, edit=True))
    _fetch(db, settings)  # the same edited page again: nothing new to keep
    assert db.execute("SELECT count(*) FROM item_versions").fetchone()[0] == 1
    assert _item(db, EDITED_ID)["version"] == 2


def test_a_removed_post_is_deleted_only_at_the_second_covering_fetch(
        db, settings, feed_server, shared_data: Path) -> None:
    raw = (shared_data / "tme-pages" / "full.html").read_text(encoding="utf-8")
    _watch(db, feed_server, raw)
    _fetch(db, settings)
    _serve(feed_server, _page(raw, drop=(DELETED_ID,)))
    _fetch(db, settings)
    first_miss = _item(db, DELETED_ID)
    assert (first_miss["missed_fetches"], first_miss["deleted_at"]) == (1, None)

    _fetch(db, settings)
    gone = _item(db, DELETED_ID)
    assert gone["deleted_at"] is not None
    assert gone["changed_at"] == gone["deleted_at"]
    assert db.execute("SELECT count(*) FROM items WHERE deleted_at IS NOT NULL"
                      ).fetchone()[0] == 1  # its neighbours stay

    _serve(feed_server, _page(raw))  # back again (it was hidden, not deleted)
    _fetch(db, settings)
    back = _item(db, DELETED_ID)
    assert (back["missed_fetches"], back["deleted_at"]) == (0, None)


def test_a_page_that_scrolled_past_a_post_never_deletes_it(
        db, settings, feed_server, shared_data: Path) -> None:
    raw = (shared_data / "tme-pages" / "full.html").read_text(encoding="utf-8")
    _watch(db, feed_server, raw)
    _fetch(db, settings)
    oldest = [_post_id(chunk) for chunk in _posts(raw)[1]][:4]
    _serve(feed_server, _page(raw, drop=tuple(oldest)))  # newer posts pushed these off the page
    for _ in range(3):
        _fetch(db, settings)
    rows = db.execute("SELECT missed_fetches, deleted_at FROM items WHERE post_id IN "
                      f"({','.join('?' * len(oldest))})", oldest).fetchall()
    assert rows == [(0, None)] * len(oldest)


def test_a_post_keeps_its_latest_view_count_in_each_doubling_of_its_age(
        db, shared_data: Path) -> None:
    raw = (shared_data / "tme-pages" / "full.html").read_text(encoding="utf-8")
    feed = add_feed(db, FeedConfig(name="topwar", kind="telegram", role="blogger",
                                   channel="topwar_official"))
    first = parse_channel_page(_page(raw)).items
    published = next(item.published_at for item in first if item.post_id == EDITED_ID)
    assert published is not None

    def seen(views: str, minutes: int) -> None:
        save_items(db, feed.id, parse_channel_page(_page(raw, views=views)).items,
                   now=published + timedelta(minutes=minutes))

    def samples() -> list[tuple[int, int]]:
        return db.execute("SELECT v.age_bucket, v.views FROM view_samples v JOIN items i "
                          "ON i.id = v.item_id WHERE i.post_id = ? ORDER BY v.age_bucket",
                          [EDITED_ID]).fetchall()

    seen("34.5K", 20)
    assert db.execute("SELECT count(*) FROM view_samples").fetchone()[0] == 12
    seen("40.1K", 50)  # 20 and 50 minutes old: two buckets; only the moved count is sampled
    seen("41K", 55)  # the same bucket: its latest count replaces the earlier one
    assert samples() == [(0, 34500), (1, 41000)]
    assert db.execute("SELECT count(*) FROM view_samples").fetchone()[0] == 13
    seen("45K", 73 * 60)  # older than 72 hours: no longer sampled
    assert samples() == [(0, 34500), (1, 41000)]
    assert prune_history(db, published + timedelta(minutes=21)) == (0, 12)
    assert samples() == [(1, 41000)]


def test_rss_edits_become_versions_and_a_dropped_entry_is_never_deleted(
        db, settings, feed_server) -> None:
    url = feed_server.add("/news.xml", rss(("One", "Body of One"), ("Two", "Body of Two")))
    add_feed(db, FeedConfig(name="news", kind="rss", role="news", url=url))
    fetch_feed(db, get_feed(db, "news"), settings)
    feed_server.add("/news.xml", rss(("One", "Body of One, corrected")))
    for _ in range(3):
        fetch_feed(db, get_feed(db, "news"), settings)
    rows = {row["guid"]: row for row in db.query("SELECT * FROM items")}
    assert rows["One"]["version"] == 2
    assert "corrected" in rows["One"]["text"]
    assert [json.loads(row["earlier"])[0]["text"] for row in db.query(
        "SELECT json_group_array(json_object('text', text)) AS earlier FROM item_versions")] \
        == ["Body of One"]
    assert rows["Two"]["deleted_at"] is None
    assert rows["Two"]["missed_fetches"] == 0
