"""Typed configuration: settings from the environment, watched feeds and themes from TOML.

Reads and validates; never fetches, stores or classifies anything.
"""

from config.errors import ConfigError, RiftwatchError
from config.feeds import FeedConfig, load_feeds
from config.settings import Settings, load_settings
from config.themes import Theme, load_themes

__all__ = [
    "ConfigError",
    "RiftwatchError",
    "FeedConfig",
    "Settings",
    "Theme",
    "load_feeds",
    "load_settings",
    "load_themes",
]
