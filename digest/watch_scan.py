"""The watch-list's work on the store: add a watch as typed (bot and CLI alike), run every
chat's watches over the posts scored since the last scan and record what they matched, for the
bot to alert; and show what one watch would have matched in a window.

Reads and writes through ``store.watches``; the matching is ``digest.watch_match``'s. Never
sends anything.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import sqlite_utils

from config import Settings
from config.echo import quote_input
from config.themes import Taxonomy
from digest.watch_match import WatchMatcher, match_posts
from digest.watch_spec import WatchError, parse_watch
from store.feeds import find_feed_name
from store.models import utc_now
from store.watches import (
    Match,
    StoredWatch,
    WatchedPost,
    WatchRule,
    add_watch,
    all_watches,
    last_score_rowid,
    posts_between,
    record_matches,
    scored_after,
    watch_mark,
)

SCAN_BATCH = 1000  # scored posts read and matched per transaction


def typed_rule(db: sqlite_utils.Database, text: str, settings: Settings, taxonomy: Taxonomy
               ) -> tuple[WatchRule, timedelta]:
    """A watch as typed → its rule (a channel resolved to its stored feed) and its cooldown
    (``RIFTWATCH_WATCH_COOLDOWN_MINUTES`` unless typed); WatchError says what is wrong."""
    request = parse_watch(text, taxonomy, settings.watch_max_chars)
    rule = request.rule
    if rule.kind == "channel":
        name = find_feed_name(db, rule.subject)
        if name is None:
            raise WatchError(f"No watched feed named {quote_input(rule.subject)}; "
                             "a channel watch needs one of the feeds riftwatch fetches")
        rule = replace(rule, subject=name)
    default = timedelta(minutes=settings.watch_cooldown_minutes)
    return rule, default if request.cooldown is None else request.cooldown


def add_typed_watch(db: sqlite_utils.Database, chat_id: int, text: str, settings: Settings,
                    taxonomy: Taxonomy, now: datetime | None = None) -> StoredWatch:
    """Add a watch as typed to a chat's list (``/watch`` and ``riftwatch watch add``);
    WatchError or WatchRefused say why not, and then nothing changed."""
    rule, cooldown = typed_rule(db, text, settings, taxonomy)
    return add_watch(db, chat_id, rule, cooldown, settings.watch_max_per_chat, now)


def _alertable(post: WatchedPost, watch: StoredWatch, oldest: datetime) -> bool:
    """A post the watch may alert about: stored after the watch was made, and not old (a
    backfilled or rescored post is not news)."""
    published = post.published_at or post.fetched_at
    return (post.fetched_at is not None and post.fetched_at >= watch.created_at
            and published is not None and published >= oldest)


def _batch_matches(matcher: WatchMatcher, posts: list[WatchedPost],
                   watches: dict[int, StoredWatch], oldest: datetime) -> list[Match]:
    return [Match(key, post.item_id, evidence)
            for post in posts for key, evidence in matcher.matches(post)
            if _alertable(post, watches[key], oldest)]


def scan_new_scores(db: sqlite_utils.Database, settings: Settings, taxonomy: Taxonomy,
                    now: datetime | None = None) -> int:
    """Match every watch against the posts scored since the last scan; record the matches
    and the new mark batch by batch (a crash repeats a batch, storing nothing twice).
    Returns how many matches were new."""
    moment = now or utc_now()
    watches = {watch.id: watch for watch in all_watches(db)}
    if not watches:  # nothing to match: later watches look only at later posts anyway
        record_matches(db, [], last_score_rowid(db), moment)
        return 0
    matcher = WatchMatcher([(w.id, w.rule) for w in watches.values()], taxonomy,
                           settings.max_post_chars)
    oldest = moment - timedelta(hours=settings.watch_max_post_age_hours)
    new, mark = 0, watch_mark(db)
    while True:
        posts, next_mark = scored_after(db, mark, SCAN_BATCH)
        if not posts:
            return new
        new += record_matches(db, _batch_matches(matcher, posts, watches, oldest), next_mark,
                              moment)
        mark = next_mark


def stored_matches(db: sqlite_utils.Database, rule: WatchRule, settings: Settings,
                   taxonomy: Taxonomy, since: datetime, until: datetime
                   ) -> list[tuple[WatchedPost, str]]:
    """(post, evidence) for each stored post of [since, until) the rule matches, newest
    first: what the watch would have alerted, had it been there."""
    return [(post, evidence) for post, _, evidence in match_posts(
        [(0, rule)], posts_between(db, since, until), taxonomy, settings.max_post_chars)]
