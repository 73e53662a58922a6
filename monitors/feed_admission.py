"""Admit a feed a user asks for, from the CLI, an OPML file or the bot: the one door for new
feeds. The address rule is the fetcher's (``monitors.http``), the name and source rule the
store's (``store.feeds.check_new_feed``); never fetches the feed.
"""

from __future__ import annotations

import sqlite_utils

from config.feeds import FeedConfig, load_feeds
from config.settings import Settings
from monitors.http import check_source_allowed
from store.feeds import FeedConflict, add_feed, source_key
from store.models import FeedState


def watch_feed(db: sqlite_utils.Database, config: FeedConfig, settings: Settings) -> FeedState:
    """Add a feed as a user asks for it.

    Its address must pass ``check_source_allowed`` (MonitorError otherwise), no feed may hold
    its name or source (``check_new_feed``), and a name the feeds file lists keeps the file's
    source and settings, which the next sync would restore anyway.
    """
    check_source_allowed(config.fetch_url, settings)
    listed = next((feed for feed in load_feeds(settings.feeds_file)
                   if feed.name == config.name), None)
    if listed is not None:
        if source_key(listed.channel, listed.fetch_url) != source_key(config.channel,
                                                                       config.fetch_url):
            raise FeedConflict(f"the name {config.name} is listed in {settings.feeds_file} for "
                               f"{listed.fetch_url}; nothing was changed", config.name, False)
        config = listed
    return add_feed(db, config)
