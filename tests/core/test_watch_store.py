"""The watch-list's store: watches per chat numbered and capped, matches stored once with the
scan's mark, pending until claimed, removed with their watch, pruned with their claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlite_utils

from config import FeedConfig
from store.feeds import add_feed
from store.items import save_items
from store.models import Item
from store.subscribers import claim_alert
from store.watches import (
    ALERT_KIND,
    KEEP_MATCHES,
    Match,
    WatchRefused,
    WatchRule,
    add_watch,
    all_watches,
    chat_watches,
    cooldown_subject,
    match_subject,
    pending_matches,
    record_matches,
    remove_watch,
    watch_mark,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _items(db: sqlite_utils.Database, count: int) -> list[int]:
    feed = add_feed(db, FeedConfig(name="rybar", kind="telegram", role="blogger",
                                   channel="rybar")).id
    save_items(db, feed, [Item(text=f"пост {n}", channel="rybar", post_id=n,
                               published_at=NOW - timedelta(minutes=n)) for n in range(count)])
    return [int(row[0]) for row in db.execute("SELECT id FROM items ORDER BY id")]


def test_watches_are_numbered_per_chat_and_removed_by_number(db) -> None:  # type: ignore[no-untyped-def]
    for subject in ("шойгу", "генерал", "снаряд"):
        add_watch(db, 1, WatchRule("phrase", subject), HOUR, 10, NOW)
    add_watch(db, 2, WatchRule("target", "shoigu", ("учения",), ("critical",)), HOUR, 10, NOW)
    assert [(w.number, w.rule.subject) for w in chat_watches(db, 1)] == [
        (1, "шойгу"), (2, "генерал"), (3, "снаряд")]
    (other,) = chat_watches(db, 2)
    assert other.rule == WatchRule("target", "shoigu", ("учения",), ("critical",))
    assert other.cooldown == HOUR and other.created_at == NOW
    removed = remove_watch(db, 1, 2)
    assert removed is not None and removed.rule.subject == "генерал"
    assert [(w.number, w.rule.subject) for w in chat_watches(db, 1)] == [(1, "шойгу"),
                                                                         (2, "снаряд")]
    assert remove_watch(db, 1, 3) is None and remove_watch(db, 1, 0) is None
    assert remove_watch(db, 3, 1) is None  # another chat's list is not reachable
    assert len(all_watches(db)) == 3


def test_a_full_list_or_a_repeated_watch_is_refused_and_changes_nothing(db) -> None:  # type: ignore[no-untyped-def]
    for number in range(3):
        add_watch(db, 1, WatchRule("phrase", f"слово{number}"), HOUR, 3, NOW)
    with pytest.raises(WatchRefused, match="3 watches, the most"):
        add_watch(db, 1, WatchRule("phrase", "ещё"), HOUR, 3, NOW)
    with pytest.raises(WatchRefused, match="already has that watch"):
        add_watch(db, 1, WatchRule("phrase", "слово0"), timedelta(0), 5, NOW)
    assert [w.rule.subject for w in chat_watches(db, 1)] == ["слово0", "слово1", "слово2"]
    add_watch(db, 2, WatchRule("phrase", "слово0"), HOUR, 3, NOW)  # another chat may


def test_matches_are_stored_once_and_pending_until_claimed(db) -> None:  # type: ignore[no-untyped-def]
    first, second = _items(db, 2)
    watch = add_watch(db, 5, WatchRule("phrase", "пост"), HOUR, 10, NOW - HOUR)
    matches = [Match(watch.id, first, "пост 0"), Match(watch.id, second, "пост 1")]
    assert record_matches(db, matches, 7, NOW) == 2
    assert record_matches(db, matches, 7, NOW) == 0  # a repeated batch stores nothing twice
    assert watch_mark(db) == 7
    assert [m.item_id for m in pending_matches(db)] == [second, first]  # oldest post first
    assert claim_alert(db, 5, ALERT_KIND, match_subject(watch.id, second), None, NOW)
    (left,) = pending_matches(db)
    assert (left.item_id, left.evidence, left.feed, left.watch.id) == (first, "пост 0",
                                                                       "rybar", watch.id)
    assert not claim_alert(db, 5, ALERT_KIND, match_subject(watch.id, second), None, NOW + HOUR)


def test_removing_a_watch_drops_its_matches_and_claims(db) -> None:  # type: ignore[no-untyped-def]
    (item,) = _items(db, 1)
    kept = add_watch(db, 5, WatchRule("phrase", "пост"), HOUR, 10, NOW)
    gone = add_watch(db, 5, WatchRule("phrase", "другое"), HOUR, 10, NOW)
    record_matches(db, [Match(kept.id, item, "пост 0"), Match(gone.id, item, "пост 0")], 1, NOW)
    for watch in (kept, gone):
        claim_alert(db, 5, ALERT_KIND, cooldown_subject(watch.id), HOUR, NOW)
    remove_watch(db, 5, 2)
    assert [m.watch.id for m in pending_matches(db)] == [kept.id]
    claims = {row[0] for row in db.execute("SELECT subject FROM alert_claims")}
    assert claims == {cooldown_subject(kept.id)}
    # a match for a watch removed while a scan was running is not stored
    assert record_matches(db, [Match(gone.id, item, "пост 0")], 2, NOW) == 0


def test_old_matches_and_their_claims_are_pruned(db) -> None:  # type: ignore[no-untyped-def]
    old, new = _items(db, 2)
    watch = add_watch(db, 5, WatchRule("phrase", "пост"), HOUR, 10, NOW)
    long_ago = NOW - KEEP_MATCHES - HOUR
    record_matches(db, [Match(watch.id, old, "пост 0")], 1, long_ago)
    claim_alert(db, 5, ALERT_KIND, match_subject(watch.id, old), None, long_ago)
    claim_alert(db, 5, ALERT_KIND, cooldown_subject(watch.id), HOUR, long_ago)
    record_matches(db, [Match(watch.id, new, "пост 1")], 2, NOW)
    assert [m.item_id for m in pending_matches(db)] == [new]
    subjects = {row[0] for row in db.execute("SELECT subject FROM alert_claims")}
    assert subjects == {cooldown_subject(watch.id)}  # a cooldown claim is the watch's, kept
    assert db.execute("SELECT COUNT(*) FROM watch_matches").fetchone()[0] == 1
