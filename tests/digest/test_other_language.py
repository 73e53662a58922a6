"""A quoted post scored in a language other than Russian or Ukrainian says so, in every renderer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlite_utils

from config import FeedConfig, Settings, load_themes
from config.settings import DEFAULT_THEMES_FILE
from digest.compose import compose_digest
from digest.render_text import render_text
from digest.telegram_html import render_digest
from store.feeds import get_feed, sync_feeds
from store.items import save_items
from store.models import Item, to_iso

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TAXONOMY = load_themes(DEFAULT_THEMES_FILE)

CASES = [("ru", False), ("uk", False), ("bg", True), ("be", True), ("en", True), ("other", True)]


def _scored_post(db: sqlite_utils.Database, language: str) -> None:
    sync_feeds(db, [FeedConfig(name="alpha", kind="telegram", role="blogger", channel="alpha")])
    item = Item(text=f"post in {language}", channel="alpha", post_id=1,
                url="https://t.me/alpha/1", published_at=NOW - timedelta(hours=1))
    save_items(db, get_feed(db, "alpha").id, [item])
    stances = {"p_supportive": 0.05, "p_critical": 0.85, "p_alarmed": 0.05, "p_neutral": 0.05}
    db["scores"].insert({
        "item_id": 1, "model_version": "m", "stance": "critical", **stances,
        "themes": json.dumps({name: 0.9 for name in TAXONOMY.theme_names()}),
        "themes_present": json.dumps(TAXONOMY.theme_names()),
        "targets": json.dumps(["ministry"]), "evidence": f"evidence in {language}",
        "language": language, "scored_at": to_iso(NOW),
    })


@pytest.mark.parametrize(("language", "noted"), CASES)
def test_other_language_is_noted_beside_the_quote(
    db: sqlite_utils.Database, settings: Settings, language: str, noted: bool
) -> None:
    _scored_post(db, language)
    digest = compose_digest(db, settings, TAXONOMY, NOW - timedelta(hours=24), NOW)
    quoted = [post for posts in digest.top_posts.values() for post in posts]
    assert quoted
    assert all(post.language == language for post in quoted)
    for rendered in (render_text(digest), render_digest(digest)):
        assert ("(other language)" in rendered) is noted
