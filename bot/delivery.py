"""Scheduled digests: work out which subscribers are due, compose each window once, send, record.

Delivery is **at most once** per (chat, window): the row in ``digests_sent`` is claimed
*before* the message goes out (``claim_delivery`` is an atomic ``INSERT OR IGNORE``). A
process killed between claim and send therefore loses that one digest for that one chat,
but a restart, a second process or a crash mid-broadcast can never send a digest twice;
the rest of an interrupted broadcast is picked up on the next tick because unclaimed chats
are still due. The alternative, send-then-record, would resend to every chat whose record
had not landed, and a duplicated digest in an analyst's group is the worse failure. A claim
is released again only when Telegram certainly did not take the message (RetryAfter after
the rate limiter's retries, a connection that never opened), so those are retried.

Alerts are claimed per (chat, kind, subject) instead, in ``alert_claims``: a chat hears about
a spiking theme at most once per ``RIFTWATCH_SPIKE_COOLDOWN_HOURS``, and about a spreading
critical post once ever, at most one spreading alert per ``RIFTWATCH_SPREAD_COOLDOWN_HOURS``
(a post that crosses the threshold during the cooldown waits for the next tick after it),
however often the bot restarts. Both check the same trailing window ``/summary`` shows.

Never fetches, classifies or composes numbers itself: ``digest.compose`` does that.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlite_utils
from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.env import BotEnv
from config import Settings
from config.settings import DEFAULT_DAILY_TIME, DIGEST_WINDOW
from config.timezones import zone_named
from digest.compose import compose_digest
from digest.model import Digest
from digest.sections import SectionLimits
from digest.spreading import spread_posts
from digest.spreading_render import render_spread_alert
from digest.telegram_html import quoted_item_ids, render_digest_messages, render_spike_alert
from store.digest_messages import record_digest_message
from store.scores import latest_model_version
from store.subscribers import (
    Subscriber,
    active_subscribers,
    claim_alert,
    claim_delivery,
    deactivate,
    delivered_chats,
    release_alert,
    release_delivery,
)

log = logging.getLogger(__name__)

DAILY_GRACE = timedelta(hours=12)
HOURLY_GRACE = timedelta(minutes=50)
ALERT_MODES = ("spikes", "spreading")  # claimed per subject with a cooldown, not per window
_GONE = ("chat not found", "bot was kicked", "user is deactivated", "group chat was deactivated")


@dataclass(frozen=True)
class Window:
    """One digest window that subscribers share: ``key`` names it in ``digests_sent``."""

    mode: str
    since: datetime
    until: datetime

    @property
    def key(self) -> str:
        return f"{self.mode}:{self.until.strftime('%Y-%m-%dT%H:%MZ')}"


@dataclass
class DeliveryReport:
    """What one delivery tick did."""

    sent: list[tuple[int, str]] = field(default_factory=list)
    deactivated: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    windows_composed: int = 0


def _top_of_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _last_daily_time(daily_time: str, timezone: str, now: datetime) -> datetime:
    """The latest ``HH:MM`` in ``timezone`` that is not after ``now`` (as UTC)."""
    hour, minute = (int(part) for part in daily_time.split(":"))
    zone = zone_named(timezone)
    local_day = now.astimezone(zone).date()
    for days_back in (0, 1, 2):
        day = local_day - timedelta(days=days_back)
        moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)
        if moment <= now:
            return moment
    raise AssertionError("unreachable: a daily time within the last two days always exists")


def due_window(subscriber: Subscriber, now: datetime) -> Window | None:
    """The window this subscriber should have by ``now``, or None.

    A window counts only if it ended after the subscription was made (no backlog for a new
    subscriber) and recently enough (a bot down for days sends the latest digest, not all).
    """
    now = now.astimezone(UTC)
    if subscriber.mode == "daily":
        daily_time = subscriber.daily_time or DEFAULT_DAILY_TIME
        until = _last_daily_time(daily_time, subscriber.timezone, now)
        window, grace = Window("daily", until - timedelta(days=1), until), DAILY_GRACE
    else:  # hourly digests cover their hour; alerts are checked as /summary shows them
        until = _top_of_hour(now)
        span = DIGEST_WINDOW if subscriber.mode in ALERT_MODES else timedelta(hours=1)
        window, grace = Window(subscriber.mode, until - span, until), HOURLY_GRACE
    if until < subscriber.updated_at or now - until > grace:
        return None
    return window


def plan_windows(env: BotEnv, now: datetime) -> dict[Window, list[int]]:
    """Due windows and, for each, the chats that have not had it yet."""
    db = env.db()
    plan: dict[Window, list[int]] = {}
    for subscriber in active_subscribers(db):
        window = due_window(subscriber, now)
        if window is not None:
            plan.setdefault(window, []).append(subscriber.chat_id)
    for window, chats in list(plan.items()):
        if window.mode in ALERT_MODES:
            continue  # alerts are claimed per chat and subject, with a cooldown
        done = delivered_chats(db, window.key)
        pending = [chat for chat in chats if chat not in done]
        if pending:
            plan[window] = pending
        else:
            del plan[window]
    return plan


@dataclass(frozen=True)
class AlertClaim:
    """What an alert claims before it is sent: (kind, subject) per chat, for ``cooldown``
    (None: for good, so the same subject is never alerted twice)."""

    kind: str
    subject: str
    cooldown: timedelta | None


@dataclass(frozen=True)
class Message:
    """What one window sends each of its chats; ``key`` names it in reports and ``digests_sent``.

    An alert carries its ``claims``: it is claimed per (chat, kind, subject), each with its
    cooldown, instead of per window, so a spike that persists is not alerted every hour and
    a spreading post is alerted once.
    """

    key: str
    parts: list[str]
    claims: tuple[AlertClaim, ...] = ()


Outgoing = list[Message]


def _spike_messages(window: Window, digest: Digest, settings: Settings) -> Outgoing:
    cooldown = timedelta(hours=settings.spike_cooldown_hours)
    return [Message(f"spike:{row.theme}:{window.key.split(':', 1)[1]}",
                    [render_spike_alert(digest, row)],
                    (AlertClaim("spike", row.theme, cooldown),))
            for row in digest.spikes]


def spreading_messages(env: BotEnv, window: Window) -> Outgoing:
    """One alert per critical post over the spread threshold in the window; each claims the
    post for good, then the chat's spreading cooldown."""
    cooldown = timedelta(hours=env.settings.spread_cooldown_hours)
    db = env.db()
    posts = spread_posts(db, window.since, window.until, latest_model_version(db),
                         env.settings.spread_min_channels)
    return [Message(f"spread:{spread.post.item_id}", [render_spread_alert(spread)],
                    (AlertClaim("spread", f"post:{spread.post.item_id}", None),
                     AlertClaim("spread", "cooldown", cooldown)))
            for spread in posts]


def outgoing_for(window: Window, digest: Digest, settings: Settings) -> Outgoing:
    """The messages one digest window sends to each of its chats."""
    if window.mode == "spikes":
        return _spike_messages(window, digest, settings)
    if window.mode == "hourly" and digest.total_items == 0:
        return []
    return [Message(window.key, render_digest_messages(
        digest, limits=SectionLimits.from_settings(settings)))]


def _compose_outgoing(env: BotEnv, window: Window) -> Outgoing:
    if window.mode == "spreading":
        return spreading_messages(env, window)
    digest = compose_digest(env.db(), env.settings, env.taxonomy, window.since, window.until)
    return outgoing_for(window, digest, env.settings)


async def _outgoing(env: BotEnv, window: Window, report: DeliveryReport) -> Outgoing:
    """Compose and render a window once per process; later ticks reuse the rendering."""
    if window.key not in env.rendered:
        env.remember(window.key, await env.call(_compose_outgoing, env, window))
        report.windows_composed += 1
    outgoing: Outgoing = env.rendered[window.key]
    return outgoing


async def remember_quoted(env: BotEnv, chat_id: int, message_id: int, part: str) -> None:
    """Record which posts a sent part quoted, so a ``/label`` reply to it finds them.

    A failure is logged, never raised: the message is already out.
    """
    item_ids = quoted_item_ids(part)
    if not item_ids:
        return
    try:
        await env.with_db(record_digest_message, chat_id, message_id, item_ids, env.clock())
    except sqlite3.Error:
        log.warning("could not record the posts quoted by message %s in chat %s",
                    message_id, chat_id, exc_info=True)


async def send_parts(bot: Bot, chat_id: int, parts: list[str], env: BotEnv | None = None) -> int:
    """Send HTML parts in order; return how many went out before any error (re-raised).

    With ``env``, each sent part's quoted posts are recorded (``remember_quoted``).
    """
    for number, part in enumerate(parts):
        try:
            message = await bot.send_message(
                chat_id, part, parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True))
        except TelegramError as exc:
            exc.parts_sent = number  # type: ignore[attr-defined]
            raise
        if env is not None:
            await remember_quoted(env, chat_id, message.message_id, part)
    return len(parts)


def _certainly_not_sent(exc: TelegramError) -> bool:
    return isinstance(exc, RetryAfter) or (
        isinstance(exc, NetworkError) and not isinstance(exc, TimedOut))


def _claim(db: sqlite_utils.Database, chat_id: int, message: Message, now: datetime) -> bool:
    """Claim a digest per window, an alert per claim in order; a claim that fails undoes
    the ones won before it, so nothing is held for a message that is not sent."""
    if not message.claims:
        return claim_delivery(db, chat_id, message.key, now)
    won: list[AlertClaim] = []
    for claim in message.claims:
        if not claim_alert(db, chat_id, claim.kind, claim.subject, claim.cooldown, now):
            for taken in won:
                release_alert(db, chat_id, taken.kind, taken.subject)
            return False
        won.append(claim)
    return True


def _release(db: sqlite_utils.Database, chat_id: int, message: Message) -> None:
    if not message.claims:
        release_delivery(db, chat_id, message.key)
    for claim in message.claims:
        release_alert(db, chat_id, claim.kind, claim.subject)


async def deliver(env: BotEnv, bot: Bot, chat_id: int, message: Message,
                  report: DeliveryReport) -> None:
    """Claim the message for the chat, send, handle a blocked or vanished chat; never raises."""
    now, key = env.clock(), message.key
    if not await env.with_db(_claim, chat_id, message, now):
        return
    try:
        await send_parts(bot, chat_id, message.parts, env)
    except Forbidden as exc:
        log.info("chat %s blocked the bot (%s); marking it inactive", chat_id, exc.message)
        await env.with_db(deactivate, chat_id, f"forbidden: {exc.message}", now)
        report.deactivated.append(chat_id)
        return
    except BadRequest as exc:
        if any(phrase in exc.message.lower() for phrase in _GONE):
            await env.with_db(deactivate, chat_id, f"gone: {exc.message}", now)
            report.deactivated.append(chat_id)
            return
        log.error("digest %s to chat %s rejected: %s", key, chat_id, exc.message)
        report.failed.append((chat_id, key))
        return
    except TelegramError as exc:
        log.warning("digest %s to chat %s failed: %s", key, chat_id, exc)
        if getattr(exc, "parts_sent", 0) == 0 and _certainly_not_sent(exc):
            await env.with_db(_release, chat_id, message)
        report.failed.append((chat_id, key))
        return
    report.sent.append((chat_id, key))


async def deliver_due(env: BotEnv, bot: Bot, now: datetime | None = None) -> DeliveryReport:
    """One delivery tick: every due window composed once and sent to each chat still owed it."""
    moment = (now or env.clock()).astimezone(UTC)
    report = DeliveryReport()
    plan = await env.call(plan_windows, env, moment)
    for window, chats in sorted(plan.items(), key=lambda entry: entry[0].until):
        try:
            outgoing = await _outgoing(env, window, report)
        except Exception:
            log.exception("composing %s failed; will retry on the next tick", window.key)
            continue
        for chat_id in chats:
            for message in outgoing:
                await deliver(env, bot, chat_id, message, report)
    if report.sent or report.failed or report.deactivated:
        log.info("delivery: %d sent, %d failed, %d chats deactivated",
                 len(report.sent), len(report.failed), len(report.deactivated))
    return report
