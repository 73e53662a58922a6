"""Telegram HTML rendering: escaping hostile text, trimming, splitting at Telegram's limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.views import render_feeds
from config.themes import STANCE_NAMES
from digest.model import ChannelRow, Digest, FeedHealth, PostRef, Rift, StanceMix, ThemeRow
from digest.sections import SectionLimits
from digest.telegram_html import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    fit_caption,
    render_digest,
    render_digest_messages,
    render_spike_alert,
    split_html,
    telegram_length,
    trim_quote,
)

UNTIL = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
HOSTILE = "<script>alert('x')</script> Шойгу & Герасимов <b>unclosed <i>tags </a> &amp; &#bad;"


def _post(number: int, text: str, title: str | None = "Rybar <official>") -> PostRef:
    return PostRef(item_id=number, feed_name="rybar", feed_title=title,
                   url=f"https://t.me/rybar/{number}?a=1&b=\"2\"", published_at=UNTIL,
                   quote=text, stance="critical", stance_probability=0.91)


def _theme(name: str, count: int, spike: bool) -> ThemeRow:
    return ThemeRow(theme=name, label=f"Label <{name}> & co", count=count, total=100,
                    share=count / 100, baseline_count=2, baseline_total=400, baseline_share=0.005,
                    news_count=0, news_total=20, news_share=0.0, lift=3.1, z=4.2, p_value=0.001,
                    news_lift=5.0, spike=spike)


def make_digest(posts: list[PostRef], channels: int = 3) -> Digest:
    stance = StanceMix(counts=dict.fromkeys(STANCE_NAMES, 25),
                       shares=dict.fromkeys(STANCE_NAMES, 0.25),
                       baseline_shares=dict.fromkeys(STANCE_NAMES, 0.25),
                       news_shares=dict.fromkeys(STANCE_NAMES, 0.25), total=100,
                       baseline_total=400, news_total=20)
    return Digest(
        since=UNTIL - timedelta(days=1), until=UNTIL, generated_at=UNTIL,
        model_version="test<model>", total_items=120, items_by_role={"blogger": 100, "news": 20},
        scored_items=120, baseline_days=14, stance=stance,
        themes=[_theme("mod_criticism", 12, True), _theme("supply_shortage", 3, False)],
        rifts=[Rift(source="rybar", source_title="Rybar & <friends>", target="mod",
                    target_label="Defence <Ministry>", count=7, evidence=posts[:1])],
        top_posts={"mod_criticism": posts},
        channels=[ChannelRow(feed_name=f"chan{n}", title=f"Channel <{n}> & co", role="blogger",
                             posts=10, stance_counts={"critical": 4, "neutral": 6},
                             top_theme="mod_criticism", last_post_at=UNTIL)
                  for n in range(channels)],
        newest=[], health=[FeedHealth(name="bad<feed>", role="news", kind="rss", enabled=True,
                                      last_success_at=None, last_error="timeout & <oops>",
                                      error_count=2, next_retry_at=None, items_in_window=0)],
    )


def test_hostile_text_is_escaped_and_parses(telegram_parse):
    digest = make_digest([_post(1, HOSTILE)])
    text = render_digest(digest)
    visible = telegram_parse(text)  # raises as Telegram would on a broken tag or stray '&'
    assert "<script>alert('x')</script>" in visible
    assert "Rybar <official>" in visible
    assert "Defence <Ministry>" in visible
    assert "&amp; &#bad;" in visible  # the user's literal text survives, not decoded
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    assert 'href="https://t.me/rybar/1?a=1&amp;b=&quot;2&quot;"' in text
    assert "🔺" in visible
    assert "3.1× its 14-day normal (z=4.2)" in visible


def test_long_quotes_are_trimmed_on_a_word_boundary():
    quote = trim_quote("слово " * 200, limit=50)
    assert len(quote) <= 50
    assert quote.endswith("…")
    assert "  " not in quote
    assert trim_quote("  short\n\n text ") == "short text"


def test_long_digest_splits_on_lines_with_every_part_valid(telegram_parse):
    posts = [_post(n, f"{n} " + HOSTILE + " длинный текст поста " * 12) for n in range(80)]
    digest = make_digest(posts, channels=60)
    whole = telegram_parse(render_digest(digest, SectionLimits(posts_per_theme=80)))
    assert len(render_digest_messages(digest)) >= 2  # the default rendering splits too
    parts = split_html(render_digest(digest, SectionLimits(posts_per_theme=80)))
    assert len(parts) >= 3
    visible = [telegram_parse(part) for part in parts]
    assert all(telegram_length(part) <= MESSAGE_LIMIT for part in parts)
    assert "".join(text.replace("\n", "") for text in visible) == whole.replace("\n", "")
    assert all(not part.startswith("\n") and not part.endswith("\n") for part in parts)


def test_an_overlong_line_is_split_inside_tags_without_breaking_them(telegram_parse):
    line = '<b>bold <a href="https://t.me/x/1">' + "слово &amp; " * 1500 + "</a></b> tail"
    parts = split_html("head\n" + line, limit=1000)
    assert len(parts) > 5
    for part in parts:
        telegram_parse(part)
        assert telegram_length(part) <= 1000
    assert parts[1].startswith('<b><a href="https://t.me/x/1">') or parts[1].startswith("<b>")
    joined = "".join(telegram_parse(part) for part in parts)
    assert joined.replace(" ", "").replace("\n", "") == (
        "head" + "bold " + "слово & " * 1500 + " tail").replace(" ", "")


def test_entities_and_emoji_are_never_cut(telegram_parse):
    for line in ("&amp;" * 3000, "😀" * 5000, "x" * 10000):
        parts = split_html(line, limit=MESSAGE_LIMIT)
        assert all(telegram_length(part) <= MESSAGE_LIMIT for part in parts)
        assert "".join(telegram_parse(part) for part in parts) == telegram_parse(line)


def test_caption_fits_1024(telegram_parse):
    caption = fit_caption("<b>" + "x &amp; y " * 400 + "</b>")
    assert telegram_length(caption) <= CAPTION_LIMIT
    telegram_parse(caption)
    assert caption.endswith("…")


def test_unscored_digest_says_so(telegram_parse):
    digest = make_digest([_post(1, "text")])
    digest.stance, digest.themes, digest.top_posts, digest.rifts = None, [], {}, []
    digest.newest = [_post(2, "newest <post>")]
    visible = telegram_parse(render_digest(digest))
    assert "not scored yet" in visible
    assert "newest <post>" in visible


def test_spike_alert_and_feeds_render(telegram_parse):
    digest = make_digest([_post(1, HOSTILE)])
    alert = telegram_parse(render_spike_alert(digest, digest.spikes[0]))
    assert alert.startswith("🔺 Spike: Label <mod_criticism> & co")
    feeds = telegram_parse(render_feeds(digest.health, show_errors=True))
    assert "bad<feed>" in feeds
    assert "timeout & <oops>" in feeds
    assert "timeout" not in telegram_parse(render_feeds(digest.health))


@pytest.mark.parametrize("limit", [160, 300, 1000])
def test_small_limits_still_balance(limit, telegram_parse):
    text = render_digest(make_digest([_post(n, HOSTILE * 3) for n in range(5)]))
    for part in split_html(text, limit):
        assert telegram_length(part) <= limit
        telegram_parse(part)
