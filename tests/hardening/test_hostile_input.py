"""Hostile post text through the whole path: served, fetched, stored, scored, composed, rendered.

Markup injection, a 100k-character post, zero-width and right-to-left controls, emoji
sequences, NUL and CR bytes. The store keeps the text as posted; the digest never lets it
become markup, break Telegram's limits, or reorder the digest's own text on screen.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from classifiers.scoring import score_pending
from config.settings import DEFAULT_THEMES_FILE
from config.themes import load_themes
from digest.compose import compose_digest
from digest.render_text import render_text
from digest.telegram_html import render_digest_messages, telegram_length
from monitors.fetch import fetch_feed
from store.models import utc_now

LONG = ("Минобороны опять молчит о флангах, снарядов нет. " * 2100)[:100_000]
HOSTILE = {
    1: "<script>alert('x')</script> Шойгу <b>врёт</i> </a><a href=\"javascript:alert(1)\">клик</a>",
    2: "&lt;b&gt;not bold&lt;/b&gt; &amp;amp; <tg-spoiler>spoiler</tg-spoiler> <pre>code",
    3: LONG,
    4: "Гера\u200bсимов\u200c и\u200d Шойгу\ufeff: невидимые символы в словах",
    5: "\u202eМинобороны врёт\u202c и \u2067изолят без конца \u202bвстраивание",
    6: "👨‍👩‍👧‍👦 🇷🇺 👍🏽 ❤️‍🔥 Вагнер 🔥" * 20,
    7: "NUL\x00 byte, CR\r\nline, tab\tand combining й̈̈̈̈ marks",
}
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def hostile_store(kit, feed_server, db, settings):
    """Each hostile post on its own t.me channel (so the digest quotes each), and all in RSS."""
    feeds = [("news", "rss", "/news.xml", len(HOSTILE))]
    feed_server.add("/news.xml", kit.rss_feed([(f"n{n}", text) for n, text in HOSTILE.items()],
                                              hours_ago=2))
    for number, text in HOSTILE.items():
        page = kit.tme_page(f"hostile{number}", [(number, text)], hours_ago=2)
        feed_server.add(f"/s/hostile{number}", page, content_type="text/html; charset=utf-8")
        feeds.append((f"hostile{number}", "telegram", f"/s/hostile{number}", 1))
    for name, kind, path, count in feeds:
        feed = kit.add_test_feed(db, name, feed_server.url(path), kind)
        outcome = fetch_feed(db, feed, settings)
        assert (outcome.status, outcome.items_new) == ("ok", count), outcome.error
    return db


def _flat(text: str) -> str:
    return " ".join(text.replace("\x00", "").split())


def test_hostile_text_is_stored_as_posted(hostile_store) -> None:
    """t.me text is stored as the reader saw it; an RSS description is HTML, reduced to text."""
    rows = dict(hostile_store.execute("SELECT key, text FROM items").fetchall())
    for number, text in HOSTILE.items():
        assert _flat(rows[f"tg:hostile{number}/{number}"]) == _flat(text), number
        if number > 2:  # no markup in it: the RSS text is the same
            assert _flat(rows[f"guid:n{number}"]) == _flat(text), number
    assert rows["guid:n1"] == "Шойгу врёт клик"  # tags gone, the script's body with them
    assert rows["guid:n2"].startswith("<b>not bold</b> &amp; spoiler")  # entities decoded once
    assert len(rows["tg:hostile3/3"]) == len(LONG)
    assert not any("\x00" in text for text in rows.values())


def _check_rendering(digest, parse_telegram_html) -> None:
    messages = render_digest_messages(digest)
    assert messages
    for message in messages:
        assert telegram_length(message) <= 4096
        visible = parse_telegram_html(message)  # Telegram's own refusal, or the visible text
        assert "<script>" not in message
        hrefs = re.findall(r'<a href="([^"]*)"', message)  # real tags: quoted text is escaped
        assert all(href.startswith(("http://", "https://")) for href in hrefs), hrefs
        assert not BIDI.search(message), "a bidi control could reorder the digest's own text"
        assert "\x00" not in visible
    text = render_text(digest)
    assert not BIDI.search(text)
    assert "\x00" not in text


def test_digest_of_hostile_posts_renders_safely(kit, hostile_store, settings) -> None:
    """Unscored: the newest-posts section quotes the hostile text itself."""
    until = utc_now()
    digest = compose_digest(hostile_store, settings, load_themes(DEFAULT_THEMES_FILE),
                            until - timedelta(hours=24), until)
    assert digest.total_items == 2 * len(HOSTILE)
    assert digest.newest
    _check_rendering(digest, kit.bot_standin().parse_telegram_html)


@pytest.mark.slow
def test_hostile_posts_are_scored_once_and_digested(kit, hostile_store, settings,
                                                    user_cache_classifier) -> None:
    scored = score_pending(hostile_store, user_cache_classifier, batch_size=8)
    assert scored == 2 * len(HOSTILE)
    rows = hostile_store.execute(
        "SELECT p_supportive + p_critical + p_alarmed + p_neutral, length(evidence) "
        "FROM scores").fetchall()
    assert len(rows) == 2 * len(HOSTILE)
    assert all(abs(total - 1.0) < 1e-3 and length <= 1000 for total, length in rows)
    assert score_pending(hostile_store, user_cache_classifier) == 0  # nothing scored twice
    until = utc_now()
    digest = compose_digest(hostile_store, settings, load_themes(DEFAULT_THEMES_FILE),
                            until - timedelta(hours=24), until,
                            model_version=user_cache_classifier.model_version)
    assert digest.scored_items > 0
    _check_rendering(digest, kit.bot_standin().parse_telegram_html)
