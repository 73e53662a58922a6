"""The SQL of the canned queries ``riftwatch browse`` offers in Datasette, over the latest
model's scores; ``:hours`` and ``:days`` left blank take the defaults the descriptions give.

Text only: Datasette runs these read-only on the store file; riftwatch itself never does.
"""

from __future__ import annotations

from store.scores import LATEST_MODEL_SQL

_LATEST_MODEL = f"({LATEST_MODEL_SQL})"
_HOURS = "coalesce(nullif(:hours, ''), 24)"
_DAYS = "coalesce(nullif(:days, ''), 14)"
_SINCE_HOURS = f"strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || {_HOURS} || ' hours')"

THEME_SPIKES_SQL = f"""
WITH bounds AS (
  SELECT {_SINCE_HOURS} AS window_start,
         strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || {_HOURS} || ' hours',
                  '-' || {_DAYS} || ' days') AS baseline_start
), posts AS (
  SELECT CASE WHEN i.published_at >= b.window_start THEN 1 ELSE 0 END AS in_window,
         s.themes_present
  FROM items i JOIN feeds f ON f.id = i.feed_id
  JOIN scores s ON s.item_id = i.id AND s.model_version = {_LATEST_MODEL}, bounds b
  WHERE f.role = 'blogger' AND i.published_at >= b.baseline_start
), totals AS (
  SELECT SUM(in_window) AS window_total, SUM(1 - in_window) AS baseline_total FROM posts
), counts AS (
  SELECT t.value AS theme, SUM(p.in_window) AS posts_now,
         SUM(NOT p.in_window) AS posts_baseline
  FROM posts p, json_each(p.themes_present) t GROUP BY t.value
)
SELECT c.theme, c.posts_now, totals.window_total AS posts_in_window,
       c.posts_baseline, totals.baseline_total AS posts_in_baseline,
       round(1.0 * c.posts_now / max(totals.window_total, 1), 3) AS share_now,
       round(1.0 * c.posts_baseline / max(totals.baseline_total, 1), 3) AS share_baseline,
       round((1.0 * c.posts_now / max(totals.window_total, 1))
             / max(1.0 * c.posts_baseline, 0.5) * max(totals.baseline_total, 1), 2) AS lift
FROM counts c, totals
ORDER BY lift DESC, c.posts_now DESC
"""

POSTS_PER_CHANNEL_PER_DAY_SQL = f"""
SELECT substr(i.published_at, 1, 10) AS day, f.name AS channel, f.role,
       COUNT(*) AS posts, COUNT(s.item_id) AS scored,
       SUM(s.stance = 'critical') AS critical, SUM(s.stance = 'alarmed') AS alarmed
FROM items i JOIN feeds f ON f.id = i.feed_id
LEFT JOIN scores s ON s.item_id = i.id AND s.model_version = {_LATEST_MODEL}
WHERE i.published_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || {_DAYS} || ' days')
GROUP BY day, f.name ORDER BY day DESC, posts DESC
"""


def top_rifts_sql(rift_themes: list[str]) -> str:
    """The 100 posts of the last :hours hours most likely to carry one of ``rift_themes``."""
    names = ", ".join(f"'{name}'" for name in rift_themes) or "''"
    return f"""
SELECT i.published_at, f.name AS channel, t.value AS theme,
       round(json_extract(s.themes, '$."' || t.value || '"'), 3) AS probability,
       s.stance, s.targets, s.evidence, i.url, i.id AS item_id
FROM items i JOIN feeds f ON f.id = i.feed_id
JOIN scores s ON s.item_id = i.id AND s.model_version = {_LATEST_MODEL},
     json_each(s.themes_present) t
WHERE t.value IN ({names}) AND i.published_at >= {_SINCE_HOURS}
ORDER BY probability DESC, i.published_at DESC LIMIT 100
"""


WHO_AMPLIFIES_WHOM_SQL = f"""
SELECT e.source AS amplifier, e.target AS amplified, COUNT(*) AS pickups,
       SUM(e.kind = 'forward') AS forwards, SUM(e.kind = 'mention') AS mentions,
       SUM(e.kind = 'quote') AS quotes, SUM(s.stance = 'critical') AS critical_posts_passed_on,
       MIN(e.seen_at) AS first_seen, MAX(e.seen_at) AS last_seen
FROM edge_evidence e
LEFT JOIN items origin ON origin.key = e.ref_key
LEFT JOIN scores s ON s.item_id = origin.id AND s.model_version = {_LATEST_MODEL}
WHERE e.kind IN ('forward', 'mention', 'quote')
  AND e.seen_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || coalesce(nullif(:days, ''), 7)
                            || ' days')
GROUP BY e.source, e.target ORDER BY pickups DESC, critical_posts_passed_on DESC
"""


LABELS_WITHOUT_IDS_SQL = (
    "SELECT id, item_id, label, model_version, created_at FROM labels ORDER BY id DESC"
)
