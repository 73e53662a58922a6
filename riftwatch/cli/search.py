"""The ``search`` and ``reindex`` commands: stored posts nearest a query or a post, and search
vectors for posts scored before they were stored. Thin shells: parse, call ``digest.search`` or
``classifiers.reindex``, print.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from config.themes import STANCE_NAMES
from riftwatch.cli.common import CommandError, add_db_option, open_synced_db, start_command

if TYPE_CHECKING:
    from digest.search import SearchHit


def cmd_search(args: argparse.Namespace) -> None:
    from classifiers.scoring import load_classifier
    from digest.compose import parse_window
    from digest.search import SearchFilters, search_like, search_text
    from store.models import utc_now

    if (args.query is None) == (args.like is None):
        raise CommandError('give a query ("нет снарядов") or --like ITEM_ID, not both')
    settings, taxonomy = start_command(args)
    since = utc_now() - parse_window(args.since) if args.since else None
    filters = SearchFilters(since=since, channel=args.channel, stance=args.stance,
                            theme=args.theme, limit=args.limit).checked(taxonomy)
    db = open_synced_db(settings)
    if args.like is not None:
        hits = search_like(db, settings.db_path, args.like, filters)
    else:
        hits = search_text(db, settings.db_path, load_classifier(settings, taxonomy),
                           args.query, filters)
    _print_hits(hits, args.format)


def _print_hits(hits: list[SearchHit], file_format: str) -> None:
    from digest.printable import printable_data
    from digest.render_text import render_search_text
    from digest.search import HIT_COLUMNS, hit_rows
    from riftwatch.byod.writers import atomic_rows

    if file_format == "json":
        print(json.dumps(printable_data(hit_rows(hits)), ensure_ascii=False, indent=2))
    elif file_format == "csv":
        with atomic_rows(None, "csv", HIT_COLUMNS) as writer:
            for row in hit_rows(hits):
                writer.write(row)
    else:
        print(render_search_text(hits))


def cmd_reindex(args: argparse.Namespace) -> None:
    from classifiers.reindex import reindex_vectors
    from classifiers.scoring import load_post_scorer
    from store.post_vectors import vector_count

    settings, taxonomy = start_command(args)
    db = open_synced_db(settings)
    scorer = load_post_scorer(settings, taxonomy)
    done = reindex_vectors(db, scorer, settings.score_batch_posts)
    print(f"gave {done} scored posts their search vector; "
          f"{vector_count(db, scorer.vector_space)} posts are searchable")


def register_search_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``search`` and ``reindex``."""
    search = commands.add_parser(
        "search", help="stored posts nearest a query (any language) or a post",
        description="Stored posts ranked by how close their meaning is to the query (the "
                    "model's query side against each post's vector, stored as it was scored), "
                    "or with --like to a stored post. Needs the sqlite-vec extension "
                    "(sqlean.py + sqlite-vec). Posts scored before search existed: "
                    "riftwatch reindex.")
    search.add_argument("query", nargs="?", help='what to look for, e.g. "нет снарядов"')
    search.add_argument("--like", type=int, metavar="ITEM_ID",
                        help="posts like this stored post (the #number digests show)")
    search.add_argument("--since", help="only posts published in this window: 24h, 7d, 2w")
    search.add_argument("--channel", help="only this feed (its name)")
    search.add_argument("--stance", choices=STANCE_NAMES, help="only posts of this stance")
    search.add_argument("--theme", help="only posts carrying this theme")
    search.add_argument("--limit", type=int, default=10, help="how many posts (default 10)")
    search.add_argument("--format", choices=["text", "json", "csv"], default="text")
    search.set_defaults(func=cmd_search)
    reindex = commands.add_parser(
        "reindex", help="give scored posts without a search vector theirs (posts scored before "
                        "search existed, or by another model)")
    reindex.set_defaults(func=cmd_reindex)
    for parser in (search, reindex):
        add_db_option(parser)
