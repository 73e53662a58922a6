"""The ``discover`` command: channels the watched ones forward, mention or quote but riftwatch
does not watch, ranked, as text, JSON or CSV. A thin shell: brings the stored edges up to
date, ranks the candidates (``digest.discovery``), prints them.
"""

from __future__ import annotations

import argparse
import json

from riftwatch.cli.common import add_db_option, open_synced_db, start_command


def cmd_discover(args: argparse.Namespace) -> None:
    from amplification.edge_extraction import extract_edges
    from digest.compose import latest_model_version, parse_window
    from digest.discovery import discover_channels
    from digest.discovery_render import CSV_COLUMNS, render_unwatched_text, unwatched_rows
    from digest.printable import printable_data
    from riftwatch.byod.writers import NameList, atomic_rows
    from store.models import utc_now

    settings, _ = start_command(args)
    until = utc_now()
    since = until - parse_window(args.since)
    db = open_synced_db(settings)
    extract_edges(db, settings)
    candidates = discover_channels(db, since, until, latest_model_version(db))
    if args.format == "text":
        print(render_unwatched_text(candidates, f"the last {args.since}"))
        return
    rows = printable_data(unwatched_rows(candidates))
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    with atomic_rows(None, "csv", CSV_COLUMNS) as writer:
        for row in rows:
            writer.write({**row, "picked_up_by": NameList(row["picked_up_by"])})


def register_discover_command(commands: argparse._SubParsersAction) -> None:
    """Add ``discover``."""
    discover = commands.add_parser(
        "discover", help="channels the watched ones forward, mention or quote but you do not "
                         "watch, ranked, each with the command that watches it",
        description="Unwatched channels the watched ones picked up in the window, ranked by "
                    "how many distinct watched channels forward, mention or quote each, then "
                    "by how many posts do, then by the share of those posts the model calls "
                    "critical. Each comes with `riftwatch feeds add @NAME` (the bot's "
                    "/discover offers /addfeed). A \"Forwarded from\" name without a public "
                    "username is left out: it cannot be watched. CSV columns: rank, channel, "
                    "url, channels, picked_up_by (;-joined), pickups, forwards, mentions, "
                    "quotes, scored, critical, critical_share, first_seen, last_seen, "
                    "add_command.")
    discover.add_argument("--since", default="7d", help="window: 24h, 7d, 2w (default 7d)")
    discover.add_argument("--format", choices=["text", "json", "csv"], default="text")
    add_db_option(discover)
    discover.set_defaults(func=cmd_discover)
