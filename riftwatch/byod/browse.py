"""Open the store in Datasette on 127.0.0.1: titles, column descriptions and canned queries.

Datasette reads the SQLite file read-only; nothing here writes to the store or scores. Tables
holding Telegram chat or user ids (subscribers, labellers) are closed unless asked for.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from config.themes import Taxonomy
from store.canned_queries import (
    LABELS_WITHOUT_IDS_SQL,
    POSTS_PER_CHANNEL_PER_DAY_SQL,
    THEME_SPIKES_SQL,
    WHO_AMPLIFIES_WHOM_SQL,
    top_rifts_sql,
)

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
def canned_queries(taxonomy: Taxonomy) -> dict[str, dict[str, Any]]:
    """theme_spikes, top_rifts, posts_per_channel_per_day and who_amplifies_whom, for the
    latest model's scores."""
    rifts = [theme.name for theme in taxonomy.themes if theme.is_rift]
    return {
        "theme_spikes": {
            "title": "Theme spikes",
            "description": "Bloggers' share of posts carrying each theme in the last :hours "
                           "hours against the :days days before (lift > 1: above normal). "
                           "Defaults 24 h and 14 days.",
            "sql": THEME_SPIKES_SQL.strip(),
        },
        "top_rifts": {
            "title": "Top rifts",
            "description": "Posts of the last :hours hours (default 24) most likely to carry "
                           f"a rift theme ({', '.join(rifts)}), with their evidence sentence.",
            "sql": top_rifts_sql(rifts).strip(),
        },
        "posts_per_channel_per_day": {
            "title": "Posts per channel per day",
            "description": "Posts, scored posts and critical/alarmed posts per feed and UTC "
                           "day over the last :days days (default 14).",
            "sql": POSTS_PER_CHANNEL_PER_DAY_SQL.strip(),
        },
        "who_amplifies_whom": {
            "title": "Who amplifies whom",
            "description": "Per channel pair over the last :days days (default 7): how often "
                           "the amplifier forwarded, mentioned or quoted the amplified "
                           "channel's posts, and how many of those posts were critical.",
            "sql": WHO_AMPLIFIES_WHOM_SQL.strip(),
        },
    }


_TABLES: dict[str, dict[str, Any]] = {
    "feeds": {
        "title": "Watched feeds",
        "description": "One row per source: kind rss or telegram, role blogger or news, "
                       "and its fetch health.",
        "columns": {
            "name": "Short unique name of the feed",
            "kind": "rss or telegram",
            "role": "blogger (watched voices) or news (the baseline)",
            "url": "Where the monitor fetches (t.me/s/NAME for channels)",
            "channel": "Telegram channel username, for telegram feeds",
            "enabled": "1 when the scheduler fetches it",
            "error_count": "Consecutive failed fetches (backoff grows with it)",
            "last_error": "The last fetch error, if any",
        },
    },
    "items": {
        "title": "Posts and articles",
        "description": "One row per post, deduplicated by key (channel+post id, guid, link).",
        "columns": {
            "key": "Stable dedup key: tg:channel/post, guid:…, url:… or sha1:…",
            "feed_id": "The feed it came from",
            "post_id": "Telegram post number within its channel",
            "url": "Permalink",
            "text": "Plain text of the post",
            "published_at": "Publication time, UTC ISO-8601",
            "views": "Views when last fetched (Telegram)",
            "forwarded_from": "Original channel of a forwarded post",
            "edited": "1 when the post was edited after first seen",
        },
    },
    "scores": {
        "title": "Classifier scores",
        "description": "One row per item and model version.",
        "columns": {
            "model_version": "Which model scored it",
            "stance": "supportive, critical, alarmed or neutral",
            "p_supportive": "Probability of the supportive stance",
            "p_critical": "Probability of the critical stance (pro-war, against the command)",
            "p_alarmed": "Probability of the alarmed stance (losses, retreat, collapse)",
            "p_neutral": "Probability of the neutral stance (reportage)",
            "themes": "JSON object: theme name → probability",
            "targets": "JSON list of parties the post attacks",
            "evidence": "The sentence that best supports the scores",
            "language": "Detected language",
        },
    },
    "labels": {
        "title": "Analysts' labels",
        "description": "Feedback given with /label: a stance, theme:NAME or wrong.",
        "columns": {
            "label": "supportive, critical, alarmed, neutral, theme:NAME or wrong",
            "user_id": "Telegram user id of the analyst",
            "model_version": "The model whose score the analyst saw",
        },
    },
    "fetch_log": {"title": "Fetch log", "description": "One row per fetch of a feed."},
    "edges": {
        "title": "Amplification edges",
        "description": "Who forwards, mentions, quotes and attacks whom, over all time: one "
                       "row per source, target and kind (the view over edge_evidence).",
        "columns": {
            "source": "The channel that forwards, mentions, quotes or attacks",
            "target": "The channel passed on (a feed name, or an unwatched username), or the "
                      "attacked target",
            "kind": "forward, mention, quote or attack",
            "count": "Distinct posts behind the edge",
            "items": "Their item ids, space-separated",
        },
    },
    "edge_evidence": {
        "title": "Edge evidence",
        "description": "One row per post that makes an edge; ref_key is the item key of the "
                       "post it passes on, when known.",
    },
    "subscribers": {"hidden": True},
    "digests_sent": {"hidden": True},
}
# Who subscribes and who labels: Telegram chat and user ids, closed by default (arbitrary SQL
# too, since it could read them); labels stay readable through the canned query below.
# Tables holding chat ids or user ids. spike_alerts (migration 4) held chat ids until
# migration 6 moved its rows to alert_claims; it stays listed for a store opened mid-upgrade.
PRIVATE_TABLES = ("subscribers", "digests_sent", "digest_messages", "labels", "spike_alerts",
                  "alert_claims")
_LABELS_WITHOUT_IDS = {
    "title": "Analysts' labels",
    "description": "Feedback given with /label (a stance, theme:NAME or wrong), newest first; "
                   "who gave it is not shown.",
    "sql": LABELS_WITHOUT_IDS_SQL,
}


def _database_metadata(taxonomy: Taxonomy, show_ids: bool) -> dict[str, Any]:
    queries = canned_queries(taxonomy)
    if show_ids:
        return {"tables": _TABLES, "queries": queries}
    tables = dict(_TABLES)
    for name in PRIVATE_TABLES:
        tables[name] = {**tables.get(name, {}), "hidden": True, "allow": False}
    return {"tables": tables, "queries": queries | {"labels_without_ids": _LABELS_WITHOUT_IDS},
            "allow_sql": False}


def datasette_metadata(
    taxonomy: Taxonomy, database: str, show_ids: bool = False
) -> dict[str, Any]:
    """Datasette metadata for the store file whose Datasette name is ``database``; without
    ``show_ids`` the ``PRIVATE_TABLES`` and arbitrary SQL are refused."""
    return {
        "title": "riftwatch store",
        "description": "Posts of watched military bloggers and news feeds, with classifier "
                       "scores. Start with the canned queries below each table list.",
        "databases": {database: _database_metadata(taxonomy, show_ids)},
    }


def make_datasette(db_path: Path, taxonomy: Taxonomy, show_ids: bool = False) -> Any:
    """A ``datasette.app.Datasette`` over the store (read-only) with metadata and queries."""
    from datasette.app import Datasette

    db_path = Path(db_path)
    return Datasette(files=[str(db_path)],
                     metadata=datasette_metadata(taxonomy, db_path.stem, show_ids),
                     settings={"sql_time_limit_ms": 5000})


def serve(db_path: Path, taxonomy: Taxonomy, port: int = 8001, show_ids: bool = False) -> None:
    """Serve Datasette on 127.0.0.1:``port`` until interrupted."""
    import uvicorn

    app = make_datasette(db_path, taxonomy, show_ids).app()
    log.info("Datasette on http://%s:%d/%s", HOST, port, Path(db_path).stem)
    uvicorn.run(app, host=HOST, port=port, log_level="warning")
