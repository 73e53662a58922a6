"""The `riftwatch` command line: parse arguments, call one library function, print.

No business logic here; every command is a thin shell over config, store, monitors,
classifiers, digest or bot functions. Errors become one line and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from config import ConfigError, FeedConfig, RiftwatchError
from config.settings import DEFAULT_FEED_INTERVAL_MINUTES, DIGEST_WINDOW_HOURS
from riftwatch.cli.common import (
    CommandError,
    add_db_option,
    add_role_option,
    one_line,
    open_synced_db,
    start_command,
)
from riftwatch.cli.data import cmd_eval_data, register_data_commands
from riftwatch.cli.discover import register_discover_command
from riftwatch.cli.graph import register_graph_command
from riftwatch.cli.search import register_search_commands
from riftwatch.cli.watch import register_watch_command

if TYPE_CHECKING:
    from riftwatch.pipeline import CycleReport

DEMO_DB = Path("riftwatch-demo.db")


# ---- feeds ---------------------------------------------------------------------------------

def cmd_feeds_list(args: argparse.Namespace) -> None:
    from store.feeds import list_feeds

    settings, _ = start_command(args)
    db = open_synced_db(settings)
    print(f"{'name':<24} {'kind':<8} {'role':<7} {'on':<3} {'last success':<20} last error")
    for feed in list_feeds(db):
        error = f"{feed.last_error} (x{feed.error_count})" if feed.error_count else ""
        enabled = "yes" if feed.enabled else "no"
        print(f"{feed.name[:24]:<24} {feed.kind:<8} {feed.role:<7} {enabled:<3} "
              f"{feed.last_success_at or '-':<20} {error}")


def cmd_feeds_add(args: argparse.Namespace) -> None:
    from config.feeds import feed_from_source
    from monitors.errors import MonitorError
    from monitors.feed_admission import watch_feed
    from store.feeds import FeedConflict

    settings, _ = start_command(args)
    try:
        config = feed_from_source(args.source, role=args.role, name=args.name, title=args.title,
                                  interval_minutes=args.interval)
        feed = watch_feed(open_synced_db(settings), config, settings)  # the bot's /addfeed rule
    except FeedConflict as exc:  # before ValueError, which it also is
        fix = (f"to change it, riftwatch feeds remove {exc.name} and add it again"
               if exc.same_source else "choose another --name")
        raise CommandError(f"cannot add {args.source}: {exc}; {fix}") from None
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    except MonitorError as exc:
        raise CommandError(f"cannot add {args.source}: {exc.message}") from None
    print(f"added {feed.name} ({feed.kind}, {feed.role}): {feed.url}")


def cmd_feeds_remove(args: argparse.Namespace) -> None:
    from store.feeds import remove_feed

    settings, _ = start_command(args)
    remove_feed(open_synced_db(settings), args.name)
    print(f"removed {args.name} (its items stay in the store)")


def cmd_feeds_import_opml(args: argparse.Namespace) -> None:
    from riftwatch.opml import import_opml, read_opml

    settings, _ = start_command(args)
    outlines = read_opml(args.file, role=args.role)  # an unreadable file changes nothing
    report = import_opml(open_synced_db(settings), outlines, settings)
    for feed in report.added:
        print(f"added {feed.name} ({feed.kind}, {feed.role}): {feed.url}")
    for label, reason in report.refused:
        print(f"refused {label}: {reason}")
    summary = (f"imported {len(report.added)} feeds from {args.file}, "
               f"refused {len(report.refused)}")
    if report.refused and not report.added:
        raise CommandError(f"{summary} (listed above); nothing was added")
    print(summary)


def cmd_feeds_export_opml(args: argparse.Namespace) -> None:
    from riftwatch.opml import write_opml
    from store.feeds import list_feeds

    settings, _ = start_command(args)
    feeds = [FeedConfig.model_validate({"name": feed.name, "kind": feed.kind, "role": feed.role,
                                        "url": feed.url, "title": feed.title})
             for feed in list_feeds(open_synced_db(settings))]
    data = write_opml(feeds)
    if args.out:
        args.out.write_bytes(data)
        print(f"wrote {len(feeds)} feeds to {args.out}")
    else:
        sys.stdout.write(data.decode("utf-8") + "\n")


# ---- pipeline ------------------------------------------------------------------------------

def _progress_bar(total: int) -> Callable[..., None] | None:
    if total <= 1:
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="feed", file=sys.stderr, disable=None)

    def advance(name: str, outcome: object) -> None:
        bar.set_postfix_str(name[:20])
        bar.update(1)

    return advance


def _print_cycle(report: CycleReport) -> None:
    print(f"fetched {len(report.outcomes)} feeds in {report.fetch_seconds:.1f}s: "
          f"{report.new_items} new items, {len(report.failed)} failed; "
          f"scored {report.scored} in {report.score_seconds:.1f}s")
    if report.watch_matches:
        print(f"watches matched {report.watch_matches} new posts (the bot alerts their chats)")
    for feed, outcome in report.failed:
        print(f"  ✗ {feed.name}: {outcome.error}")


def cmd_fetch(args: argparse.Namespace) -> None:
    from riftwatch.pipeline import run_cycle
    from store.feeds import list_feeds

    settings, taxonomy = start_command(args)
    db = open_synced_db(settings)
    names = args.feed or None
    total = len(names) if names else len(list_feeds(db, include_disabled=False))
    report = run_cycle(settings, taxonomy, feed_names=names, backfill_pages=args.backfill,
                       progress=_progress_bar(total), score=not args.no_score)
    _print_cycle(report)


def cmd_score_pending(args: argparse.Namespace) -> None:
    from riftwatch.pipeline import score_and_match

    settings, taxonomy = start_command(args)
    open_synced_db(settings)
    scored, matched = score_and_match(settings.db_path, settings, taxonomy)
    print(f"scored {scored} items; watches matched {matched}")


def cmd_digest(args: argparse.Namespace) -> None:
    from digest.compose import compose_digest, parse_window
    from digest.render_text import render_json, render_text
    from digest.sections import SectionLimits
    from store.models import utc_now

    settings, taxonomy = start_command(args)
    window = parse_window(args.since)
    until = utc_now()
    try:
        digest = compose_digest(open_synced_db(settings), settings, taxonomy, until - window,
                                until, channel=args.channel, theme=args.theme)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    print(render_json(digest) if args.format == "json"
          else render_text(digest, SectionLimits.from_settings(settings)))


def cmd_eval(args: argparse.Namespace) -> None:
    """``eval``: the shared labelled sets, or with --data/--labels the analyst's own labels."""
    if args.data is None and not args.labels:
        cmd_eval_shared(args)
        return
    if args.data is not None and not args.label_column:
        raise CommandError("--data needs --label-column COLUMN (the column with the labels)")
    cmd_eval_data(args)


def cmd_eval_shared(args: argparse.Namespace) -> None:
    from classifiers.training.datasets import ANNOTATIONS
    from classifiers.training.evaluate import (
        AnnotationSources,
        evaluate_shared,
        format_shared_report,
    )
    from riftwatch.demo_server import CORPUS_FILE

    settings, taxonomy = start_command(args)
    if not args.shared.is_dir():
        raise CommandError(f"{args.shared} not found; pass --shared PATH to the shared data folder")
    annotations = AnnotationSources(ANNOTATIONS, CORPUS_FILE, args.with_labels)
    report = evaluate_shared(settings, args.shared, annotations, taxonomy)
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if args.format == "json"
          else format_shared_report(report))


def cmd_prepare_model(args: argparse.Namespace) -> None:
    from classifiers.precision import describe_choice, prepare_precision

    settings, _ = start_command(args)
    resolved = prepare_precision(settings, remeasure=args.remeasure)
    where = f"RIFTWATCH_MODEL {settings.model}" if settings.model else "default model"
    print(f"{where} ready in {resolved.model_dir}")
    print(describe_choice(resolved.choice))


def cmd_run(args: argparse.Namespace) -> None:
    from riftwatch.service import run_service

    settings, taxonomy = start_command(args)
    open_synced_db(settings)
    run_service(settings, taxonomy, lock=not args.ignore_lock)


def cmd_demo(args: argparse.Namespace) -> None:
    from digest.render_text import render_json, render_text
    from digest.sections import SectionLimits
    from riftwatch.demo import run_demo

    db_path = args.db or DEMO_DB
    if db_path == DEMO_DB:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    args.db = db_path
    settings, taxonomy = start_command(args)
    result = run_demo(settings, taxonomy, progress=_progress_bar(5), score=not args.no_score)
    _print_cycle(result.cycle)
    print(f"store: {settings.db_path}\n")
    print(render_json(result.digest) if args.format == "json"
          else render_text(result.digest, SectionLimits.from_settings(settings)))


# ---- parser --------------------------------------------------------------------------------

def _feeds_parser(commands: argparse._SubParsersAction) -> None:
    feeds = commands.add_parser("feeds", help="list and change the watched feeds")
    sub = feeds.add_subparsers(dest="feeds_command", required=True)
    listing = sub.add_parser("list", help="watched feeds with their health")
    listing.set_defaults(func=cmd_feeds_list)
    add = sub.add_parser("add", help="watch a channel (@name, t.me/name) or an RSS/Atom URL")
    add.add_argument("source")
    add.add_argument("--name")
    add_role_option(add, help_text="default: blogger for channels, news for URLs")
    add.add_argument("--title")
    add.add_argument("--interval", type=int, default=DEFAULT_FEED_INTERVAL_MINUTES,
                     help="minutes between fetches")
    add.set_defaults(func=cmd_feeds_add)
    remove = sub.add_parser("remove", help="stop watching a feed (its items stay)")
    remove.add_argument("name")
    remove.set_defaults(func=cmd_feeds_remove)
    imp = sub.add_parser("import-opml", help="add every feed of an OPML file that `feeds add` "
                         "would add; list each one added or refused, and why")
    imp.add_argument("file", type=Path)
    add_role_option(imp, help_text="role of every feed (default: the role the file gives, "
                    "else blogger for channels, news for URLs)")
    imp.set_defaults(func=cmd_feeds_import_opml)
    exp = sub.add_parser("export-opml", help="write the watched feeds as OPML")
    exp.add_argument("--out", type=Path)
    exp.set_defaults(func=cmd_feeds_export_opml)
    for parser in (listing, add, remove, imp, exp):
        add_db_option(parser)


def _eval_data_options(evaluate: argparse.ArgumentParser) -> None:
    """``eval --data``/``--labels``: the shipped model against the analyst's own labels."""
    group = evaluate.add_argument_group("your own labels")
    group.add_argument("--data", type=Path, metavar="FILE",
                       help="a labelled CSV or JSONL file to evaluate the shipped model on "
                            "(it is never trained on)")
    group.add_argument("--label-column", help="the column with the labels: yes/no "
                       "(1/0, true/false, yes/no) or stance names")
    group.add_argument("--positive", metavar="EXPR",
                       help="what counts as a positive prediction for yes/no labels: a stance "
                            "(critical), a theme (theme:mod_criticism) or a union with | "
                            "(default: see classifiers/MODELS.md; 'critical' for most columns)")
    group.add_argument("--text-column", help="the text column (default: message, text, …)")
    group.add_argument("--labels", action="store_true",
                       help="evaluate against the labels analysts gave with /label")
    group.add_argument("--format", choices=["text", "json"], default="text")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="riftwatch",
        description="Watch pro-war military bloggers: stance, infighting themes, rifts, lift "
                    "over the news baseline. Settings come from RIFTWATCH_* variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _feeds_parser(commands)

    fetch = commands.add_parser("fetch", help="fetch due feeds (or --feed NAME) now, then score")
    fetch.add_argument("--feed", action="append", help="only this feed (repeatable)")
    fetch.add_argument("--backfill", type=int, default=0, metavar="N",
                       help="also read N older pages of each Telegram channel")
    fetch.add_argument("--no-score", action="store_true", help="store items without scoring")
    fetch.set_defaults(func=cmd_fetch)

    score = commands.add_parser("score-pending", help="score stored items not yet scored")
    score.set_defaults(func=cmd_score_pending)

    digest = commands.add_parser("digest", help="print the digest for a recent window")
    since = f"{DIGEST_WINDOW_HOURS}h"
    digest.add_argument("--since", default=since,
                        help=f"window: 90m, 6h, 24h, 7d (default {since})")
    digest.add_argument("--channel", help="only this feed")
    digest.add_argument("--theme", help="only this theme")
    digest.add_argument("--format", choices=["text", "json"], default="text")
    digest.set_defaults(func=cmd_digest)

    evaluate = commands.add_parser("eval", help="measure the classifier on labelled data")
    evaluate.add_argument("--with-labels", type=Path, metavar="DB",
                          help="add the /label feedback stored in this store to the annotated "
                               "posts (also reported on its own)")
    evaluate.add_argument("--shared", type=Path, default=Path("../shared/data"),
                          help="folder with milblog-criticism/, ruw-stance/, rusentne/")
    _eval_data_options(evaluate)
    evaluate.set_defaults(func=cmd_eval)

    prepare = commands.add_parser(
        "prepare-model", help="convert the packaged model into the cache now and choose its "
        "precision for this CPU (RIFTWATCH_PRECISION=auto times fp32, bf16, int8)")
    prepare.add_argument("--remeasure", action="store_true",
                         help="time the precisions again instead of using the cached choice")
    prepare.set_defaults(func=cmd_prepare_model)

    run = commands.add_parser("run", help="scheduler + pipeline (+ bot when a token is set)")
    run.add_argument("--ignore-lock", action="store_true",
                     help="run even while another `riftwatch run` holds this store's lock "
                          "(STORE.lock); both then fetch and score everything")
    run.set_defaults(func=cmd_run)

    demo = commands.add_parser("demo", help="one real cycle over the bundled sample corpus")
    demo.add_argument("--format", choices=["text", "json"], default="text")
    demo.add_argument("--no-score", action="store_true", help="skip the classifier")
    demo.set_defaults(func=cmd_demo)

    for sub in (fetch, score, digest, evaluate, run, demo):
        add_db_option(sub)
    register_data_commands(commands)  # score, import, export, browse
    register_graph_command(commands)
    register_discover_command(commands)
    register_watch_command(commands)
    register_search_commands(commands)
    return parser


def _store_path(args: argparse.Namespace) -> Path:
    """The store the command used: ``--db``, else RIFTWATCH_DB_PATH."""
    from config import load_settings

    return Path(getattr(args, "db", None) or load_settings().db_path)


def _report(exc: RiftwatchError) -> int:
    print(f"riftwatch: {one_line(exc)}", file=sys.stderr)
    return 2 if isinstance(exc, ConfigError) else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except RiftwatchError as exc:
        return _report(exc)
    except sqlite3.Error as exc:  # the store failed mid-command: full, read-only, damaged…
        from store.db import store_error

        error = store_error(_store_path(args), exc)
        if error is None:
            raise
        return _report(error)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
