"""Watch alerts: each watch's pending matches go out as one alert per delivery tick, claimed
before sending, per match (never a post twice) and per watch (its cooldown), through
``bot.delivery.deliver``, so they share the digests' at-most-once rule and failure handling.

Matches held back by a cooldown stay pending and go out together after it. Never matches
posts itself: the pipeline recorded the matches right after scoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from telegram import Bot

from bot.delivery import AlertClaim, DeliveryReport, Message, deliver
from bot.env import BotEnv
from digest.watch_render import render_watch_alert
from store.watches import (
    ALERT_KIND,
    PendingMatch,
    cooldown_subject,
    match_subject,
    pending_matches,
)


def watch_message(matches: Sequence[PendingMatch]) -> Message:
    """One watch's pending matches as one alert: the cooldown is claimed first (the claim
    most likely to be held), then every match for good."""
    watch = matches[0].watch
    claims = (AlertClaim(ALERT_KIND, cooldown_subject(watch.id), watch.cooldown),
              *(AlertClaim(ALERT_KIND, match_subject(watch.id, match.item_id), None)
                for match in matches))
    return Message(f"watch:{watch.id}:{matches[0].item_id}",
                   [render_watch_alert(watch, matches)], claims)


async def deliver_watch_alerts(env: BotEnv, bot: Bot) -> DeliveryReport:
    """Send every watch with pending matches its alert (unless in its cooldown)."""
    report = DeliveryReport()
    pending = await env.with_db(pending_matches)
    for _, group in groupby(pending, key=lambda match: match.watch.id):
        matches = list(group)
        await deliver(env, bot, matches[0].watch.chat_id, watch_message(matches), report)
    return report
