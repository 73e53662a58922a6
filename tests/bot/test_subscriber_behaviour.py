"""What a subscriber would call a bug (issue 13, point 6), through the real bot and the stand-in.

Spike alerts check what /summary shows and respect a cooldown across restarts; a group's
subscription is changed only by its admins; /addfeed never silently rewrites a feed; /feeds
keeps raw fetch errors for admins.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app import build_application
from bot.delivery import deliver_due
from bot.run import running_bot
from store.db import open_db
from store.feeds import FetchOutcome, get_feed, list_feeds, record_fetch
from store.subscribers import get_subscriber, subscribe

ADMIN_ID = 1001
USER_ID = 2002
GROUP = -500
GROUP_ADMIN = 3003
SPIKES_CHAT = 7
TOP = datetime(2026, 11, 25, 9, 0, 5, tzinfo=UTC)  # a delivery tick just after the hour


def _quiet_normal() -> list[dict]:
    """Two neutral posts a day for the baseline's 14 days: the MoD theme is absent."""
    return [{"feed": "chan_a", "at": TOP - timedelta(days=day, hours=hours), "stance": "neutral",
             "text": f"Сводка {day} {hours}", "themes": {}}
            for day in range(2, 14) for hours in (3, 5)]


def _mod_posts(hours_before: list[float]) -> list[dict]:
    return [{"feed": "chan_a", "at": TOP - timedelta(hours=hours), "text": f"Минобороны {n}",
             "themes": {"mod_criticism": 0.9}, "targets": ["ministry"]}
            for n, hours in enumerate(hours_before)]


def _alerts(standin) -> list[str]:
    return [text for text in standin.texts(SPIKES_CHAT) if text.startswith("🔺 <b>Spike")]


async def test_a_spikes_subscriber_hears_of_the_spikes_summary_shows(
        standin, bot_settings, db_path, taxonomy, seed, clock):
    # one MoD post every three hours: a clear spike over 24 hours, never three in one hour
    seed(db_path, _quiet_normal() + _mod_posts([1.5, 4.5, 7.5, 10.5, 13.5]))
    subscribe(open_db(db_path), SPIKES_CHAT, "spikes", now=TOP - timedelta(days=1))
    clock.now = TOP
    application = build_application(bot_settings, db_path, taxonomy, clock=clock)
    async with running_bot(application, bot_settings, poll_timeout=0.5):
        summary = await standin.reply_to("/summary")
        report = await deliver_due(application.bot_data["env"], application.bot, TOP)
    assert "Spikes</b>" in summary[0].params["text"]
    assert (SPIKES_CHAT, "spike:mod_criticism:2026-11-25T09:00Z") in report.sent
    (alert,) = _alerts(standin)
    assert alert.startswith("🔺 <b>Spike: Against the Defence Ministry</b>")


async def test_a_persisting_spike_alerts_once_per_cooldown_even_across_restarts(
        standin, bot_settings, db_path, taxonomy, seed, clock):
    # four MoD posts in each of the three hours before TOP: a spike in every hourly check
    seed(db_path, _quiet_normal() + _mod_posts(
        [hour + quarter / 4 for hour in (0.1, 1.1, 2.1) for quarter in range(4)]))
    subscribe(open_db(db_path), SPIKES_CHAT, "spikes", now=TOP - timedelta(days=1))
    ticks = [TOP - timedelta(hours=2), TOP - timedelta(hours=1), TOP]
    for tick in ticks:  # a fresh Application (a restart) for each hourly tick
        clock.now = tick
        application = build_application(bot_settings, db_path, taxonomy, clock=clock)
        async with running_bot(application, bot_settings, poll_timeout=0.5):
            await deliver_due(application.bot_data["env"], application.bot, tick)
    assert len(_alerts(standin)) == 1
    cooldown = bot_settings.spike_cooldown_hours
    later = ticks[0] + timedelta(hours=cooldown)  # the spike is still in the 24-hour window
    clock.now = later
    application = build_application(bot_settings, db_path, taxonomy, clock=clock)
    async with running_bot(application, bot_settings, poll_timeout=0.5):
        await deliver_due(application.bot_data["env"], application.bot, later)
    assert cooldown == 24
    assert len(_alerts(standin)) == 2


async def test_only_a_groups_admins_change_its_subscription(standin, start_bot, db_path):
    standin.chat_admins[GROUP] = {GROUP_ADMIN}
    db = open_db(db_path)

    async def ask(text: str, user_id: int, **kwargs) -> str:
        (reply,) = await standin.reply_to(text, chat_id=GROUP, user_id=user_id,
                                          chat_type="supergroup", **kwargs)
        return reply.params["text"]

    async with start_bot():
        by_admin = await ask("/subscribe hourly", GROUP_ADMIN)
        by_member = [await ask("/unsubscribe", USER_ID),
                     await ask("/subscribe daily 09:00", USER_ID)]
        after_members = get_subscriber(db, GROUP)
        by_riftwatch_admin = await ask("/subscribe spikes", ADMIN_ID)
        by_anonymous_admin = await ask("/unsubscribe", USER_ID, as_chat=True)
        (private,) = await standin.reply_to("/subscribe daily 07:00")  # one's own chat: no check
    assert by_admin.startswith("Subscribed")
    assert by_member == [f"Sorry, in a group only its admins can use /{name}. Nothing was changed."
                         for name in ("unsubscribe", "subscribe")]
    assert after_members is not None
    assert after_members.active
    assert after_members.mode == "hourly"
    assert by_riftwatch_admin.startswith("Subscribed")
    assert by_anonymous_admin.startswith("Unsubscribed")
    assert private.params["text"].startswith("Subscribed")
    checked = {(int(call.params["chat_id"]), int(call.params["user_id"]))
               for call in standin.sent(method="getChatMember")}
    assert checked == {(GROUP, GROUP_ADMIN), (GROUP, USER_ID)}


async def test_addfeed_of_a_watched_feed_is_refused_by_name_and_changes_nothing(
        standin, start_bot, db_path):
    async with start_bot():
        replies = [(await standin.reply_to(text, chat_id=ADMIN_ID))[0].params["text"] for text in (
            "/addfeed https://93.184.216.34/rss.xml", "/addfeed https://93.184.216.34/rss.xml/ "
            "blogger", "/addfeed @rybar_test", "/addfeed t.me/s/Rybar_Test news",
            "/removefeed rybar_test", "/addfeed @rybar_test news")]
    assert replies[1] == (
        "Already watching 93.184.216.34 (rss, news) at https://93.184.216.34/rss.xml; nothing "
        "was changed. To change it, /removefeed 93.184.216.34 and add it again.")
    assert replies[3].startswith("Already watching rybar_test (telegram, blogger) at ")
    assert replies[5].startswith("Added <b>rybar_test</b> (telegram, news)")  # removed: comes back
    roles = {feed.name: feed.role for feed in list_feeds(open_db(db_path))}
    assert roles == {"93.184.216.34": "news", "rybar_test": "news"}


async def test_addfeed_keeps_the_stores_one_rule(standin, start_bot, db_path):
    """/addfeed goes through the same rule as `feeds add` and OPML import (issue 22, point 4):
    a removed feed's name stays its own, a channel is one feed whatever its case, and a
    feeds-file name keeps the file's source."""
    async with start_bot():
        replies = [(await standin.reply_to(text, chat_id=ADMIN_ID))[0].params["text"] for text in (
            "/addfeed https://93.184.216.34/rss.xml", "/removefeed 93.184.216.34",
            "/addfeed https://93.184.216.34/atom", "/addfeed @abcd", "/addfeed @ABCD",
            "/addfeed t.me/s/rybar")]
    assert replies[2] == (
        "The name 93.184.216.34 is taken by the removed feed of https://93.184.216.34/rss.xml "
        "(rss, news); nothing was changed. Add it under another name with: riftwatch feeds add "
        "--name NAME")
    assert replies[3].startswith("Added <b>abcd</b> (telegram, blogger): https://t.me/s/abcd")
    assert replies[4].startswith("Already watching abcd (telegram, blogger)")
    assert replies[5].startswith("Added <b>rybar</b> (telegram, blogger)")
    feeds = {feed.name: (feed.url, feed.title) for feed in list_feeds(open_db(db_path))}
    assert feeds == {"abcd": ("https://t.me/s/abcd", None),
                     "rybar": ("https://t.me/s/rybar", "Рыбарь")}  # as config/feeds.toml says


async def test_feeds_shows_raw_fetch_errors_to_admins_only(standin, start_bot, db_path, clock):
    db = open_db(db_path)
    async with start_bot():
        await standin.reply_to("/addfeed https://93.184.216.34/rss.xml", chat_id=ADMIN_ID)
        feed = get_feed(db, "93.184.216.34")
        for hours in (5, 3):
            failed_at = clock.now - timedelta(hours=hours)
            record_fetch(db, feed.id, FetchOutcome(
                started_at=failed_at, finished_at=failed_at, status="error",
                error="connect to 10.0.0.7:8080 refused (internal-proxy.corp)"),
                retry_base=60.0, retry_cap=3600.0)
        (member,) = await standin.reply_to("/feeds")
        (admin,) = await standin.reply_to("/feeds", chat_id=ADMIN_ID)
    assert "10.0.0.7" not in member.params["text"]
    assert "internal-proxy" not in member.params["text"]
    assert "failing since 2026-11-24T04:30:00Z" in member.params["text"]
    assert "connect to 10.0.0.7:8080 refused (internal-proxy.corp)" in admin.params["text"]
