"""The ``watch`` command: a chat's watch-list from the shell (``add``, ``list``, ``rm``) and
``test``, what a watch would have matched in the store or in a file. A thin shell over
``digest.watch_scan`` and ``store.watches``, like ``/watch``, ``/watches`` and ``/unwatch``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from riftwatch.cli.common import CommandError, add_db_option, open_synced_db, start_command

WATCH_WORDS = ("PHRASE (every inflection), re:PATTERN (RE2, case-insensitive), target:NAME "
               "(listed or unlisted:NAME, attacked), channel:NAME (its critical posts); then "
               "-WORD to exclude, stance:critical,alarmed, cooldown:30m. Quote it as one "
               "argument.")
SHOWN = 50  # matches `watch test` prints


def cmd_watch_add(args: argparse.Namespace) -> None:
    from digest.watch_scan import add_typed_watch
    from digest.watch_spec import describe_rule

    settings, taxonomy = start_command(args)
    watch = add_typed_watch(open_synced_db(settings), args.chat, args.watch, settings, taxonomy)
    print(f"chat {watch.chat_id} watches {describe_rule(watch.rule)} as number {watch.number}")


def cmd_watch_list(args: argparse.Namespace) -> None:
    from digest.watch_render import watch_list_text
    from store.watches import all_watches, chat_watches

    settings, _ = start_command(args)
    db = open_synced_db(settings)
    chats = [args.chat] if args.chat is not None else sorted(
        {watch.chat_id for watch in all_watches(db)})
    print("chat\tN\twatch\tcooldown")
    for chat in chats:
        for row in watch_list_text(chat_watches(db, chat)):
            print(row)


def cmd_watch_rm(args: argparse.Namespace) -> None:
    from digest.watch_spec import describe_rule
    from store.watches import remove_watch

    settings, _ = start_command(args)
    removed = remove_watch(open_synced_db(settings), args.chat, args.number)
    if removed is None:
        raise CommandError(f"chat {args.chat} has no watch number {args.number}; "
                           f"riftwatch watch list --chat {args.chat} numbers them")
    print(f"chat {args.chat} stopped watching {describe_rule(removed.rule)}")


def cmd_watch_test(args: argparse.Namespace) -> None:
    from classifiers.scoring import load_post_scorer
    from digest.compose import parse_window
    from digest.watch_match import match_posts
    from digest.watch_render import match_text
    from digest.watch_scan import stored_matches, typed_rule
    from digest.watch_spec import parse_watch
    from riftwatch.byod.watch_file import Scorer, file_posts
    from store.models import utc_now

    settings, taxonomy = start_command(args)
    if args.file is None:
        until, db = utc_now(), open_synced_db(settings)
        rule, _ = typed_rule(db, args.watch, settings, taxonomy)
        found = stored_matches(db, rule, settings, taxonomy, until - parse_window(args.since),
                               until)
        where = f"the store's posts of the last {args.since}"
    else:
        rule = parse_watch(args.watch, taxonomy, settings.watch_max_chars).rule
        def scorer() -> Scorer:
            return load_post_scorer(settings, taxonomy).score_texts

        posts = file_posts(args.file, rule, scorer, text_column=args.text_column,
                           max_record_chars=settings.max_record_chars)
        found = [(post, evidence) for post, _, evidence in
                 match_posts([(0, rule)], posts, taxonomy, settings.max_post_chars)]
        where = str(args.file)
    for post, evidence in found[:SHOWN]:
        print(match_text(post, evidence))
    more = f" ({len(found) - SHOWN} not shown)" if len(found) > SHOWN else ""
    print(f"{len(found)} {'post' if len(found) == 1 else 'posts'} matched in {where}{more}")


def register_watch_command(commands: argparse._SubParsersAction) -> None:
    """Add ``watch add|list|rm|test``."""
    watch = commands.add_parser(
        "watch", help="a chat's watch-list (alerts on new posts) and what a watch would match",
        description="Watches alert a Telegram chat to each new post they match, right after "
                    f"scoring. A watch is {WATCH_WORDS}")
    sub = watch.add_subparsers(dest="watch_command", required=True)
    add = sub.add_parser("add", help="add a watch to a chat (as /watch does in it)")
    add.add_argument("--chat", type=int, required=True, help="the Telegram chat id")
    add.add_argument("watch", help=WATCH_WORDS)
    add.set_defaults(func=cmd_watch_add)
    listing = sub.add_parser("list", help="watches, numbered per chat (as /watches)")
    listing.add_argument("--chat", type=int, help="only this chat")
    listing.set_defaults(func=cmd_watch_list)
    remove = sub.add_parser("rm", help="remove a chat's watch number N (as /unwatch N)")
    remove.add_argument("--chat", type=int, required=True)
    remove.add_argument("number", type=int, metavar="N")
    remove.set_defaults(func=cmd_watch_rm)
    test = sub.add_parser("test", help="what a watch would have matched: stored posts of "
                          "--since, or the posts of FILE (CSV or JSONL)")
    test.add_argument("watch", help=WATCH_WORDS)
    test.add_argument("file", type=Path, nargs="?", metavar="FILE",
                      help="posts to test on instead of the store (scored first when the "
                           "watch reads scores and the file has no stance column)")
    test.add_argument("--since", default="7d", help="window of stored posts (default 7d)")
    test.add_argument("--text-column", help="FILE's text column (default: message, text, …)")
    test.set_defaults(func=cmd_watch_test)
    for parser in (add, listing, remove, test):
        add_db_option(parser)
