"""SQLite store (through sqlite-utils): feeds, items, fetch log, scores, subscribers, digests.

Persists and reads plain data; never fetches, classifies or renders.
"""

from store.db import open_db
from store.models import FeedState, Item

__all__ = ["FeedState", "Item", "open_db"]
