"""The store's reads for digests, /status, export and the spread section, over a small store
built by hand: two blogger channels and a news feed, a day of scored posts, one unscored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlite_utils

from config import FeedConfig
from store.edges import EdgeEvidence, insert_evidence, spread_pair_counts, spread_parent_keys
from store.feeds import (
    FeedCounts,
    FetchOutcome,
    count_feeds,
    failing_since,
    feed_names,
    feed_role,
    get_feed,
    record_fetch,
    remove_feed,
    set_feed_enabled,
    sync_feeds,
)
from store.items import count_items, save_items
from store.models import Item, to_iso
from store.posts import (
    PostSlice,
    channel_tallies,
    newest_posts_per_channel,
    post_urls,
    posts_by_key,
    posts_for_export,
    posts_per_feed,
    posts_per_role,
    posts_with_targets,
    stance_theme_counts,
    theme_counts_per_day,
    top_posts_with_theme,
)
from store.scores import count_unscored_items, latest_model_version

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DAY = PostSlice("blogger", NOW - timedelta(hours=24), NOW)
THEMES = ["mod_criticism", "supply_shortage"]


def _score(db: sqlite_utils.Database, item_id: int, stance: str, themes: dict[str, float],
           targets: list[str], model: str = "m1", scored_at: datetime = NOW) -> None:
    probabilities = {name: 0.1 for name in ("supportive", "critical", "alarmed", "neutral")}
    probabilities[stance] = 0.7
    db.table("scores").insert({
        "item_id": item_id, "model_version": model, "stance": stance,
        **{f"p_{name}": value for name, value in probabilities.items()},
        "themes": json.dumps(themes), "targets": json.dumps(targets),
        "themes_present": json.dumps([name for name, p in themes.items() if p >= 0.5]),
        "evidence": f"evidence {item_id}", "language": "ru", "scored_at": to_iso(scored_at),
    })


@pytest.fixture
def store(db: sqlite_utils.Database) -> sqlite_utils.Database:
    """alpha: 3 posts in the last day (2 critical on the MoD, 1 supportive), 1 two days ago;
    beta: 1 alarmed post on supplies and 1 unscored; wire (news): 1 neutral."""
    sync_feeds(db, [
        FeedConfig(name="alpha", kind="telegram", role="blogger", channel="alpha", title="A"),
        FeedConfig(name="beta", kind="telegram", role="blogger", channel="beta"),
        FeedConfig(name="wire", kind="rss", role="news", url="http://127.0.0.1/wire.xml"),
    ])
    posts = [  # feed, post id, hours ago, score (stance, themes, targets) or None
        ("alpha", 1, 1, ("critical", {"mod_criticism": 0.9}, ["ministry"])),
        ("alpha", 2, 3, ("critical", {"mod_criticism": 0.6}, ["ministry", "gerasimov"])),
        ("alpha", 3, 5, ("supportive", {"mod_criticism": 0.1}, [])),
        ("alpha", 4, 48, ("critical", {"mod_criticism": 0.8}, ["ministry"])),
        ("beta", 1, 2, ("alarmed", {"supply_shortage": 0.7}, [])),
        ("beta", 2, 4, None),
        ("wire", 1, 6, ("neutral", {"mod_criticism": 0.2}, [])),
    ]
    for feed, post_id, hours, score in posts:
        item = Item(text=f"{feed} {post_id}", channel=feed if feed != "wire" else None,
                    post_id=post_id if feed != "wire" else None, guid=f"{feed}-{post_id}",
                    url=f"https://example.org/{feed}/{post_id}",
                    published_at=NOW - timedelta(hours=hours))
        save_items(db, get_feed(db, feed).id, [item])
        if score is not None:
            _score(db, _id(db, item.key), *score)
    return db


def _id(db: sqlite_utils.Database, key: str) -> int:
    return int(db.execute("SELECT id FROM items WHERE key = ?", [key]).fetchone()[0])


def test_stance_theme_counts_count_scored_posts_of_the_slice(store: sqlite_utils.Database
                                                             ) -> None:
    counts = stance_theme_counts(store, "m1", DAY, THEMES)
    assert counts.total == 4  # beta's unscored post and the two-day-old one are left out
    assert counts.stances == {"supportive": 1, "critical": 2, "alarmed": 1, "neutral": 0}
    assert counts.themes == {"mod_criticism": 2, "supply_shortage": 1}
    alpha = stance_theme_counts(store, "m1", PostSlice("blogger", DAY.since, NOW, "alpha"),
                                THEMES)
    assert (alpha.total, alpha.stances["critical"]) == (3, 2)
    assert stance_theme_counts(store, "m2", DAY, THEMES).total == 0


def test_top_posts_with_theme_likeliest_first(store: sqlite_utils.Database) -> None:
    rows = top_posts_with_theme(store, "m1", DAY, "mod_criticism", 5)
    assert [(row["feed_name"], row["theme_probability"]) for row in rows] == [
        ("alpha", 0.9), ("alpha", 0.6)]
    assert rows[0]["stance"] == "critical" and rows[0]["stance_probability"] == 0.7
    assert rows[0]["feed_title"] == "A" and rows[0]["evidence"].startswith("evidence ")
    assert len(top_posts_with_theme(store, "m1", DAY, "mod_criticism", 1)) == 1


def test_posts_with_targets_only_posts_that_attack(store: sqlite_utils.Database) -> None:
    rows = posts_with_targets(store, "m1", DAY)
    assert sorted(json.loads(row["targets"]) for row in rows) == [
        ["ministry"], ["ministry", "gerasimov"]]


def test_channel_tallies_by_role_then_busiest(store: sqlite_utils.Database) -> None:
    tallies = channel_tallies(store, "m1", DAY.since, NOW, THEMES)
    assert [(tally.name, tally.role, tally.posts) for tally in tallies] == [
        ("alpha", "blogger", 3), ("beta", "blogger", 2), ("wire", "news", 1)]
    beta = tallies[1]
    assert beta.stances == {"supportive": 0, "critical": 0, "alarmed": 1, "neutral": 0}
    assert beta.themes == {"mod_criticism": 0, "supply_shortage": 1}
    assert beta.last_published_at == to_iso(NOW - timedelta(hours=2))
    only = channel_tallies(store, None, DAY.since, NOW, channel="wire")
    assert [(tally.name, tally.themes, tally.stances["neutral"]) for tally in only] == [
        ("wire", {}, 0)]  # no model: posts counted, none scored


def test_posts_per_role_and_feed(store: sqlite_utils.Database) -> None:
    counts = posts_per_role(store, "m1", DAY.since, NOW)
    assert (counts.posts, counts.scored) == ({"blogger": 5, "news": 1}, 5)
    assert posts_per_role(store, "m1", DAY.since, NOW, "beta").posts == {"blogger": 2}
    per_feed = posts_per_feed(store, DAY.since, NOW)
    assert per_feed == {get_feed(store, "alpha").id: 3, get_feed(store, "beta").id: 2,
                        get_feed(store, "wire").id: 1}


def test_newest_posts_per_channel(store: sqlite_utils.Database) -> None:
    rows = newest_posts_per_channel(store, DAY.since, NOW, None, 1)
    assert [row["text"] for row in rows] == ["alpha 1", "beta 1", "wire 1"]
    assert [row["text"] for row in newest_posts_per_channel(store, DAY.since, NOW, "alpha", 2)
            ] == ["alpha 1", "alpha 2"]


def test_theme_counts_per_day(store: sqlite_utils.Database) -> None:
    counts = theme_counts_per_day(store, "m1", "mod_criticism", NOW - timedelta(days=3), NOW)
    assert counts == {("2026-11-23", "blogger"): (1, 1), ("2026-11-25", "blogger"): (2, 4),
                      ("2026-11-25", "news"): (0, 1)}


def test_posts_by_key_and_urls(store: sqlite_utils.Database) -> None:
    rows = posts_by_key(store, {"tg:beta/1", "tg:beta/2", "tg:nowhere/1"}, "m1")
    assert sorted(rows) == ["tg:beta/1", "tg:beta/2"]
    assert rows["tg:beta/1"]["stance"] == "alarmed" and rows["tg:beta/2"]["stance"] is None
    beta = _id(store, "tg:beta/1")
    assert post_urls(store, {beta, 9999}) == {beta: "https://example.org/beta/1"}
    assert post_urls(store, set()) == {}


def test_posts_for_export_oldest_first_with_scores_when_asked(store: sqlite_utils.Database
                                                              ) -> None:
    plain = list(posts_for_export(store, DAY.since, "alpha"))
    assert [row["text"] for row in plain] == ["alpha 3", "alpha 2", "alpha 1"]
    assert "stance" not in plain[0] and plain[0]["feed"] == "alpha"
    scored = list(posts_for_export(store, DAY.since, with_scores=True, model_version="m1"))
    assert {row["text"]: row["stance"] for row in scored}["beta 2"] is None
    assert {row["text"]: row["score_language"] for row in scored}["alpha 1"] == "ru"


def test_latest_model_and_unscored_items(store: sqlite_utils.Database) -> None:
    assert latest_model_version(store) == "m1"
    assert (count_items(store), count_unscored_items(store, "m1")) == (7, 1)
    _score(store, _id(store, "tg:beta/2"), "neutral", {}, [], model="m2",
           scored_at=NOW + timedelta(minutes=1))
    assert latest_model_version(store) == "m2"
    assert count_unscored_items(store, "m2") == 6
    assert count_unscored_items(store, None) == 7


def test_no_model_before_anything_is_scored(db: sqlite_utils.Database) -> None:
    assert latest_model_version(db) is None
    assert (count_items(db), count_unscored_items(db, None)) == (0, 0)
    assert count_feeds(db) == FeedCounts(0, 0, 0)


def test_feed_names_roles_counts_and_failing_since(store: sqlite_utils.Database) -> None:
    remove_feed(store, "wire")
    set_feed_enabled(store, "beta", False)
    assert feed_names(store) == {"alpha", "beta", "wire"}  # a removed feed keeps its name
    assert (feed_role(store, "wire"), feed_role(store, "nosuch")) == ("news", None)
    alpha = get_feed(store, "alpha").id
    for minutes, status in ((10, "error"), (20, "ok"), (30, "error"), (40, "error")):
        moment = NOW + timedelta(minutes=minutes)
        record_fetch(store, alpha, FetchOutcome(moment, moment, status, error="boom"),
                     retry_base=60, retry_cap=600)
    assert failing_since(store) == {alpha: to_iso(NOW + timedelta(minutes=30))}
    assert count_feeds(store) == FeedCounts(active=1, paused=1, failing=1)


def test_spread_parent_keys_and_pair_counts(store: sqlite_utils.Database) -> None:
    alpha, beta = _id(store, "tg:alpha/1"), _id(store, "tg:beta/1")
    seen = to_iso(NOW - timedelta(hours=1)) or ""
    insert_evidence(store, [
        EdgeEvidence("forward", "alpha", "beta", alpha, seen, "tg:beta/1"),
        EdgeEvidence("quote", "alpha", "beta", alpha, to_iso(NOW) or "", "tg:beta/9"),
        EdgeEvidence("attack", "alpha", "ministry", alpha, seen),
        EdgeEvidence("mention", "beta", "alpha", beta, seen),
    ])
    assert spread_parent_keys(store, {alpha, beta}) == {alpha: "tg:beta/1"}  # earliest kept
    assert spread_parent_keys(store, set()) == {}
    assert spread_pair_counts(store, DAY.since, NOW) == {("alpha", "beta"): 1,
                                                         ("beta", "alpha"): 1}
