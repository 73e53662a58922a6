"""Targets first attacked in the window ("New targets", both formatters) and the unlisted ones
admins may promote (/candidates), over a real SQLite store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlite_utils

from bot.views import render_candidates
from config import FeedConfig, Settings, load_themes
from config.settings import DEFAULT_THEMES_FILE
from digest.compose import compose_digest
from digest.render_text import render_text
from digest.telegram_html import render_digest_messages
from store.feeds import get_feed, sync_feeds
from store.items import save_items
from store.models import Item, to_iso
from store.targets import unlisted_targets

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MODEL = "test-model-1"


@pytest.fixture
def targets_db(db: sqlite_utils.Database) -> sqlite_utils.Database:
    """Shoigu attacked for days; the ministry and an unlisted general first attacked today."""
    sync_feeds(db, [FeedConfig(name=name, kind="telegram", role="blogger", channel=name)
                    for name in ("alpha", "beta")])
    posts = [
        ("alpha", NOW - timedelta(days=3), ["shoigu"]),
        ("alpha", NOW - timedelta(hours=3), ["shoigu", "ministry"]),
        ("alpha", NOW - timedelta(hours=2), ["unlisted:Суровикин"]),
        ("beta", NOW - timedelta(hours=1), ["unlisted:Суровикин", "unlisted:<b>Лапин</b>"]),
        ("beta", NOW - timedelta(days=2), ["unlisted:Пригожина"]),
    ]
    for number, (feed, when, targets) in enumerate(posts, start=1):
        item = Item(text=f"post {number}", channel=feed, post_id=number,
                    url=f"https://t.me/{feed}/{number}", published_at=when)
        save_items(db, get_feed(db, feed).id, [item])
        item_id = db.execute("SELECT id FROM items WHERE key = ?", [item.key]).fetchone()[0]
        db["scores"].insert({
            "item_id": item_id, "model_version": MODEL, "stance": "critical",
            "p_supportive": 0.05, "p_critical": 0.85, "p_alarmed": 0.05, "p_neutral": 0.05,
            "themes": "{}", "targets": json.dumps(targets, ensure_ascii=False),
            "evidence": "", "language": "ru", "scored_at": to_iso(NOW),
        })
    return db


def test_new_targets_are_first_attacked_in_the_window(
    targets_db: sqlite_utils.Database, settings: Settings
) -> None:
    digest = compose_digest(targets_db, settings, load_themes(DEFAULT_THEMES_FILE),
                            NOW - timedelta(hours=24), NOW)
    rows = [(t.target, t.label, t.unlisted, t.posts, t.channels) for t in digest.new_targets]
    assert rows == [
        ("unlisted:Суровикин", "Суровикин", True, 2, 2),
        ("ministry", "Defence Ministry", False, 1, 1),
        ("unlisted:<b>Лапин</b>", "<b>Лапин</b>", True, 1, 1),
    ]
    text = render_text(digest)
    assert "New targets (first attacked in this window):" in text
    assert "  Суровикин: 2 posts, 2 channels (unlisted: /candidates)" in text
    html = "\n".join(render_digest_messages(digest))
    assert "<b>New targets</b>" in html
    assert "• &lt;b&gt;Лапин&lt;/b&gt;: 1 post, 1 channel" in html
    assert "\n  Shoigu: " not in text  # attacked before the window: not new


def test_candidates_count_unlisted_targets(targets_db: sqlite_utils.Database) -> None:
    tallies = unlisted_targets(targets_db, MODEL)
    assert [(t.target, t.posts, t.channels) for t in tallies] == [
        ("unlisted:Суровикин", 2, 2), ("unlisted:<b>Лапин</b>", 1, 1),
        ("unlisted:Пригожина", 1, 1)]
    html = render_candidates(tallies)
    assert "• Суровикин: 2 posts, 2 channels, last 2026-11-25" in html
    assert "&lt;b&gt;Лапин&lt;/b&gt;" in html
    assert "<b>Лапин</b>" not in html
    assert render_candidates([]).startswith("No unlisted targets yet")
