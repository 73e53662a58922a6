"""Channels the watched channels pass on but riftwatch does not watch, tallied from the stored
forward, mention and quote edges: who picks each up, how often, and how much of it is critical.

Reads only; ``amplification.edge_extraction`` writes the edges, the classifier the scores, and
``digest.discovery`` ranks what this returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from store.edges import SPREAD_KINDS
from store.models import from_iso, to_iso


@dataclass(frozen=True)
class UnwatchedTally:
    """One unwatched channel (as the edges name it) and the watched posts that picked it up.

    ``pickups`` counts distinct posts; ``scored`` of them have a score by the model version
    asked for, ``critical`` of those are critical. ``by_kind`` counts posts per edge kind.
    """

    target: str
    sources: list[str]
    pickups: int
    scored: int
    critical: int
    by_kind: dict[str, int]
    first_seen: datetime | None
    last_seen: datetime | None


# Watched: any feed not removed (a paused one too: /addfeed would refuse it), by its name or
# its channel, case-insensitive (an edge names a channel added later by its username). One row
# per picking-up post first (one post may mention and quote a channel: one pick-up), then per
# channel.
# ``+kind`` keeps the planner on the seen_at index (the window), not the key's kind column.
_UNWATCHED_TALLIES = """
WITH watched AS (
    SELECT lower(name) AS name FROM feeds WHERE removed = 0
    UNION SELECT lower(channel) FROM feeds WHERE removed = 0 AND channel IS NOT NULL
),
picked AS (
    SELECT target, item_id, MIN(source) AS source, MIN(seen_at) AS seen_at, {kind_flags}
    FROM edge_evidence
    WHERE seen_at >= ? AND seen_at < ? AND +kind IN ({kinds})
      AND lower(target) NOT IN (SELECT name FROM watched)
    GROUP BY target, item_id
)
SELECT p.target, json_group_array(DISTINCT p.source) AS sources, COUNT(*) AS pickups,
       COUNT(s.item_id) AS scored, COUNT(CASE WHEN s.stance = 'critical' THEN 1 END) AS critical,
       {kind_sums}, MIN(p.seen_at) AS first_seen, MAX(p.seen_at) AS last_seen
FROM picked p LEFT JOIN scores s ON s.item_id = p.item_id AND s.model_version = ?
GROUP BY p.target ORDER BY p.target
"""


def unwatched_channel_tallies(db: sqlite_utils.Database, since: datetime, until: datetime,
                              model_version: str | None) -> list[UnwatchedTally]:
    """Every unwatched channel forwarded, mentioned or quoted by a watched one in
    [since, until), with its tally (critical counted by ``model_version``'s scores), by name."""
    kinds = ", ".join(f"'{kind}'" for kind in SPREAD_KINDS)
    kind_flags = ", ".join(f'MAX(kind = \'{kind}\') AS "k_{kind}"' for kind in SPREAD_KINDS)
    kind_sums = ", ".join(f'SUM(p."k_{kind}") AS "k_{kind}"' for kind in SPREAD_KINDS)
    sql = _UNWATCHED_TALLIES.format(kinds=kinds, kind_flags=kind_flags, kind_sums=kind_sums)
    return [UnwatchedTally(
                target=row["target"], sources=sorted(json.loads(row["sources"])),
                pickups=int(row["pickups"]), scored=int(row["scored"]),
                critical=int(row["critical"]),
                by_kind={kind: int(row[f"k_{kind}"]) for kind in SPREAD_KINDS
                         if row[f"k_{kind}"]},
                first_seen=from_iso(row["first_seen"]), last_seen=from_iso(row["last_seen"]))
            for row in db.query(sql, [to_iso(since), to_iso(until), model_version])]
