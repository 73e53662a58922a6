"""Format ranked unwatched channels (``digest.discovery``) as console text, rows for CSV and
JSON, and Telegram HTML, each candidate with the one command that watches it.

Formats given data only; every name is made ``printable`` (and escaped for HTML). The tally
is worded once (``digest.sections.unwatched_words``), as the digest's section words it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from digest.model import UnwatchedChannel
from digest.printable import escape_html, printable_lines
from digest.sections import unwatched_words
from store.edges import SPREAD_KINDS

TITLE = "Amplified but not watched"
RANKING = ("ranked by how many watched channels forward, mention or quote each, then how "
           "often, then the share of those posts that is critical")
CSV_COLUMNS = ["rank", "channel", "url", "channels", "picked_up_by", "pickups",
               *(f"{kind}s" for kind in SPREAD_KINDS), "scored", "critical", "critical_share",
               "first_seen", "last_seen", "add_command"]


def cli_add_command(candidate: UnwatchedChannel) -> str:
    return f"riftwatch feeds add @{candidate.channel}"


def bot_add_command(candidate: UnwatchedChannel) -> str:
    return f"/addfeed @{candidate.channel}"


def _none_found(window: str) -> str:
    return f"No unwatched channel was forwarded, mentioned or quoted by a watched one in {window}."


def render_unwatched_text(candidates: Sequence[UnwatchedChannel], window: str) -> str:
    """Numbered candidates, each with its tally and the ``feeds add`` command that watches it."""
    if not candidates:
        return printable_lines(_none_found(window))
    lines = [f"{TITLE} in {window} ({RANKING}):"]
    for rank, candidate in enumerate(candidates, start=1):
        lines.append(f"{rank:>3}. @{candidate.channel}: {unwatched_words(candidate)}")
        lines.append(f"     {cli_add_command(candidate)}")
    return printable_lines("\n".join(lines))


def unwatched_rows(candidates: Sequence[UnwatchedChannel]) -> list[dict[str, Any]]:
    """One row per candidate, ``CSV_COLUMNS`` (JSON keeps lists as lists)."""
    return [{"rank": rank, "channel": candidate.channel, "url": candidate.url,
             "channels": candidate.channels, "picked_up_by": candidate.picked_up_by,
             "pickups": candidate.pickups,
             **{f"{kind}s": candidate.by_kind.get(kind, 0) for kind in SPREAD_KINDS},
             "scored": candidate.scored, "critical": candidate.critical,
             "critical_share": (round(candidate.critical_share, 4)
                                if candidate.critical_share is not None else None),
             "first_seen": candidate.first_seen.isoformat() if candidate.first_seen else None,
             "last_seen": candidate.last_seen.isoformat() if candidate.last_seen else None,
             "add_command": cli_add_command(candidate)}
            for rank, candidate in enumerate(candidates, start=1)]


def render_unwatched_html(candidates: Sequence[UnwatchedChannel], window: str,
                          more: int = 0) -> str:
    """Telegram HTML: each candidate, then its ``/addfeed`` command in <code> (a tap copies
    it), so watching one is one step; ``more`` candidates not shown are counted."""
    if not candidates:
        return escape_html(_none_found(window))
    lines = [f"<b>{TITLE}</b> in {escape_html(window)} ({RANKING})"]
    for candidate in candidates:
        lines.append(f"• <b>@{escape_html(candidate.channel)}</b>: "
                     f"{escape_html(unwatched_words(candidate))}")
        lines.append(f"  <code>{escape_html(bot_add_command(candidate))}</code>")
    if more:
        lines.append(f"… and {more} more: riftwatch discover lists them all")
    return "\n".join(lines)
