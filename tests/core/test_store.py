"""Store: schema migrations, stable keys, dedup on re-fetch, feed health bookkeeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlite_utils

from config import FeedConfig
from store.db import open_db
from store.feeds import (
    FetchOutcome,
    add_feed,
    get_feed,
    list_feeds,
    record_fetch,
    remove_feed,
    set_feed_enabled,
    sync_feeds,
)
from store.items import items_since, save_items
from store.models import Item, normalise_url
from store.schema import MIGRATIONS

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _feed(db: sqlite_utils.Database, name: str = "rybar") -> int:
    sync_feeds(db, [FeedConfig(name=name, kind="telegram", role="blogger", channel=name)])
    return get_feed(db, name).id


def test_open_db_is_wal_and_migrated(db_path) -> None:  # type: ignore[no-untyped-def]
    db = open_db(db_path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert {"feeds", "items", "fetch_log", "scores", "subscribers", "digests_sent"} <= set(
        db.table_names())
    open_db(db_path)  # reopening applies nothing twice


def test_stable_keys_prefer_channel_post_then_guid_then_link_then_hash() -> None:
    assert Item(text="x", channel="Rybar", post_id=5, guid="g").key == "tg:rybar/5"
    assert Item(text="x", guid=" g1 ", url="http://a").key == "guid:g1"
    assert Item(text="x", url="HTTP://A.com/x/?utm_source=t#frag").key == "url:http://a.com/x"
    assert Item(text="x").key.startswith("sha1:")
    assert Item(text="x").key == Item(text="x").key
    assert normalise_url("https://A.com/p/?b=1&utm_medium=x") == "https://a.com/p?b=1"


def test_refetch_updates_views_and_edits_never_duplicates(db) -> None:  # type: ignore[no-untyped-def]
    feed_id = _feed(db)
    first = [Item(text="пост", channel="rybar", post_id=1, views=10, published_at=NOW)]
    assert save_items(db, feed_id, first).new == 1
    again = [Item(text="пост", channel="rybar", post_id=1, views=10, published_at=NOW)]
    assert save_items(db, feed_id, again).updated == 0
    edited = [Item(text="пост (испр.)", channel="rybar", post_id=1, views=99, published_at=NOW)]
    assert save_items(db, feed_id, edited).updated == 1
    rows = list(db["items"].rows)
    assert len(rows) == 1
    assert rows[0]["views"] == 99
    assert rows[0]["edited"] == 1


def test_items_since_joins_feed_and_filters_window(db) -> None:  # type: ignore[no-untyped-def]
    feed_id = _feed(db)
    save_items(db, feed_id, [
        Item(text="old", channel="rybar", post_id=1, published_at=NOW - timedelta(days=3)),
        Item(text="new", channel="rybar", post_id=2, published_at=NOW - timedelta(hours=1)),
    ])
    rows = items_since(db, NOW - timedelta(days=1))
    assert [row["text"] for row in rows] == ["new"]
    assert rows[0]["feed_name"] == "rybar"


def test_errors_back_off_and_success_resets(db) -> None:  # type: ignore[no-untyped-def]
    feed_id = _feed(db)
    for _ in range(3):
        record_fetch(db, feed_id, FetchOutcome(NOW, NOW, "error", 500, error="HTTP 500"),
                     retry_base=60, retry_cap=3600)
    feed = get_feed(db, "rybar")
    assert feed.error_count == 3
    assert feed.last_error == "HTTP 500"
    assert feed.next_retry_at == "2026-11-25T12:04:00Z"  # 60 s · 2² after the third failure
    record_fetch(db, feed_id, FetchOutcome(NOW, NOW, "error", 429, error="rate limited",
                                           retry_after_seconds=7200), retry_base=60, retry_cap=3600)
    assert get_feed(db, "rybar").next_retry_at == "2026-11-25T14:00:00Z"  # Retry-After wins
    record_fetch(db, feed_id, FetchOutcome(NOW, NOW, "ok", 200, 5, 5, etag='"e1"'),
                 retry_base=60, retry_cap=3600)
    feed = get_feed(db, "rybar")
    assert feed.error_count == 0
    assert feed.next_retry_at is None
    assert feed.etag == '"e1"'
    assert db["fetch_log"].count == 5


def test_pause_survives_config_sync_and_removed_stays_removed(db) -> None:  # type: ignore[no-untyped-def]
    _feed(db, "rybar")
    _feed(db, "wargonzo")
    set_feed_enabled(db, "rybar", False)
    remove_feed(db, "wargonzo")
    configs = [FeedConfig(name=name, kind="telegram", role="blogger", channel=name)
               for name in ("rybar", "wargonzo")]
    sync_feeds(db, configs)
    assert [(feed.name, feed.enabled) for feed in list_feeds(db)] == [("rybar", False)]
    add_feed(db, configs[1])
    assert {feed.name for feed in list_feeds(db)} == {"rybar", "wargonzo"}
