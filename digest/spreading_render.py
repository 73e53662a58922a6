"""Format the Spreading section and the spreading alert, as plain text and as Telegram HTML.

Formats given data only; every untrusted string (channel names, post text, links) is made
``printable`` (and escaped for HTML). One line builder serves both formats, so they say the
same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from digest.model import (
    SPREADING_QUOTE_CHARS,
    AmplifierPair,
    Pickup,
    Spreading,
    SpreadPost,
    trim_quote,
)
from digest.printable import escape_html, printable

Escape = Callable[[str], str]


def _clock(moment: datetime | None) -> str:
    return f"{moment:%H:%M}" if moment else "?"


def _span(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "?"
    minutes = max(int((end - start).total_seconds() // 60), 0)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def _pickup_text(pickup: Pickup, esc: Escape) -> str:
    return f"{esc(pickup.channel)} ({pickup.kind} of {esc(pickup.from_channel)}, " \
           f"{_clock(pickup.published_at)})"


def spread_post_lines(spread: SpreadPost, esc: Escape = printable) -> list[str]:
    """Who posted it, how many picked it up and how fast, the path, the quote, the link."""
    post = spread.post
    head = (f"{esc(post.feed_name)} {_clock(post.published_at)}: picked up by "
            f"{spread.channels} channels, first after "
            f"{_span(post.published_at, spread.first_pickup)}, "
            f"{_clock(spread.first_pickup)} → {_clock(spread.last_pickup)}")
    path = " → ".join([esc(post.feed_name)] + [_pickup_text(pickup, esc)
                                                for pickup in spread.pickups])
    lines = [head, f"  path: {path}",
             f"  «{esc(trim_quote(post.quote, SPREADING_QUOTE_CHARS))}»"]
    if post.url:
        lines.append(f"  {esc(post.url)}")
    return lines


def pair_line(pair: AmplifierPair, baseline_days: int, esc: Escape = printable) -> str:
    return (f"{esc(pair.source)} ← {esc(pair.target)}: {pair.count} of {pair.total} "
            f"pick-ups, {pair.lift:.1f}x its {baseline_days}-day normal "
            f"({pair.baseline_count} of {pair.baseline_total}, z={pair.z:.1f})")


def spreading_lines(spreading: Spreading, esc: Escape = printable) -> list[str]:
    """The section's body lines (no heading)."""
    lines: list[str] = []
    if not spreading.posts:
        lines.append(f"No critical post was picked up by {spreading.min_channels} or more "
                     "other watched channels.")
    for spread in spreading.posts:
        lines += spread_post_lines(spread, esc)
    if spreading.pairs:
        lines.append("Top amplifiers (who passes on whose posts):")
        lines += [f"  {pair_line(pair, spreading.baseline_days, esc)}"
                  for pair in spreading.pairs]
    return lines


def render_spreading_text(spreading: Spreading) -> str:
    """The plain-text Spreading section, heading included."""
    return "\n".join(["Spreading:", *spreading_lines(spreading)])


def render_spreading_html(spreading: Spreading) -> str:
    """The Telegram HTML Spreading section, heading included."""
    return "\n".join(["<b>Spreading</b>", *spreading_lines(spreading, escape_html)])


def render_spread_alert(spread: SpreadPost) -> str:
    """The Telegram HTML alert sent once when a critical post crosses the spread threshold."""
    return "\n".join(["📣 <b>Spreading: a critical post is being picked up</b>",
                      *spread_post_lines(spread, escape_html)])
