"""The one owner of the database schema: numbered migrations applied in order at open.

Add a migration by appending a function to ``MIGRATIONS``; never edit one that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils


def _v1_core(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS feeds (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('rss', 'telegram')),
            role TEXT NOT NULL CHECK (role IN ('blogger', 'news')),
            url TEXT NOT NULL,
            channel TEXT,
            title TEXT,
            interval_minutes INTEGER NOT NULL DEFAULT 30,
            enabled INTEGER NOT NULL DEFAULT 1,
            etag TEXT,
            last_modified TEXT,
            last_fetch_at TEXT,
            last_success_at TEXT,
            last_error TEXT,
            last_error_at TEXT,
            error_count INTEGER NOT NULL DEFAULT 0,
            next_retry_at TEXT,
            removed INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS items (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            feed_id INTEGER NOT NULL REFERENCES feeds(id),
            post_id INTEGER,
            url TEXT,
            guid TEXT,
            title TEXT,
            text TEXT NOT NULL DEFAULT '',
            author TEXT,
            language TEXT,
            published_at TEXT,
            views INTEGER,
            forwarded_from TEXT,
            link_preview TEXT,
            media TEXT,
            edited INTEGER NOT NULL DEFAULT 0,
            fetched_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS items_published ON items(published_at)")
    db.execute("CREATE INDEX IF NOT EXISTS items_feed_published ON items(feed_id, published_at)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS fetch_log (
            id INTEGER PRIMARY KEY,
            feed_id INTEGER NOT NULL REFERENCES feeds(id),
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'not_modified', 'error')),
            http_status INTEGER,
            items_seen INTEGER NOT NULL DEFAULT 0,
            items_new INTEGER NOT NULL DEFAULT 0,
            error TEXT
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS fetch_log_feed ON fetch_log(feed_id, started_at)")


def _v2_scores_and_bot(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS scores (
            item_id INTEGER NOT NULL REFERENCES items(id),
            model_version TEXT NOT NULL,
            stance TEXT NOT NULL,
            p_supportive REAL NOT NULL,
            p_critical REAL NOT NULL,
            p_alarmed REAL NOT NULL,
            p_neutral REAL NOT NULL,
            themes TEXT NOT NULL,
            targets TEXT NOT NULL,
            evidence TEXT,
            language TEXT,
            scored_at TEXT NOT NULL,
            PRIMARY KEY (item_id, model_version)
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS scores_model ON scores(model_version, item_id)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS subscribers (
            chat_id INTEGER PRIMARY KEY,
            chat_type TEXT,
            mode TEXT NOT NULL CHECK (mode IN ('daily', 'hourly', 'spikes')),
            daily_time TEXT,
            timezone TEXT NOT NULL DEFAULT 'UTC',
            active INTEGER NOT NULL DEFAULT 1,
            inactive_reason TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS digests_sent (
            chat_id INTEGER NOT NULL,
            window_key TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, window_key)
        )"""
    )
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS labels (
            id INTEGER PRIMARY KEY,
            item_id INTEGER NOT NULL REFERENCES items(id),
            user_id INTEGER NOT NULL,
            chat_id INTEGER,
            label TEXT NOT NULL,
            model_version TEXT,
            created_at TEXT NOT NULL
        )"""
    )


def _v3_digest_messages(db: sqlite_utils.Database) -> None:
    """Which posts each message the bot sent quoted, so a ``/label`` reply finds its post."""
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS digest_messages (
            chat_id INTEGER NOT NULL,
            message_id INTEGER NOT NULL,
            item_id INTEGER NOT NULL REFERENCES items(id),
            position INTEGER NOT NULL,
            sent_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, message_id, item_id)
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS digest_messages_sent ON digest_messages(sent_at)")


def _v4_spike_alerts(db: sqlite_utils.Database) -> None:
    """When each chat was last alerted about each theme, so a spike alert respects its cooldown
    across restarts."""
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS spike_alerts (
            chat_id INTEGER NOT NULL,
            theme TEXT NOT NULL,
            alerted_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, theme)
        )"""
    )


def _v5_edges(db: sqlite_utils.Database) -> None:
    """Who forwards, mentions, quotes and attacks whom: one evidence row per (kind, source,
    target, item), so re-extracting never counts an item twice; ``edges`` sums them up."""
    db.execute("ALTER TABLE items ADD COLUMN forwarded_url TEXT")
    db.execute("ALTER TABLE items ADD COLUMN links TEXT")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS edge_evidence (
            kind TEXT NOT NULL CHECK (kind IN ('forward', 'mention', 'quote', 'attack')),
            source TEXT NOT NULL,
            target TEXT NOT NULL,
            item_id INTEGER NOT NULL REFERENCES items(id),
            ref_key TEXT,
            seen_at TEXT NOT NULL,
            PRIMARY KEY (kind, source, target, item_id)
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS edge_evidence_seen ON edge_evidence(seen_at)")
    db.execute("CREATE INDEX IF NOT EXISTS edge_evidence_ref ON edge_evidence(ref_key)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS item_signatures (
            item_id INTEGER PRIMARY KEY REFERENCES items(id),
            feed_id INTEGER NOT NULL,
            published_at TEXT NOT NULL,
            signature BLOB NOT NULL
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS item_signatures_published "
               "ON item_signatures(published_at)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS extraction_marks (
            stream TEXT PRIMARY KEY,
            last_id INTEGER NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE VIEW IF NOT EXISTS edges AS
        SELECT source, target, kind, COUNT(*) AS count, MIN(seen_at) AS first_seen,
               MAX(seen_at) AS last_seen, group_concat(item_id, ' ') AS items
        FROM edge_evidence GROUP BY kind, source, target"""
    )


def _v6_alert_claims(db: sqlite_utils.Database) -> None:
    """One table claims every alert kind (a theme's spike, a post's spreading) per chat and
    subject; subscribers may choose the ``spreading`` mode."""
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS alert_claims (
            chat_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            alerted_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, kind, subject)
        )"""
    )
    db.execute("INSERT OR IGNORE INTO alert_claims SELECT chat_id, 'spike', theme, alerted_at "
               "FROM spike_alerts")
    db.execute("DROP TABLE spike_alerts")
    db.execute(
        """
        CREATE TABLE subscribers_v6 (
            chat_id INTEGER PRIMARY KEY,
            chat_type TEXT,
            mode TEXT NOT NULL CHECK (mode IN ('daily', 'hourly', 'spikes', 'spreading')),
            daily_time TEXT,
            timezone TEXT NOT NULL DEFAULT 'UTC',
            active INTEGER NOT NULL DEFAULT 1,
            inactive_reason TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute("INSERT INTO subscribers_v6 SELECT * FROM subscribers")
    db.execute("DROP TABLE subscribers")
    db.execute("ALTER TABLE subscribers_v6 RENAME TO subscribers")


def _v7_themes_present(db: sqlite_utils.Database) -> None:
    """Scores name the themes present by each theme head's own threshold (a JSON list); the
    probabilities stay in ``themes``. Older rows carry none (their model versions are not the
    current one, so no digest reads them)."""
    db.execute("ALTER TABLE scores ADD COLUMN themes_present TEXT NOT NULL DEFAULT '[]'")


def _v8_watches(db: sqlite_utils.Database) -> None:
    """Watch-lists: each chat's watches (a phrase, an RE2 pattern, an attacked target or a
    channel's critical posts, with exclusions, stances and a cooldown), and what each matched
    after scoring; an alert for a match is claimed in ``alert_claims`` before it is sent."""
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS watches (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            chat_id INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('phrase', 'regex', 'target', 'channel')),
            subject TEXT NOT NULL,
            excludes TEXT NOT NULL DEFAULT '[]',
            stances TEXT NOT NULL DEFAULT '[]',
            cooldown_seconds INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS watches_chat ON watches(chat_id, id)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS watch_matches (
            watch_id INTEGER NOT NULL REFERENCES watches(id) ON DELETE CASCADE,
            item_id INTEGER NOT NULL REFERENCES items(id),
            evidence TEXT NOT NULL,
            matched_at TEXT NOT NULL,
            PRIMARY KEY (watch_id, item_id)
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS watch_matches_at ON watch_matches(matched_at)")


def _v9_post_vectors(db: sqlite_utils.Database) -> None:
    """One search vector per post (int8, written as the post is scored), named by the encoder
    space it lives in: a query compares only with vectors of its own space. Plain SQLite;
    ``store.vector_search`` reads it through sqlite-vec. No index on ``space``: nearly every
    row is in the current space, and a search reads them all faster in table order."""
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS post_vectors (
            item_id INTEGER PRIMARY KEY REFERENCES items(id),
            space TEXT NOT NULL,
            vector BLOB NOT NULL
        )"""
    )


def _v10_item_history(db: sqlite_utils.Database) -> None:
    """What changed after a post was first stored: each earlier text of an edited
    item (with the stance it had then), deletions seen by covering t.me fetches, and view
    counts (the last one seen in each doubling of a post's age). ``items`` keeps the latest
    text; ``version`` counts the texts seen."""
    db.execute("ALTER TABLE items ADD COLUMN version INTEGER NOT NULL DEFAULT 1")
    db.execute("ALTER TABLE items ADD COLUMN missed_fetches INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE items ADD COLUMN deleted_at TEXT")
    db.execute("ALTER TABLE items ADD COLUMN changed_at TEXT")
    db.execute("CREATE INDEX IF NOT EXISTS items_changed ON items(changed_at) "
               "WHERE changed_at IS NOT NULL")
    db.execute("CREATE INDEX IF NOT EXISTS items_feed_post ON items(feed_id, post_id)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS item_versions (
            item_id INTEGER NOT NULL REFERENCES items(id),
            version INTEGER NOT NULL,
            title TEXT,
            text TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            replaced_at TEXT NOT NULL,
            model_version TEXT,
            stance TEXT,
            p_critical REAL,
            PRIMARY KEY (item_id, version)
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS item_versions_replaced ON item_versions(replaced_at)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS view_samples (
            item_id INTEGER NOT NULL REFERENCES items(id),
            age_bucket INTEGER NOT NULL,
            seen_at TEXT NOT NULL,
            views INTEGER NOT NULL,
            PRIMARY KEY (item_id, age_bucket)
        ) WITHOUT ROWID"""
    )


Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[Migration] = [_v1_core, _v2_scores_and_bot, _v3_digest_messages,
                               _v4_spike_alerts, _v5_edges, _v6_alert_claims,
                               _v7_themes_present, _v8_watches,
                               _v9_post_vectors, _v10_item_history]


def migrate(db: sqlite_utils.Database) -> int:
    """Apply the migrations this database has not seen; return the schema version."""
    current = int(db.execute("PRAGMA user_version").fetchone()[0])
    for version, migration in enumerate(MIGRATIONS, start=1):
        if version <= current:
            continue
        with db.conn:
            migration(db)
            db.execute(f"PRAGMA user_version = {version}")
    return len(MIGRATIONS)
