"""Scheduled digests through the real Application and JobQueue, against the Bot API stand-in."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from bot.app import build_application
from bot.delivery import deliver_due
from bot.run import running_bot
from store.db import open_db
from store.subscribers import deliveries, get_subscriber, subscribe

USER_ID = 2002
DUE = datetime(2026, 11, 25, 8, 0, 20, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script> Минобороны & Шойгу <b>врут</i> "


def _window_posts(count: int = 3, channels: int = 1, text: str = HOSTILE,
                  minutes_before: int = 60) -> list[dict]:
    return [{"feed": f"chan_{number % channels:03d}", "title": f"Канал <{number % channels}>",
             "at": DUE - timedelta(minutes=minutes_before + number), "text": f"{number} {text}",
             "themes": {"mod_criticism": 0.9}, "targets": ["ministry"]}
            for number in range(count)]


def _digests(standin, chat_id: int) -> list[str]:
    return [text for text in standin.texts(chat_id) if "riftwatch digest" in text]


async def test_daily_digest_is_delivered_once_by_the_job_queue_even_after_restart(
        standin, start_bot, seed, db_path, clock):
    seed(db_path, _window_posts())
    async with start_bot(tick_seconds=0.1):
        await standin.reply_to("/subscribe daily 08:00")
        await asyncio.sleep(0.4)  # ticks run, but 08:00 today was before the subscription
        assert _digests(standin, USER_ID) == []
        clock.now = DUE
        await standin.wait_for(lambda: len(_digests(standin, USER_ID)) == 1)
        await asyncio.sleep(0.4)  # several more ticks: nothing new
    async with start_bot(tick_seconds=0.1):  # a restart on the same store
        await asyncio.sleep(0.5)
    (digest,) = _digests(standin, USER_ID)
    assert "24 Nov 08:00 – 25 Nov 08:00 UTC" in digest
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in digest
    assert "<script>" not in digest
    assert [row["window_key"] for row in deliveries(open_db(db_path))] == [
        "daily:2026-11-25T08:00Z"]


async def test_one_window_is_composed_once_for_all_its_chats(
        standin, bot_settings, db_path, taxonomy, seed, clock):
    seed(db_path, _window_posts())
    db = open_db(db_path)
    subscribe(db, 1, "daily", daily_time="08:00", now=clock.now)
    subscribe(db, 2, "daily", daily_time="11:00", timezone="Europe/Moscow", now=clock.now)
    subscribe(db, 3, "daily", daily_time="09:00", now=clock.now)  # not due yet at 08:00
    application = build_application(bot_settings, db_path, taxonomy, clock=clock)
    async with running_bot(application, bot_settings, poll_timeout=0.5):
        report = await deliver_due(application.bot_data["env"], application.bot, DUE)
    assert report.windows_composed == 1
    assert sorted(chat for chat, _ in report.sent) == [1, 2]
    assert _digests(standin, 1) == _digests(standin, 2)
    assert _digests(standin, 3) == []


async def test_a_long_digest_arrives_as_several_valid_messages(
        standin, bot_settings, db_path, taxonomy, seed, clock):
    seed(db_path, _window_posts(count=120, channels=60, text=HOSTILE * 8))
    subscribe(open_db(db_path), USER_ID, "daily", daily_time="08:00", now=clock.now)
    application = build_application(bot_settings, db_path, taxonomy, clock=clock)
    async with running_bot(application, bot_settings, poll_timeout=0.5):
        report = await deliver_due(application.bot_data["env"], application.bot, DUE)
    parts = standin.texts(USER_ID)
    assert report.failed == []
    assert report.sent == [(USER_ID, "daily:2026-11-25T08:00Z")]
    assert len(parts) >= 2  # the stand-in refused any part over 4096 or with broken tags
    assert "riftwatch digest" in parts[0]
    assert "Channels" in "".join(parts)
    assert all(len(part) <= 4096 for part in parts)


async def test_blocked_chat_is_marked_inactive_and_not_retried(
        standin, bot_settings, db_path, taxonomy, seed, clock):
    seed(db_path, _window_posts())
    db = open_db(db_path)
    for chat in (USER_ID, 3003):
        subscribe(db, chat, "daily", daily_time="08:00", now=clock.now)
    standin.blocked_chats.add(3003)
    application = build_application(bot_settings, db_path, taxonomy, clock=clock)
    async with running_bot(application, bot_settings, poll_timeout=0.5):
        env = application.bot_data["env"]
        report = await deliver_due(env, application.bot, DUE)
        later = await deliver_due(env, application.bot, DUE + timedelta(days=1))
    assert report.deactivated == [3003]
    assert report.sent == [(USER_ID, "daily:2026-11-25T08:00Z")]
    blocked = get_subscriber(db, 3003)
    assert not blocked.active
    assert "bot was blocked by the user" in blocked.inactive_reason
    assert len(standin.sent(3003)) == 1  # the one refused attempt, never again
    assert later.sent == [(USER_ID, "daily:2026-11-26T08:00Z")]
    assert later.deactivated == []


async def test_retry_after_is_honoured_and_the_digest_arrives_once(
        standin, bot_settings, db_path, taxonomy, seed, clock):
    seed(db_path, _window_posts())
    subscribe(open_db(db_path), USER_ID, "hourly", now=clock.now)
    standin.retry_after[USER_ID] = [1]
    application = build_application(bot_settings, db_path, taxonomy, clock=clock)
    async with running_bot(application, bot_settings, poll_timeout=0.5):
        report = await deliver_due(application.bot_data["env"], application.bot,
                                   DUE.replace(minute=5))
    refused, accepted = standin.sent(USER_ID)
    assert refused.params["text"] == accepted.params["text"]
    assert accepted.at - refused.at >= 1.0  # waited the retry_after the server asked for
    assert report.sent == [(USER_ID, "hourly:2026-11-25T08:00Z")]
    assert report.failed == []


async def test_a_broadcast_killed_midway_resumes_with_the_rest_and_resends_nothing(
        standin, bot_settings, db_path, taxonomy, seed, clock):
    seed(db_path, _window_posts())
    db = open_db(db_path)
    for chat in (1, 2, 3):
        subscribe(db, chat, "daily", daily_time="08:00", now=clock.now)
    standin.held_chats[2] = asyncio.Event()  # chat 2's send hangs in flight
    first = build_application(bot_settings, db_path, taxonomy, clock=clock)
    async with running_bot(first, bot_settings, poll_timeout=0.5):
        broadcast = asyncio.create_task(deliver_due(first.bot_data["env"], first.bot, DUE))
        await standin.wait_for(lambda: len(standin.sent(2)) == 1)
        broadcast.cancel()  # the process dies with chat 2's message in flight
        standin.held_chats[2].set()
    second = build_application(bot_settings, db_path, taxonomy, clock=clock)
    async with running_bot(second, bot_settings, poll_timeout=0.5):
        report = await deliver_due(second.bot_data["env"], second.bot, DUE + timedelta(minutes=1))
    assert report.sent == [(3, "daily:2026-11-25T08:00Z")]
    assert [len(standin.sent(chat)) for chat in (1, 2, 3)] == [1, 1, 1]  # nobody got two


async def test_spike_alert_once_per_theme_per_window_and_empty_hours_are_quiet(
        standin, bot_settings, db_path, taxonomy, seed, clock):
    quiet = [{"feed": "chan_000", "at": DUE - timedelta(days=day, hours=3), "stance": "neutral",
              "text": f"Обычная сводка {day}", "themes": {}} for day in range(1, 13)]
    quiet += [{"feed": "chan_000", "at": DUE - timedelta(days=day, hours=5), "stance": "neutral",
               "text": f"Ещё сводка {day}", "themes": {}} for day in range(1, 13)]
    seed(db_path, quiet + _window_posts(count=5, minutes_before=65))  # 06:00–07:00
    db = open_db(db_path)
    subscribe(db, 7, "spikes", now=clock.now)
    subscribe(db, 8, "hourly", now=clock.now)
    application = build_application(bot_settings, db_path, taxonomy, clock=clock)
    async with running_bot(application, bot_settings, poll_timeout=0.5):
        env = application.bot_data["env"]
        first = await deliver_due(env, application.bot, DUE.replace(minute=0, second=5)
                                  - timedelta(hours=1))
        again = await deliver_due(env, application.bot, DUE.replace(minute=30)
                                  - timedelta(hours=1))
        empty_hour = await deliver_due(env, application.bot, DUE.replace(minute=1))
    assert (7, "spike:mod_criticism:2026-11-25T07:00Z") in first.sent
    assert all(key.startswith("spike:") for chat, key in first.sent if chat == 7)
    (alert,) = [text for text in standin.texts(7) if "mod_criticism" in text or "Defence" in text]
    assert alert.startswith("🔺 <b>Spike: Against the Defence Ministry</b>")
    assert again.sent == []
    assert empty_hour.sent == []
    assert [text for text in standin.texts(8) if "riftwatch digest" in text] != []
    assert len(standin.texts(8)) == 1  # the 07:00 hour had posts; the 08:00 hour had none


async def test_the_token_never_reaches_the_logs(standin, start_bot, caplog):
    caplog.set_level(logging.DEBUG)
    async with start_bot():
        logging.getLogger("httpx").setLevel(logging.DEBUG)  # the worst case: URLs logged
        await standin.reply_to("/help")
        logging.getLogger("telegram").debug("token in a message: %s", standin.token)
    assert standin.token not in caplog.text
    assert "[REDACTED]" in caplog.text
