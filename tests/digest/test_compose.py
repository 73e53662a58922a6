"""Digest composition over constructed items and scores: counts, lift, rifts, filters, renderers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlite_utils

from config import FeedConfig, Settings, load_themes
from config.settings import DEFAULT_THEMES_FILE
from digest.compose import compose_digest, parse_window, theme_daily_shares
from digest.model import trim_quote
from digest.render_text import render_json, render_text
from store.feeds import get_feed, sync_feeds
from store.items import save_items
from store.models import Item, to_iso

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TAXONOMY = load_themes(DEFAULT_THEMES_FILE)
MODEL = "test-model-1"


def _score(db: sqlite_utils.Database, item_id: int, stance: str, themes: dict[str, float],
           targets: list[str] = (), model: str = MODEL) -> None:  # type: ignore[assignment]
    probabilities = {name: 0.05 for name in ("supportive", "critical", "alarmed", "neutral")}
    probabilities[stance] = 0.85
    db["scores"].insert({
        "item_id": item_id, "model_version": model, "stance": stance,
        **{f"p_{name}": value for name, value in probabilities.items()},
        "themes": json.dumps({name: themes.get(name, 0.01) for name in TAXONOMY.theme_names()}),
        "themes_present": json.dumps([name for name, p in themes.items() if p >= 0.5]),
        "targets": json.dumps(list(targets)), "evidence": f"evidence {item_id}",
        "language": "ru", "scored_at": to_iso(NOW),
    })


@pytest.fixture
def scored_db(db: sqlite_utils.Database) -> sqlite_utils.Database:
    """Two blogger channels and one news feed: a quiet 14-day normal, then a MoD spike."""
    sync_feeds(db, [
        FeedConfig(name="alpha", kind="telegram", role="blogger", channel="alpha", title="<b>A&A"),
        FeedConfig(name="beta", kind="telegram", role="blogger", channel="beta"),
        FeedConfig(name="wire", kind="rss", role="news", url="http://127.0.0.1/wire.xml"),
    ])
    post_id = 0

    def add(feed: str, when: datetime, stance: str, themes: dict[str, float],
            targets: list[str] = ()) -> None:  # type: ignore[assignment]
        nonlocal post_id
        post_id += 1
        item = Item(text=f"post {post_id}", channel=feed if feed != "wire" else None,
                    post_id=post_id if feed != "wire" else None, url=f"https://t.me/{feed}/{post_id}",
                    published_at=when)
        save_items(db, get_feed(db, feed).id, [item])
        item_id = db.execute("SELECT id FROM items WHERE key = ?", [item.key]).fetchone()[0]
        _score(db, item_id, stance, themes, targets)

    for day in range(1, 15):  # baseline: 2 posts a day per channel, 1 in 28 with mod_criticism
        for feed in ("alpha", "beta"):
            themes = {"mod_criticism": 0.9} if (day == 3 and feed == "alpha") else {}
            add(feed, NOW - timedelta(days=day, hours=2), "supportive", themes)
            add(feed, NOW - timedelta(days=day, hours=5), "neutral", {})
    for hour in range(6):  # window: 6 critical MoD posts of 10
        add("alpha" if hour % 2 else "beta", NOW - timedelta(hours=hour + 1), "critical",
            {"mod_criticism": 0.95, "command_chaos": 0.7}, ["ministry"])
    for hour in range(4):
        add("beta", NOW - timedelta(hours=hour + 1, minutes=30), "supportive", {})
    for hour in range(5):  # news: calm
        add("wire", NOW - timedelta(hours=hour + 1), "neutral", {"mod_criticism": 0.1 + hour * 0.2})
    return db


def _compose(db: sqlite_utils.Database, settings: Settings, **kwargs: object):  # type: ignore[no-untyped-def]
    return compose_digest(db, settings, TAXONOMY, NOW - timedelta(hours=24), NOW, **kwargs)


def test_digest_counts_lift_and_spike(scored_db: sqlite_utils.Database, settings: Settings) -> None:
    digest = _compose(scored_db, settings)
    assert digest.total_items == 15
    assert digest.items_by_role == {"blogger": 10, "news": 5}
    assert digest.model_version == MODEL
    assert digest.stance is not None
    assert digest.stance.counts["critical"] == 6
    assert digest.stance.baseline_total == 56
    assert digest.stance.shares["critical"] == 0.6
    mod = next(row for row in digest.themes if row.theme == "mod_criticism")
    assert (mod.count, mod.total, mod.baseline_count, mod.baseline_total) == (6, 10, 1, 56)
    assert (mod.news_count, mod.news_total) == (3, 5)  # 0.5, 0.7 and 0.9 reach the threshold
    assert mod.lift == pytest.approx((6.5 / 11) / (1.5 / 57))
    assert mod.spike
    assert mod.z > 4
    assert mod.p_value < 1e-4
    assert {row.theme for row in digest.spikes} == {"mod_criticism", "command_chaos"}
    assert len(digest.top_posts["mod_criticism"]) == 3
    supply = next(row for row in digest.themes if row.theme == "supply_shortage")
    assert supply.count == 0
    assert not supply.spike


def test_rifts_group_source_and_target(
    scored_db: sqlite_utils.Database, settings: Settings
) -> None:
    rifts = _compose(scored_db, settings).rifts
    assert {(rift.source, rift.target, rift.count) for rift in rifts} == {
        ("alpha", "ministry", 3), ("beta", "ministry", 3)}
    assert rifts[0].target_label == "Defence Ministry"
    assert len(rifts[0].evidence) == 2


def test_channel_and_theme_filters(scored_db: sqlite_utils.Database, settings: Settings) -> None:
    digest = _compose(scored_db, settings, channel="beta", theme="mod_criticism")
    assert [row.theme for row in digest.themes] == ["mod_criticism"]
    assert digest.themes[0].count == 3
    assert digest.themes[0].total == 7
    assert [row.feed_name for row in digest.channels] == ["beta"]
    with pytest.raises(ValueError, match="unknown theme"):
        _compose(scored_db, settings, theme="nope")


def test_unscored_store_still_gives_counts_and_newest(db: sqlite_utils.Database,
                                                      settings: Settings) -> None:
    sync_feeds(db, [FeedConfig(name="alpha", kind="telegram", role="blogger", channel="alpha")])
    save_items(db, get_feed(db, "alpha").id, [
        Item(text=f"p{n}", channel="alpha", post_id=n, published_at=NOW - timedelta(hours=n))
        for n in range(1, 4)])
    digest = _compose(db, settings)
    assert digest.model_version is None
    assert digest.stance is None
    assert digest.themes == []
    assert [post.quote for post in digest.newest] == ["p1", "p2"]
    assert "Newest posts" in render_text(digest)


def test_renderers_carry_the_numbers(scored_db: sqlite_utils.Database, settings: Settings) -> None:
    digest = _compose(scored_db, settings)
    text = render_text(digest)
    assert "Theme spikes:" in text
    assert "6/10 posts (60%)" in text
    assert "14-day normal" in text
    assert "alpha → Defence Ministry: 3 posts" in text
    data = json.loads(render_json(digest))
    mod = next(row for row in data["themes"] if row["theme"] == "mod_criticism")
    assert mod["count"] == 6
    assert mod["spike"] is True
    assert data["since"].startswith("2026-11-24T12:00")


def test_daily_shares(scored_db: sqlite_utils.Database) -> None:
    days = theme_daily_shares(scored_db, "mod_criticism", 3, until=NOW)
    assert [day.day.isoformat() for day in days] == ["2026-11-23", "2026-11-24", "2026-11-25"]
    today = days[-1]
    assert (today.blogger_count, today.blogger_total, today.news_count, today.news_total) == (
        6, 10, 3, 5)


@pytest.mark.parametrize(("text", "hours"), [("24h", 24), ("90m", 1.5), ("7d", 168), ("2w", 336)])
def test_parse_window(text: str, hours: float) -> None:
    assert parse_window(text) == timedelta(hours=hours)


@pytest.mark.parametrize("text", ["", "24", "h", "0h", "3y", "-1d"])
def test_parse_window_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a window"):
        parse_window(text)


def test_quote_trims_on_word_boundary() -> None:
    assert trim_quote("a  b\n c", 240) == "a b c"
    trimmed = trim_quote("слово " * 100, limit=20)
    assert trimmed.endswith("…")
    assert len(trimmed) <= 21
    assert not trimmed[:-1].endswith(" ")


def test_scored_counts_use_the_same_filter_as_posts(scored_db: sqlite_utils.Database,
                                                    settings: Settings) -> None:
    beta = _compose(scored_db, settings, channel="beta")
    assert (beta.total_items, beta.scored_items) == (7, 7)
    wire = _compose(scored_db, settings, channel="wire")
    assert (wire.total_items, wire.scored_items, wire.subject_role) == (5, 5, "news")
    assert wire.stance is not None
    assert wire.stance.counts["neutral"] == 5
