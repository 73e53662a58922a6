"""/watch, /watches, /unwatch and watch alerts through the real PTB Application and the stand-in.

A watch added in a chat is matched right after scoring (the pipeline's step, run here on
seeded scores), alerted once per post with the evidence sentence escaped and the post linked,
at most once per cooldown (held matches go out together after it), never twice across a
crash between claim and send or a repeated scan; hostile watches are refused and lose nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import build_application
from bot.run import running_bot
from bot.watch_delivery import deliver_watch_alerts
from config import Settings
from config.themes import Taxonomy
from riftwatch.pipeline import match_watches
from store.db import open_db
from store.edges import write_mark
from store.subscribers import claim_alert
from store.watches import ALERT_KIND, WATCH_STREAM, chat_watches, match_subject, pending_matches

CHAT = 2002  # the stand-in's default user, in a private chat
NOW = datetime.now(UTC).replace(microsecond=0)


def _alerts(standin, chat: int = CHAT) -> list[str]:  # type: ignore[no-untyped-def]
    return [text for text in standin.texts(chat) if text.startswith("🔔")]


async def _tick(settings: Settings, db_path: Path, taxonomy: Taxonomy, clock,  # type: ignore[no-untyped-def]
                at: datetime) -> None:
    """One delivery tick of a freshly started bot (a restart each time) at ``at``."""
    clock.now = at
    application = build_application(settings, db_path, taxonomy, clock=clock)
    async with running_bot(application, settings, poll_timeout=0.5):
        await deliver_watch_alerts(application.bot_data["env"], application.bot)


async def test_watch_commands_list_number_and_remove(standin, start_bot, db_path, clock):  # type: ignore[no-untyped-def]
    clock.now = NOW
    async with start_bot():
        (added,) = await standin.reply_to("/watch Шойгу -учения stance:critical cooldown:2h")
        await standin.reply_to("/watch re:брос(ил|или)\\s+позиции")
        await standin.reply_to("/watch target:Герасимов")
        (listed,) = await standin.reply_to("/watches")
        (removed,) = await standin.reply_to("/unwatch 2")
        (again,) = await standin.reply_to("/watches")
        (missing,) = await standin.reply_to("/unwatch 9")
        (usage,) = await standin.reply_to("/watch")
    assert "Watching <code>Шойгу -учения stance:critical</code> as number 1" in \
        added.params["text"]
    text = listed.params["text"]
    assert "1. <code>Шойгу -учения stance:critical</code> — at most one alert per 2 h" in text
    assert "2. <code>re:брос(ил|или)\\s+позиции</code> — at most one alert per 15 min" in text
    assert "3. <code>target:gerasimov</code>" in text
    assert "Stopped watching <code>re:брос(ил|или)\\s+позиции</code>" in removed.params["text"]
    assert "2. <code>target:gerasimov</code>" in again.params["text"]
    assert "no watch number 9" in missing.params["text"]
    assert "Usage: /watch PHRASE" in usage.params["text"]
    assert [w.rule.kind for w in chat_watches(open_db(db_path), CHAT)] == ["phrase", "target"]


async def test_hostile_watches_get_one_line_and_lose_nothing(  # type: ignore[no-untyped-def]
        standin, start_bot, bot_settings, db_path, clock):
    clock.now = NOW
    capped = bot_settings.model_copy(update={"watch_max_per_chat": 3})
    async with start_bot(capped):
        for number in range(3):
            await standin.reply_to(f"/watch слово{number}")
        replies = {}
        for command in ("/watch слово9", "/watch слово0", "/watch re:" + "a" * 500,
                        "/watch re:(?=x)<b>", "/watch шойгу\x1b[2J", "/watch channel:nosuch",
                        "/watch x stance:angry", "/unwatch 1; DROP TABLE watches"):
            (reply,) = await standin.reply_to(command)
            replies[command] = reply.params["text"]
        (listed,) = await standin.reply_to("/watches")
    assert "This chat has 3 watches, the most it may have" in replies["/watch слово9"]
    assert "already has that watch" in replies["/watch слово0"]
    assert "at most 200 characters" in replies["/watch re:" + "a" * 500]
    assert "RE2 cannot run the pattern '(?=x)&lt;b&gt;'" in replies["/watch re:(?=x)<b>"]
    assert "control or direction characters" in replies["/watch шойгу\x1b[2J"]
    assert "No watched feed named 'nosuch'" in replies["/watch channel:nosuch"]
    assert "Unknown stance 'angry'" in replies["/watch x stance:angry"]
    assert "Usage: /unwatch N" in replies["/unwatch 1; DROP TABLE watches"]
    assert all(f"{n + 1}. <code>слово{n}</code>" in listed.params["text"] for n in range(3))
    assert len(chat_watches(open_db(db_path), CHAT)) == 3


async def test_a_match_is_alerted_once_with_its_sentence_escaped_and_linked(  # type: ignore[no-untyped-def]
        standin, start_bot, bot_settings, db_path, taxonomy, seed, clock, telegram_parse):
    clock.now = NOW - timedelta(minutes=30)
    seed(db_path, [
        {"feed": "rybar", "at": NOW - timedelta(minutes=20), "stance": "critical",
         "text": "Сводка. <b>Министерства обороны</b> & Шойгу опять врут про фланги!"},
        {"feed": "wargonzo", "at": NOW - timedelta(minutes=10), "stance": "neutral",
         "text": "Министерство обороны провело учения."},  # excluded
        {"feed": "wargonzo", "at": NOW - timedelta(days=5), "stance": "critical",
         "text": "Министерство обороны молчит."},  # too old to alert
    ])  # fetched just now: after the watches below were made (the clock is 30 min back)
    async with start_bot():
        await standin.reply_to("/watch министерство обороны -учения")
        await standin.reply_to("/watch channel:rybar cooldown:0")
    assert match_watches(db_path, bot_settings, taxonomy) == 2  # a phrase and a channel match
    assert match_watches(db_path, bot_settings, taxonomy) == 0  # scanned once
    await _tick(bot_settings, db_path, taxonomy, clock, NOW)
    await _tick(bot_settings, db_path, taxonomy, clock, NOW + timedelta(hours=1))
    alerts = _alerts(standin)
    assert len(alerts) == 2  # one per watch, never again
    phrase = next(alert for alert in alerts if "министерство обороны -учения" in alert)
    assert "&lt;b&gt;Министерства обороны&lt;/b&gt; &amp; Шойгу опять врут про фланги!" in phrase
    assert '<a href="https://t.me/rybar/1">rybar</a>' in phrase
    assert "учения" not in phrase.split("</code>", 1)[1]
    telegram_parse(phrase)  # Telegram would take it


async def test_a_cooldown_holds_matches_and_sends_them_together_after_it(  # type: ignore[no-untyped-def]
        standin, start_bot, bot_settings, db_path, taxonomy, seed, clock):
    clock.now = NOW - timedelta(hours=3)
    async with start_bot():
        await standin.reply_to("/watch снаряд cooldown:1h")
    seed(db_path, [{"feed": "rybar", "at": NOW - timedelta(hours=2, minutes=50),
                    "text": "Снарядов нет третий день."}])
    match_watches(db_path, bot_settings, taxonomy)
    await _tick(bot_settings, db_path, taxonomy, clock, NOW - timedelta(hours=2, minutes=45))
    assert len(_alerts(standin)) == 1
    seed(db_path, [{"feed": "wargonzo", "at": NOW - timedelta(hours=2, minutes=30),
                    "text": "Где снаряды?"},
                   {"feed": "kotsnews", "at": NOW - timedelta(hours=2, minutes=20),
                    "text": "Снаряды опять не подвезли."}])
    match_watches(db_path, bot_settings, taxonomy)
    await _tick(bot_settings, db_path, taxonomy, clock, NOW - timedelta(hours=2, minutes=15))
    assert len(_alerts(standin)) == 1  # within the hour: held, not lost
    assert len(pending_matches(open_db(db_path))) == 2
    await _tick(bot_settings, db_path, taxonomy, clock, NOW - timedelta(hours=1, minutes=40))
    alerts = _alerts(standin)
    assert len(alerts) == 2
    assert "2 new posts" in alerts[1]
    assert "Где снаряды?" in alerts[1] and "Снаряды опять не подвезли." in alerts[1]
    assert not pending_matches(open_db(db_path))


async def test_a_claimed_alert_is_never_sent_again_after_a_crash_or_a_repeated_scan(  # type: ignore[no-untyped-def]
        standin, start_bot, bot_settings, db_path, taxonomy, seed, clock):
    clock.now = NOW - timedelta(hours=1)
    async with start_bot():
        await standin.reply_to("/watch генерал cooldown:0")
    seed(db_path, [{"feed": "rybar", "at": NOW - timedelta(minutes=50), "text": "Генералы молчат."},
                   {"feed": "rybar", "at": NOW - timedelta(minutes=40), "text": "Генерала сняли."}])
    match_watches(db_path, bot_settings, taxonomy)
    db = open_db(db_path)
    (watch,) = chat_watches(db, CHAT)
    first, second = (match.item_id for match in pending_matches(db))
    # a process claimed the first match and died before sending it
    assert claim_alert(db, CHAT, ALERT_KIND, match_subject(watch.id, first), None, NOW)
    # and a crash lost the scan's mark: the next scan reads every score again
    with db.conn:
        write_mark(db, WATCH_STREAM, 0)
    assert match_watches(db_path, bot_settings, taxonomy) == 0
    await _tick(bot_settings, db_path, taxonomy, clock, NOW)
    await _tick(bot_settings, db_path, taxonomy, clock, NOW + timedelta(minutes=5))
    (alert,) = _alerts(standin)
    assert "Генерала сняли." in alert and "Генералы молчат." not in alert
    assert f"#{second}" in alert


async def test_a_refused_send_is_released_and_retried(  # type: ignore[no-untyped-def]
        standin, start_bot, bot_settings, db_path, taxonomy, seed, clock):
    clock.now = NOW - timedelta(hours=1)
    async with start_bot():
        await standin.reply_to("/watch генерал")
    seed(db_path, [{"feed": "rybar", "at": NOW - timedelta(minutes=50),
                    "text": "Генералы молчат."}])
    match_watches(db_path, bot_settings, taxonomy)
    standin.retry_after[CHAT] = [1] * 4  # refused, and again on each of the 3 retries
    await _tick(bot_settings, db_path, taxonomy, clock, NOW)
    assert len(pending_matches(open_db(db_path))) == 1  # released: Telegram never took it
    await _tick(bot_settings, db_path, taxonomy, clock, NOW + timedelta(minutes=1))
    assert not pending_matches(open_db(db_path))
    tries = _alerts(standin)
    assert len(tries) == 5 and len(set(tries)) == 1  # 4 refused, then the one accepted


async def test_the_bots_delivery_job_sends_watch_alerts(  # type: ignore[no-untyped-def]
        standin, start_bot, bot_settings, db_path, taxonomy, seed, clock):
    clock.now = NOW - timedelta(hours=1)
    async with start_bot(tick_seconds=0.5):
        await standin.reply_to("/watch генерал")
        seed(db_path, [{"feed": "rybar", "at": NOW - timedelta(minutes=50),
                        "text": "Генералы молчат."}])
        match_watches(db_path, bot_settings, taxonomy)
        await standin.wait_for(lambda: bool(_alerts(standin)))
    (alert,) = _alerts(standin)
    assert "«Генералы молчат.»" in alert
