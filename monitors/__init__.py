"""Monitors: fetch RSS/Atom feeds and t.me/s channel previews, parse them to items, store them.

``fetch.fetch_feed`` / ``fetch.fetch_all`` run a cycle; ``scheduler.FeedScheduler`` runs them on
each feed's interval. A monitor only writes items and fetch health; it never classifies.
"""
