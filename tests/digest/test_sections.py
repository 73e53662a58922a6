"""One section skeleton, two formatters: both word every section, and they agree on what shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from digest import render_text, sections, telegram_html
from digest.model import Digest, FeedHealth, PostRef

UNTIL = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)


def _post(item_id: int, published_at: datetime = UNTIL) -> PostRef:
    return PostRef(item_id=item_id, feed_name="alpha", feed_title=None,
                   url=f"https://t.me/alpha/{item_id}", published_at=published_at,
                   quote=f"newest <post> {item_id}")


def _feed(name: str, enabled: bool, failing: bool) -> FeedHealth:
    return FeedHealth(name=name, role="blogger", kind="telegram", enabled=enabled,
                      last_success_at=None, last_error="timed out" if failing else None,
                      error_count=3 if failing else 0, next_retry_at=None, items_in_window=0)


def _digest(**fields: object) -> Digest:
    base: dict[str, object] = dict(
        since=UNTIL - timedelta(hours=24), until=UNTIL, generated_at=UNTIL, model_version=None,
        total_items=2, items_by_role={"blogger": 2}, scored_items=0, baseline_days=14,
        stance=None, themes=[], rifts=[], top_posts={}, channels=[], newest=[_post(1)],
        health=[])
    return Digest(**{**base, **fields})  # type: ignore[arg-type]


def _both(digest: Digest) -> tuple[str, str]:
    return render_text.render_text(digest), telegram_html.render_digest(digest)


def test_each_formatter_words_every_section_type() -> None:
    assert sections.missing_wording(render_text.WORDING) == []
    assert sections.missing_wording(telegram_html.WORDING) == []


def test_newest_posts_show_when_no_post_is_quoted_under_a_theme() -> None:
    text, html = _both(_digest(top_posts={"mod_criticism": []}))
    assert "Newest posts:" in text
    assert "<b>Newest posts</b>" in html


def test_paused_feeds_are_neither_ok_nor_failing_in_either_format() -> None:
    health = [_feed("up", True, False), _feed("down", True, True), _feed("paused", False, True)]
    text, html = _both(_digest(health=health))
    assert "Feed health: 1 ok, 1 failing" in text
    assert "paused" not in text
    assert "Feeds: 1 ok, 1 failing (down)" in html


def test_times_are_shown_in_utc_in_both_formats() -> None:
    moscow = timezone(timedelta(hours=3))
    text, html = _both(_digest(newest=[_post(1, datetime(2026, 5, 20, 11, 30, tzinfo=moscow))]))
    assert "2026-05-20 08:30" in text
    assert "20 May 08:30" in html


def test_an_empty_window_says_so_in_both_formats() -> None:
    text, html = _both(_digest(total_items=0, items_by_role={}, newest=[]))
    assert "No posts in this window." in text
    assert "No posts in this window." in html


