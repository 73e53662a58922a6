"""Feed rows: seed them from config, add them under the store's rule (``check_new_feed``), change
them, record fetch health and read it back (counts for /status, failing-since for digests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from config.errors import RiftwatchError
from config.feeds import FeedConfig, normalise_channel
from config.telegram_names import channel_of
from store.models import FeedState, normalise_url, to_iso, utc_now


class FeedNotFound(RiftwatchError, LookupError):
    """No feed with that name."""


class FeedConflict(RiftwatchError, ValueError):
    """A new feed would take another feed's name or watch a source already watched.

    ``name`` is the feed that holds it; ``same_source`` says whether that feed watches the
    very source asked for (then removing it and adding again is the way to change it).
    """

    def __init__(self, message: str, name: str, same_source: bool) -> None:
        super().__init__(message)
        self.name = name
        self.same_source = same_source


def sync_feeds(db: sqlite_utils.Database, configs: list[FeedConfig]) -> None:
    """Insert new configured feeds and update the settings of known ones.

    ``enabled`` is taken from config only when a feed is first inserted or when config
    disables it, so a feed paused from the bot stays paused across restarts. Feeds removed
    by a user are not brought back by the config file.
    """
    now = to_iso(utc_now())
    with db.conn:
        for config in configs:
            row = _row_or_none(db, config.name)
            fields = _config_fields(config)
            if row is None:
                db.table("feeds").insert({"name": config.name, "enabled": int(config.enabled),
                                    "created_at": now, **fields})
            elif not row["removed"]:
                if not config.enabled:
                    fields["enabled"] = 0
                db.table("feeds").update(row["id"], fields)


def _config_fields(config: FeedConfig) -> dict[str, object]:
    """The feeds-table columns a feed's config sets."""
    return {"kind": config.kind, "role": config.role, "url": config.fetch_url,
            "channel": config.channel, "title": config.title,
            "interval_minutes": config.interval_minutes}


def source_key(channel: str | None, url: str) -> str:
    """What a feed watches, comparable: ``telegram:name`` for a channel (Telegram names are
    case-insensitive, and a ``t.me/s/name`` URL is that channel), else the normalised URL."""
    name = channel or channel_of(url)
    return f"telegram:{name.lower()}" if name else normalise_url(url)


def check_new_feed(db: sqlite_utils.Database, config: FeedConfig) -> None:
    """The store's rule for a new feed: FeedConflict when a watched feed (paused ones count)
    has its name or its source, or a removed feed of another source keeps its name (that
    feed's items stay under it). A removed feed of the same name and source may come back."""
    wanted = source_key(config.channel, config.fetch_url)
    for feed in map(FeedState.from_row, db.table("feeds").rows):
        same_source = source_key(feed.channel, feed.url) == wanted
        if not feed.removed and same_source:
            raise FeedConflict(f"already watching {feed.name} ({feed.kind}, {feed.role}) at "
                               f"{feed.url}; nothing was changed", feed.name, True)
        if feed.name == config.name and (not feed.removed or not same_source):
            state = "removed feed" if feed.removed else "feed"
            raise FeedConflict(f"the name {feed.name} is taken by the {state} of {feed.url} "
                               f"({feed.kind}, {feed.role}); nothing was changed",
                               feed.name, False)


def add_feed(db: sqlite_utils.Database, config: FeedConfig) -> FeedState:
    """Add a feed (or bring back a removed one of the same name and source), enabled.

    FeedConflict (``check_new_feed``) when another feed holds its name or source.
    """
    fields = {**_config_fields(config), "enabled": 1, "removed": 0}
    with db.conn:
        check_new_feed(db, config)
        row = _row_or_none(db, config.name)
        if row is None:
            db.table("feeds").insert(
                {"name": config.name, "created_at": to_iso(utc_now()), **fields})
        else:
            db.table("feeds").update(row["id"], fields)
    return get_feed(db, config.name)


def remove_feed(db: sqlite_utils.Database, name: str) -> None:
    """Stop watching a feed; its items stay in the store."""
    feed = get_feed(db, name)
    db.table("feeds").update(feed.id, {"removed": 1, "enabled": 0})


def set_feed_enabled(db: sqlite_utils.Database, name: str, enabled: bool) -> FeedState:
    feed = get_feed(db, name)
    db.table("feeds").update(feed.id, {"enabled": int(enabled)})
    return get_feed(db, name)


def _row_or_none(db: sqlite_utils.Database, name: str) -> dict | None:
    rows = list(db.table("feeds").rows_where("name = ?", [name]))
    return rows[0] if rows else None


def get_feed(db: sqlite_utils.Database, name: str) -> FeedState:
    row = _row_or_none(db, name)
    if row is None or row["removed"]:
        raise FeedNotFound(f"no feed named {name!r}")
    return FeedState.from_row(row)


def list_feeds(db: sqlite_utils.Database, include_disabled: bool = True) -> list[FeedState]:
    where = "removed = 0" + ("" if include_disabled else " AND enabled = 1")
    return [FeedState.from_row(row) for row in db.table("feeds").rows_where(where, order_by="name")]


def feed_names(db: sqlite_utils.Database) -> set[str]:
    """Every name a feed row holds, removed feeds' too (their names stay taken)."""
    return {str(name) for (name,) in db.execute("SELECT name FROM feeds")}


def feed_role(db: sqlite_utils.Database, name: str) -> str | None:
    """The role of the feed named ``name`` (removed or not); None when there is none."""
    row = db.execute("SELECT role FROM feeds WHERE name = ?", [name]).fetchone()
    return str(row[0]) if row is not None else None


@dataclass(frozen=True)
class FeedCounts:
    """Watched feeds (removed ones left out): fetched, paused, and failing now."""

    active: int
    paused: int
    failing: int


def count_feeds(db: sqlite_utils.Database) -> FeedCounts:
    """How many watched feeds are enabled, paused, and have failed since their last success."""
    row = db.execute(
        "SELECT SUM(enabled), SUM(enabled = 0), SUM(error_count > 0) FROM feeds WHERE removed = 0"
    ).fetchone()
    return FeedCounts(*(int(value or 0) for value in row))


def find_feed_name(db: sqlite_utils.Database, text: str) -> str | None:
    """A watched feed's stored name from its name, @channel or t.me link (any case); None
    when no feed answers to it."""
    wanted = {text.strip().lower()}
    try:
        wanted.add(normalise_channel(text).lower())
    except ValueError:
        pass
    return next((feed.name for feed in list_feeds(db)
                 if feed.name.lower() in wanted or (feed.channel or "").lower() in wanted), None)


@dataclass(frozen=True)
class FetchOutcome:
    """What one fetch of one feed did, as the monitor reports it."""

    started_at: datetime
    finished_at: datetime
    status: str  # 'ok' | 'not_modified' | 'error'
    http_status: int | None = None
    items_seen: int = 0
    items_new: int = 0
    items_edited: int = 0  # known items whose text changed (queued for rescoring)
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    retry_after_seconds: float | None = None


def backoff_seconds(error_count: int, base: float, cap: float) -> float:
    """Exponential backoff: base, 2·base, 4·base … capped."""
    return float(min(cap, base * (2 ** max(0, error_count - 1))))


def record_fetch(
    db: sqlite_utils.Database, feed_id: int, outcome: FetchOutcome, *,
    retry_base: float, retry_cap: float,
) -> None:
    """Log one fetch and update the feed's health: success resets errors, failure backs off.

    ``retry_base``/``retry_cap`` are the settings' retry_base_seconds/retry_max_seconds.
    """
    finished = to_iso(outcome.finished_at)
    with db.conn:
        db.table("fetch_log").insert({
            "feed_id": feed_id,
            "started_at": to_iso(outcome.started_at),
            "finished_at": finished,
            "status": outcome.status,
            "http_status": outcome.http_status,
            "items_seen": outcome.items_seen,
            "items_new": outcome.items_new,
            "error": outcome.error,
        })
        if outcome.status == "error":
            count = int(db.table("feeds").get(feed_id)["error_count"]) + 1
            delay = backoff_seconds(count, retry_base, retry_cap)
            delay = max(delay, outcome.retry_after_seconds or 0.0)
            db.table("feeds").update(feed_id, {
                "last_fetch_at": finished,
                "last_error": outcome.error,
                "last_error_at": finished,
                "error_count": count,
                "next_retry_at": to_iso(outcome.finished_at + timedelta(seconds=delay)),
            })
            return
        changes = {"last_fetch_at": finished, "last_success_at": finished,
                   "error_count": 0, "next_retry_at": None}
        if outcome.etag is not None:
            changes["etag"] = outcome.etag
        if outcome.last_modified is not None:
            changes["last_modified"] = outcome.last_modified
        db.table("feeds").update(feed_id, changes)


def failing_since(db: sqlite_utils.Database) -> dict[int, str]:
    """Feed id → when its current run of failures began (its first error logged after its
    last success), for feeds whose fetch log has such an error."""
    return {int(feed_id): first for feed_id, first in db.execute(
        "SELECT l.feed_id, MIN(l.finished_at) FROM fetch_log l JOIN feeds f ON f.id = l.feed_id "
        "WHERE l.status = 'error' AND l.finished_at > COALESCE(f.last_success_at, '') "
        "GROUP BY l.feed_id")}
