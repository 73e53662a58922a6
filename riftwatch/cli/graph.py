"""The ``graph`` command: who forwards, mentions, quotes and attacks whom, as CSV, JSON, GEXF
or PNG. A thin shell: brings the stored edges up to date, composes the graph, writes it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from config.settings import REPORT_WINDOW
from riftwatch.cli.common import add_db_option, open_synced_db, start_command

if TYPE_CHECKING:
    from digest.graph import AmplificationGraph

DEFAULT_PNG = Path("riftwatch-graph.png")


def _write_csv(result: AmplificationGraph, out: Path | None) -> None:
    from digest.graph_render import EDGE_COLUMNS, edge_rows
    from riftwatch.byod.writers import atomic_rows

    with atomic_rows(out, "csv", EDGE_COLUMNS) as writer:
        for row in edge_rows(result):
            writer.write(row)


def _graph_bytes(result: AmplificationGraph, file_format: str, png_max_nodes: int) -> bytes:
    from digest.graph_render import graph_gexf, graph_json, render_graph_png

    if file_format == "json":
        return (json.dumps(graph_json(result), ensure_ascii=False, indent=2) + "\n").encode()
    if file_format == "gexf":
        return graph_gexf(result)
    return render_graph_png(result, png_max_nodes)


def cmd_graph(args: argparse.Namespace) -> None:
    from amplification.edge_extraction import extract_edges
    from digest.compose import parse_window
    from digest.graph import build_graph, parse_kinds
    from riftwatch.byod.writers import check_output_path, write_output
    from store.models import utc_now

    settings, taxonomy = start_command(args)
    kinds = parse_kinds(args.kind)  # an UnknownKindError is one line at the CLI's edge
    out = args.out or (DEFAULT_PNG if args.format == "png" else None)
    if out is not None:
        check_output_path(out)  # before the work, not after it
    until = utc_now()
    since = until - parse_window(args.since)
    db = open_synced_db(settings)
    extract_edges(db, settings)
    result = build_graph(db, since, until, kinds, taxonomy)
    if args.format == "csv":
        _write_csv(result, out)
    else:
        write_output(out, _graph_bytes(result, args.format, settings.graph_png_max_nodes))
    if out is not None:
        print(f"wrote {out}", file=sys.stderr)


def register_graph_command(commands: argparse._SubParsersAction) -> None:
    """Add ``graph``."""
    graph = commands.add_parser(
        "graph", help="who forwards, mentions, quotes and attacks whom in a window",
        description="Amplification edges of the window: forward (channel → the channel it "
                    "forwarded), mention (@name or t.me link), quote (near-copy within "
                    "RIFTWATCH_QUOTE_WINDOW_HOURS), attack (channel → the target it attacks). "
                    "CSV columns: source,target,kind,count,first_seen,last_seen,items.")
    since = f"{REPORT_WINDOW.days}d"
    graph.add_argument("--since", default=since, help=f"window: 24h, 7d, 2w (default {since})")
    graph.add_argument("--kind", help="comma-separated kinds: forward,mention,quote,attack "
                       "(default: all)")
    graph.add_argument("--format", choices=["csv", "json", "gexf", "png"], default="csv")
    graph.add_argument("--out", type=Path, help="output file (default: stdout; png: "
                       f"{DEFAULT_PNG})")
    add_db_option(graph)
    graph.set_defaults(func=cmd_graph)
