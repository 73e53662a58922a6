"""The bot's own answers as Telegram HTML: feed health, target candidates, themes, trend captions
and search hits. Formats plain data only; never reads the store or computes numbers."""

from __future__ import annotations

from collections.abc import Sequence

from digest.model import DailyShare, Digest, FeedHealth, trim_quote
from digest.search import SearchHit
from digest.telegram_html import (
    escape,
    fit_caption,
    lift_phrase,
    post_line,
    posts_word,
    share_percent,
    when,
)
from store.targets import TargetTally, target_display_name


def render_themes(digest: Digest) -> str:
    """Every theme with its share now against the baseline and the news."""
    lines = [f"<b>Themes</b> · {when(digest.since)} – {when(digest.until)} UTC",
             f"share of {escape(digest.subject_role)} posts · lift against the "
             f"{digest.baseline_days}-day normal · news"]
    for row in digest.themes:
        mark = " 🔺" if row.spike else ""
        lines.append(f"• <b>{escape(row.label)}</b> (<code>{escape(row.theme)}</code>) "
                     f"{share_percent(row.share)} · {lift_phrase(row, digest.baseline_days)} · "
                     f"news {share_percent(row.news_share)}{mark}")
    if not digest.themes:
        lines.append("No theme scores yet.")
    return "\n".join(lines)


def _feed_trouble(feed: FeedHealth, show_errors: bool) -> str:
    """An admin sees the last raw fetch error; anyone else only that a feed is failing."""
    if show_errors:
        return f" · ⚠️ {escape(trim_quote(feed.last_error, 80))}" if feed.last_error else ""
    if feed.error_count and feed.failing_since:
        return f" · ⚠️ failing since {escape(feed.failing_since)}"
    return ""


def render_feeds(health: Sequence[FeedHealth], show_errors: bool = False) -> str:
    """Watched feeds with their health: items today, last success, and trouble.

    Raw fetch errors (hosts, addresses, server messages) only with ``show_errors``, for admins.
    """
    if not health:
        return "No feeds are watched. An admin can add one with /addfeed."
    trouble = "last error" if show_errors else "trouble"
    lines = [f"<b>Watched feeds</b> (items today · last success · {trouble})"]
    for feed in health:
        state = "" if feed.enabled else " <i>paused</i>"
        error = _feed_trouble(feed, show_errors)
        lines.append(f"• <b>{escape(feed.name)}</b> {escape(feed.kind)}/{escape(feed.role)}"
                     f"{state}: {feed.items_in_window} · "
                     f"{escape(feed.last_success_at or 'never')}{error}")
    return "\n".join(lines)


def render_candidates(tallies: Sequence[TargetTally]) -> str:
    """Unlisted targets with how often they were attacked: candidates for the target list."""
    if not tallies:
        return ("No unlisted targets yet: every party attacked in a critical post is on the "
                "target list.")
    lines = ["<b>Unlisted targets</b> (attacked, not in the [[target]] list; add the name to "
             "a target's aliases in themes.toml to promote it)"]
    for tally in tallies:
        last = tally.last_at.date().isoformat() if tally.last_at else "?"
        lines.append(f"• {escape(target_display_name(tally.target))}: {tally.posts} "
                     f"{posts_word(tally.posts)}, {tally.channels} channel"
                     f"{'' if tally.channels == 1 else 's'}, last {last}")
    return "\n".join(lines)


def trend_caption(label: str, shares: Sequence[DailyShare]) -> str:
    """A caption (≤ 1024) for the trend chart: the theme and its latest and peak shares."""
    lines = [f"<b>{escape(label)}</b>: daily share of posts, bloggers vs news"]
    if shares:
        last = shares[-1]
        peak = max(shares, key=lambda share: share.blogger_share)
        lines.append(f"{last.day.isoformat()}: bloggers {share_percent(last.blogger_share)} "
                     f"({last.blogger_count}/{last.blogger_total}), news "
                     f"{share_percent(last.news_share)} ({last.news_count}/{last.news_total})")
        lines.append(f"Peak among bloggers: {share_percent(peak.blogger_share)} on "
                     f"{peak.day.isoformat()}")
    return fit_caption("\n".join(lines))


# ---------------------------------------------------------------- search


SEARCH_QUERY_CHARS = 80  # of the query, echoed above the hits


def render_search_html(query: str, hits: Sequence[SearchHit]) -> str:
    """``/search``'s answer: the query echoed, then each hit as a digest quotes a post, with its
    similarity (and how many stored posts carry the same text)."""
    echoed = escape(trim_quote(query, SEARCH_QUERY_CHARS))
    if not hits:
        return (f"No stored post is near «{echoed}» yet (posts are searchable once they are "
                "scored).")
    lines = [f"<b>Posts nearest</b> «{echoed}»:"]
    for hit in hits:
        copies = f", +{hit.copies - 1} copies" if hit.copies > 1 else ""
        lines.append(f"{post_line(hit.post)} <i>(similarity {hit.similarity:.2f}{copies})</i>")
    return "\n".join(lines)
