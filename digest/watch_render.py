"""Write watch alerts and watch lists: Telegram HTML for the bot, plain text for the CLI.

Formats given data only; every untrusted string (the watch as typed, channel names, the
evidence sentence, links) is escaped for HTML or made ``printable`` for a terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from digest.printable import printable
from digest.telegram_html import escape, link, post_ref
from digest.watch_spec import describe_rule
from store.watches import PendingMatch, StoredWatch, WatchedPost

ALERT_QUOTES = 3  # matches quoted in one alert; the rest are counted


def _clock(moment: datetime | None) -> str:
    return f"{moment:%d %b %H:%M} UTC" if moment else "time unknown"


def _cooldown(cooldown: timedelta) -> str:
    minutes = int(cooldown.total_seconds() // 60)
    if minutes == 0:
        return "every match"
    return f"at most one alert per {minutes} min" if minutes < 120 else \
        f"at most one alert per {minutes / 60:g} h"


def _match_line(match: PendingMatch) -> str:
    who = link(match.url, match.feed_title or match.feed)
    stance = f" ({escape(match.stance)})" if match.stance else ""
    return (f"• {who} {_clock(match.published_at)}{stance}: <i>«{escape(match.evidence)}»</i> "
            f"{post_ref(match.item_id)}")


def render_watch_alert(watch: StoredWatch, matches: Sequence[PendingMatch]) -> str:
    """One alert for a watch's new matches: the first ``ALERT_QUOTES`` quoted and linked."""
    shown = matches[:ALERT_QUOTES]
    lines = [f"🔔 <b>Watch</b> <code>{escape(describe_rule(watch.rule))}</code>: "
             f"{len(matches)} new {'post' if len(matches) == 1 else 'posts'}"]
    lines += [_match_line(match) for match in shown]
    if len(matches) > len(shown):
        lines.append(f"… and {len(matches) - len(shown)} more")
    return "\n".join(lines)


def render_watch_list(watches: Sequence[StoredWatch]) -> str:
    """A chat's watches, numbered for ``/unwatch N``."""
    if not watches:
        return ("This chat watches nothing yet. /watch шойгу alerts on every post that names "
                "him; /help shows the rest.")
    lines = ["<b>Watches</b> (/unwatch N removes one)"]
    lines += [f"{watch.number}. <code>{escape(describe_rule(watch.rule))}</code> — "
              f"{_cooldown(watch.cooldown)}" for watch in watches]
    return "\n".join(lines)


def watch_list_text(watches: Sequence[StoredWatch]) -> list[str]:
    """``riftwatch watch list``: one line per watch, with its chat."""
    return [f"{watch.chat_id}\t{watch.number}\t{printable(describe_rule(watch.rule))}\t"
            f"{_cooldown(watch.cooldown)}" for watch in watches]


def match_text(post: WatchedPost, evidence: str) -> str:
    """``riftwatch watch test``: one matched post on one line."""
    when = f"{post.published_at:%Y-%m-%d %H:%M}" if post.published_at else "-"
    return (f"{when}  {printable(post.feed)}  {post.stance or 'unscored'}  "
            f"«{printable(evidence)}»  {printable(post.url or f'#{post.item_id}')}")
