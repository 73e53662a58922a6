"""riftwatch's error tree: ``RiftwatchError`` is the root of every expected failure, and
``ConfigError`` (what configuration raises: the file, the key and the fix) is one branch.

Every layer raises a subclass of ``RiftwatchError`` for what a user can cause or mend; the CLI
and the bot catch the root once and turn it into one line. Anything else is a bug and may
surface as a traceback. It lives in ``config`` because every layer may import ``config``.

The tree (a second base, where one is named, is kept for callers that catch it)::

    RiftwatchError
    ├── ConfigError                     config: a bad setting, feeds or themes file
    │   ├── ModelLoadError              classifiers.model_files: RIFTWATCH_MODEL cannot be loaded
    │   └── StoreError                  store.db: the store is read-only, full, not SQLite, damaged
    ├── StoreInUse                      store.lock: another `riftwatch run` holds the store
    ├── ConversionError (RuntimeError)  classifiers.convert: the packaged model file is broken
    ├── MonitorError                    monitors.errors: a feed cannot be fetched or parsed
    │   ├── FetchError                  (FetchTimeout, ConnectFailed, HttpStatusError,
    │   │                                BodyTooLarge, TooManyRedirects, BlockedAddress)
    │   └── ParseError                  (NotAFeed, InvalidFeed, LayoutChanged,
    │                                    ChannelUnavailable)
    ├── FeedNotFound (LookupError)      store.feeds: no feed of that name
    ├── LabelError (ValueError)         store.labels: a label that cannot be stored
    ├── WindowError (ValueError)        digest.compose: a window such as --since that is not one
    ├── UnknownKindError (ValueError)   digest.graph: an edge kind that is not one of EDGE_KINDS
    ├── UsageError                      bot.commands: bad bot command arguments
    ├── CommandError                    riftwatch.cli.common: a CLI failure with no better class
    ├── OpmlError (ValueError)          riftwatch.opml: not OPML we can read
    ├── ReadError                       riftwatch.byod.readers: an analyst's file cannot be read
    ├── OutputError                     riftwatch.byod.writers: an --out file cannot be written
    ├── NothingToScore                  riftwatch.byod.score_file: not one row could be read
    ├── EvaluationError                 riftwatch.byod.evaluate_file: nothing to evaluate
    ├── PositiveError (ValueError)      riftwatch.byod.positive: a bad --positive expression
    └── ExportError                     riftwatch.byod.telegram_export: not a readable export
"""
from __future__ import annotations

from pydantic import ValidationError

from config.echo import quote_value, shorten_name


class RiftwatchError(Exception):
    """An expected failure; ``str()`` is one line fit for a user."""


class ConfigError(RiftwatchError):
    """Invalid configuration; ``str()`` is one line fit for a user."""

    def __init__(self, source: str, key: str, problem: str, fix: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        self.fix = fix
        super().__init__(f"{shorten_name(source)}: {shorten_name(key)}: {problem} (fix: {fix})")


def config_error_from_validation(
    source: str, exc: ValidationError, key_prefix: str = "", fix_hint: str = ""
) -> ConfigError:
    """Turn a pydantic ValidationError into a ConfigError naming the first bad key; the bad
    value is repeated as ``config.echo`` cuts it, never in full."""
    errors = exc.errors()
    if not errors:
        return ConfigError(source, "?", str(exc), fix_hint or "check the value")
    first = errors[0]
    key = key_prefix + (".".join(str(part) for part in first.get("loc", ())) or "?")
    message = str(first.get("msg", "invalid value"))
    got = first.get("input")
    if got is not None and not isinstance(got, dict | list):
        message = f"{message} (got {quote_value(got)})"
    return ConfigError(source, key, message, fix_hint or "correct this value")
