"""The bring-your-own-data commands: ``score``, ``import``, ``export``, ``browse``, ``eval --data``.

Thin shells like the rest of the CLI: parse, call one ``riftwatch.byod`` function, print.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from riftwatch.cli.common import add_db_option, add_role_option, open_synced_db, start_command

MAX_BAD_ROWS_SHOWN = 20


# ---- score ------------------------------------------------------------------------------------

class _BadRowPrinter:
    """Prints the first bad rows as they are found (above the progress bar), counts the rest."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.count = 0

    def __call__(self, bad: object) -> None:
        from tqdm import tqdm

        self.count += 1
        if self.count <= MAX_BAD_ROWS_SHOWN:
            tqdm.write(f"skipped {self.source}:{bad}", file=sys.stderr)

    def summary(self) -> str:
        hidden = self.count - MAX_BAD_ROWS_SHOWN
        return f" ({hidden} not shown)" if hidden > 0 else ""


def _posts_bar(description: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    """A tqdm bar counting posts (with posts/s) on a terminal; silent when not a tty."""
    from tqdm import tqdm

    bar = tqdm(unit="post", desc=description, file=sys.stderr, disable=None, smoothing=0.1)
    return bar.update, bar.close


def _default_scored_path(source: Path, out: Path | None) -> Path:
    if out is not None:
        return out
    suffix = ".jsonl" if source.suffix.lower() in {".jsonl", ".ndjson", ".json"} else ".csv"
    return Path.cwd() / f"{source.stem}-scored{suffix}"


def cmd_score(args: argparse.Namespace) -> None:
    from classifiers.scoring import load_post_scorer
    from riftwatch.byod.score_file import score_file

    settings, taxonomy = start_command(args)
    out = _default_scored_path(args.file, args.out)
    bad = _BadRowPrinter(args.file)
    advance, close = _posts_bar("scoring")
    try:
        report = score_file(args.file, out, partial(load_post_scorer, settings, taxonomy),
                            taxonomy.theme_names(),
                            text_column=args.text_column, posts_per_call=settings.score_batch_posts,
                            on_bad=bad, progress=advance,
                            max_record_chars=settings.max_record_chars)
    finally:
        close()
    print(f"scored {report.scored} rows of {args.file} in {report.seconds:.1f}s "
          f"({report.posts_per_second:.1f} posts/s; model {report.model_version} loaded in "
          f"{report.load_seconds:.1f}s) → {out}")
    if report.bad_rows:
        print(f"skipped {report.bad_rows} bad rows{bad.summary()}; see the lines above")


# ---- eval --data / --labels ----------------------------------------------------------------------

def cmd_eval_data(args: argparse.Namespace) -> None:
    """``eval --data FILE`` or ``eval --labels``: the shipped model against given labels."""
    from classifiers.scoring import load_post_scorer
    from riftwatch.byod.evaluate_file import (
        evaluate_file,
        evaluate_stored_labels,
        format_evaluation,
    )

    settings, taxonomy = start_command(args)
    bad = _BadRowPrinter(args.data) if args.data else None

    load = partial(load_post_scorer, settings, taxonomy)
    if args.data:
        result = evaluate_file(args.data, load, taxonomy, label_column=args.label_column,
                               positive=args.positive, text_column=args.text_column,
                               posts_per_call=settings.score_batch_posts, on_bad=bad,
                               max_record_chars=settings.max_record_chars)
    else:
        result = evaluate_stored_labels(open_synced_db(settings), load,
                                        posts_per_call=settings.score_batch_posts)
    print(format_evaluation(result, args.format))


# ---- import / export / browse ------------------------------------------------------------------

def cmd_import_telegram(args: argparse.Namespace) -> None:
    from riftwatch.byod.telegram_export import import_telegram_export

    settings, _ = start_command(args)
    report = import_telegram_export(open_synced_db(settings), args.path,
                                    channel=args.channel, feed_name=args.name, role=args.role,
                                    max_record_chars=settings.max_record_chars)
    created = " (new feed, not watched: `riftwatch feeds add` watches it)" \
        if report.created_feed else ""
    print(f"imported {report.read} posts into feed {report.feed}{created}: {report.new} new, "
          f"{report.already_stored} already stored, {report.skipped} service or empty "
          "messages skipped")


def _export_path(args: argparse.Namespace, file_format: str) -> Path | None:
    if args.out is not None:
        return None if str(args.out) == "-" else args.out
    from store.models import utc_now

    return Path.cwd() / f"riftwatch-export-{utc_now():%Y%m%d-%H%M%S}.{file_format}"


def cmd_export(args: argparse.Namespace) -> None:
    from digest.compose import parse_window
    from riftwatch.byod.export import export_items
    from riftwatch.byod.writers import output_format
    from store.models import utc_now

    settings, taxonomy = start_command(args)
    since = utc_now() - parse_window(args.since)
    file_format = output_format(args.out or Path("x.csv"), args.format)
    out = _export_path(args, file_format)
    themes = taxonomy.theme_names() if args.with_scores else None
    report = export_items(open_synced_db(settings), out, file_format, since,
                          theme_names=themes, model_version=args.model_version,
                          channel=args.channel)
    if out is not None:
        scores = f" with scores of {report.model_version}" if args.with_scores else ""
        print(f"wrote {report.rows} items since {args.since}{scores} to {out}")


def cmd_browse(args: argparse.Namespace) -> None:
    from riftwatch.byod.browse import HOST, serve

    settings, taxonomy = start_command(args)
    open_synced_db(settings)
    print(f"Datasette on http://{HOST}:{args.port}/{Path(settings.db_path).stem} "
          "(canned queries: theme_spikes, top_rifts, posts_per_channel_per_day); Ctrl-C stops")
    serve(settings.db_path, taxonomy, port=args.port, show_ids=args.show_ids)


# ---- parser --------------------------------------------------------------------------------------

def register_data_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``score``, ``import``, ``export`` and ``browse`` (``eval --data`` is in ``cli``)."""
    score = commands.add_parser("score", help="score every row of a CSV or JSONL file")
    score.add_argument("file", type=Path, help="CSV (any column order, BOM or not) or JSON Lines")
    score.add_argument("--text-column", help="column with the post text (default: message, "
                       "text, content, post or body, whichever comes first)")
    score.add_argument("--out", type=Path, help="output file; .jsonl writes JSON Lines, else CSV "
                       "(default: FILE-scored.csv in the current folder)")
    score.set_defaults(func=cmd_score)

    imp = commands.add_parser("import", help="bring posts in from other tools")
    sources = imp.add_subparsers(dest="import_source", required=True)
    telegram = sources.add_parser("telegram-export",
                                  help="a Telegram Desktop channel export (JSON format)")
    telegram.add_argument("path", type=Path, help="result.json or the export folder")
    telegram.add_argument("--channel", help="the channel's public username (@name): gives "
                          "permalinks and dedup against the t.me monitor")
    telegram.add_argument("--name", help="feed name (default: the username, else the title)")
    add_role_option(telegram, default="blogger")
    telegram.set_defaults(func=cmd_import_telegram)

    export = commands.add_parser("export", help="write stored items (and scores) to a file")
    export.add_argument("--since", default="7d", help="window: 6h, 7d, 2w (default 7d)")
    export.add_argument("--format", choices=["csv", "jsonl"],
                        help="default: from --out's extension, else csv")
    export.add_argument("--with-scores", action="store_true",
                        help="add stance, probabilities, themes, targets, evidence")
    export.add_argument("--model-version", help="scores of this model (default: the latest)")
    export.add_argument("--channel", help="only this feed")
    export.add_argument("--out", type=Path,
                        help="output file, - for stdout (default: riftwatch-export-TIME.csv)")
    export.set_defaults(func=cmd_export)

    browse = commands.add_parser("browse", help="open the store in Datasette on 127.0.0.1")
    browse.add_argument("--port", type=int, default=8001)
    browse.add_argument("--show-ids", action="store_true",
                        help="also open the tables with subscribers' chat ids and labellers' "
                             "user ids, and arbitrary SQL (closed by default)")
    browse.set_defaults(func=cmd_browse)

    for parser in (score, telegram, export, browse):
        add_db_option(parser)
