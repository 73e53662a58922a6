"""The "Deleted or edited" section and the fastest-by-views line, composed from a real store
that the real save and coverage steps changed, and worded as text and Telegram HTML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlite_utils

from config import FeedConfig, Settings, load_themes
from config.settings import DEFAULT_THEMES_FILE
from digest.changes import word_diff
from digest.compose import compose_digest
from digest.render_text import render_text
from digest.telegram_html import render_digest
from store.feeds import add_feed
from store.item_history import record_coverage
from store.items import save_items
from store.models import Item

NOW = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
TAXONOMY = load_themes(DEFAULT_THEMES_FILE)
ATTACK = "Минобороны <b>врёт</b> & бросило штурмовиков без снарядов, Шойгу должен уйти."
SOFTENED = "Минобороны бросило штурмовиков без снарядов."


def _post(post_id: int, text: str, views: int, hours_ago: float) -> Item:
    return Item(text=text, channel="chan", post_id=post_id, url=f"https://t.me/chan/{post_id}",
                views=views, published_at=NOW - timedelta(hours=hours_ago))


def _score(db: sqlite_utils.Database, post_id: int, stance: str) -> None:
    item_id = db.execute("SELECT id FROM items WHERE post_id = ?", [post_id]).fetchone()[0]
    db.table("scores").insert({
        "item_id": item_id, "model_version": "m", "stance": stance,
        **{f"p_{name}": 0.7 if name == stance else 0.1
           for name in ("supportive", "critical", "alarmed", "neutral")},
        "themes": "{}", "themes_present": "[]", "targets": "[]",
        "scored_at": "2026-05-20T00:00:00Z"})


def _fetch(db: sqlite_utils.Database, feed_id: int, posts: list[Item], at: datetime) -> None:
    """What one fetch of the channel's head page stores."""
    save_items(db, feed_id, posts, now=at)
    record_coverage(db, feed_id, [post.post_id or 0 for post in posts], None, at)


def test_word_diff_names_the_runs_an_edit_took_out_and_put_in() -> None:
    assert word_diff("a b c d e", "a c d x e") == (["b"], ["x"])
    assert word_diff("one two", "one two") == ([], [])
    assert word_diff("", "new text") == ([], ["new text"])


def test_deleted_and_edited_critical_posts_with_what_was_removed(
        db: sqlite_utils.Database, settings: Settings) -> None:
    feed = add_feed(db, FeedConfig(name="chan", kind="telegram", role="blogger", channel="chan"))
    posts = [_post(1, ATTACK, 900, 6), _post(2, "Шойгу врёт о флангах.", 800, 5),
             _post(3, "Наши герои наступают.", 700, 4)]
    _fetch(db, feed.id, posts, NOW - timedelta(hours=3))
    for post_id, stance in ((1, "critical"), (2, "critical"), (3, "supportive")):
        _score(db, post_id, stance)
    softened = [_post(1, SOFTENED, 950, 6), _post(3, "Наши герои снова наступают.", 750, 4)]
    _fetch(db, feed.id, softened, NOW - timedelta(hours=2))  # 2 missed once, 1 and 3 edited
    _fetch(db, feed.id, softened, NOW - timedelta(hours=1))  # 2 missed twice: deleted
    _score(db, 1, "neutral")  # the rescoring of the softened text

    digest = compose_digest(db, settings, TAXONOMY, NOW - timedelta(hours=24), NOW)
    assert [(change.post.url, change.deleted, change.versions) for change in digest.changes] \
        == [("https://t.me/chan/2", True, 1), ("https://t.me/chan/1", False, 2)]  # not post 3
    edit = digest.changes[1]
    assert (edit.removed, edit.added) == (["<b>врёт</b> &", "снарядов, Шойгу должен уйти."],
                                          ["снарядов."])
    assert edit.stance_before == "critical"
    assert edit.post.stance == "neutral"

    html = render_digest(digest)
    assert "<b>Deleted or edited (critical posts)</b>" in html
    assert "deleted 2026-05-20 08:00 (critical)" in html
    assert "(was critical, now neutral)" in html
    assert ("removed: <s>&lt;b&gt;врёт&lt;/b&gt; &amp;</s> … "
            "<s>снарядов, Шойгу должен уйти.</s>") in html
    assert "<b>врёт</b>" not in html
    text = render_text(digest)
    assert "removed: [-<b>врёт</b> &-] … [-снарядов, Шойгу должен уйти.-]" in text
    assert "«Минобороны бросило штурмовиков без снарядов.» (edited)" not in text  # not quoted
    assert "edited (2 versions) 2026-05-20 07:00" in text


def test_the_fastest_critical_post_by_views_against_its_channels_usual(
        db: sqlite_utils.Database, settings: Settings) -> None:
    feed = add_feed(db, FeedConfig(name="chan", kind="telegram", role="blogger", channel="chan"))
    usual = [_post(post_id, f"Сводка {post_id}", 1000, 48 + post_id) for post_id in range(1, 6)]
    for post in usual:  # the channel's usual: sampled at 2 h old, 500 views/h (and post 11)
        save_items(db, feed.id, [post], now=(post.published_at or NOW) + timedelta(hours=2))
    fast = _post(10, "Минобороны снова врёт про фланги.", 6000, 2)
    slow = _post(11, "Шойгу опять молчит.", 500, 2)
    save_items(db, feed.id, [fast, slow], now=NOW)
    for post_id in (1, 2, 3, 4, 5, 11):
        _score(db, post_id, "supportive" if post_id < 10 else "critical")
    _score(db, 10, "critical")

    digest = compose_digest(db, settings, TAXONOMY, NOW - timedelta(hours=24), NOW + timedelta(
        seconds=1))
    assert [(speed.post.url, speed.views, round(speed.ratio, 1), speed.channel_posts)
            for speed in digest.fastest_by_views] == [("https://t.me/chan/10", 6000, 6.0, 6),
                                                      ("https://t.me/chan/11", 500, 0.5, 6)]
    assert ("6,000 views in 2.0 h, 3,000/h = 6.0x the channel's usual at that age "
            "(500/h, median of 6 posts)") in render_text(digest)

    few = settings.model_copy(update={"views_min_channel_posts": 7})
    assert compose_digest(db, few, TAXONOMY, NOW - timedelta(hours=24), NOW).fastest_by_views \
        == []
