"""The real bot Application against the Bot API stand-in: commands, admin rights, usage lines."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.commands import COMMANDS
from store.db import open_db
from store.feeds import list_feeds
from store.subscribers import get_subscriber

ADMIN_ID = 1001
USER_ID = 2002
HOSTILE = "<script>alert(1)</script> Минобороны & Шойгу <b>врут"


async def test_start_help_and_the_command_menu(standin, start_bot):
    async with start_bot():
        (start,) = await standin.reply_to("/start")
        (help_reply,) = await standin.reply_to("/help")
        (admin_help,) = await standin.reply_to("/help", chat_id=ADMIN_ID)
    assert "riftwatch" in start.params["text"]
    assert "/subscribe" in start.params["text"]
    assert "/summary" in help_reply.params["text"]
    assert "/addfeed t.me/NAME" not in help_reply.params["text"]
    assert "/addfeed t.me/NAME" in admin_help.params["text"]
    (menu,) = standin.sent(method="setMyCommands")
    commands = json.loads(menu.params["commands"])
    assert [entry["command"] for entry in commands] == [command.name for command in COMMANDS]
    assert {"command": "trend", "description": "chart of a theme's daily share, bloggers vs news"} \
        in commands


async def test_non_admin_is_refused_and_nothing_changes(standin, start_bot, db_path):
    async with start_bot():
        (added,) = await standin.reply_to("/addfeed @rybar_test blogger", chat_id=ADMIN_ID)
        for command in ("/addfeed @wargonzo", "/removefeed rybar_test", "/pausefeed rybar_test",
                        "/status"):
            (reply,) = await standin.reply_to(command)
            assert "for riftwatch admins only" in reply.params["text"]
    assert "Added <b>rybar_test</b> (telegram, blogger)" in added.params["text"]
    feeds = list_feeds(open_db(db_path))
    assert [(feed.name, feed.enabled) for feed in feeds] == [("rybar_test", True)]


async def test_admin_feed_commands(standin, start_bot, bot_settings, db_path):
    strict = bot_settings.model_copy(update={"allow_private_urls": False})
    async with start_bot(strict):
        replies = {}
        for command in ("/addfeed t.me/s/Rybar_Test", "/addfeed http://93.184.216.34/rss.xml",
                        "/addfeed https://93.184.216.34/atom blogger",
                        "/addfeed http://127.0.0.1:8080/feed", "/addfeed http://10.1.2.3/rss",
                        "/addfeed http://[::1]/rss", "/addfeed http://169.254.169.254/latest",
                        "/addfeed http://localhost/rss", "/addfeed ftp://93.184.216.34/x",
                        "/addfeed @rybar_test spy", "/pausefeed rybar_test",
                        "/resumefeed @Rybar_Test", "/pausefeed 93.184.216.34",
                        "/removefeed nosuchfeed", "/removefeed rybar_test", "/status"):
            (reply,) = await standin.reply_to(command, chat_id=ADMIN_ID)
            replies[command] = reply.params["text"]
    assert "Added <b>rybar_test</b> (telegram, blogger): https://t.me/s/Rybar_Test" in \
        replies["/addfeed t.me/s/Rybar_Test"]
    assert "(rss, news)" in replies["/addfeed http://93.184.216.34/rss.xml"]
    assert replies["/addfeed https://93.184.216.34/atom blogger"].startswith(
        "The name 93.184.216.34 is taken by the feed of http://93.184.216.34/rss.xml "
        "(rss, news); nothing was changed.")
    for private in ("http://127.0.0.1:8080/feed", "http://10.1.2.3/rss", "http://[::1]/rss",
                    "http://169.254.169.254/latest", "http://localhost/rss"):
        assert "non-public address" in replies[f"/addfeed {private}"], private
    assert "url must start with http:// or https://" in replies["/addfeed ftp://93.184.216.34/x"]
    assert replies["/addfeed @rybar_test spy"].startswith("Usage: /addfeed")
    assert replies["/pausefeed rybar_test"] == "<b>rybar_test</b> paused."
    assert replies["/resumefeed @Rybar_Test"] == "<b>rybar_test</b> resumed."
    assert "No feed named 'nosuchfeed'" in replies["/removefeed nosuchfeed"]
    assert "Feeds: 0 active, 1 paused" in replies["/status"]
    assert "digest-delivery: next" in replies["/status"]
    feeds = {feed.name: feed for feed in list_feeds(open_db(db_path))}
    assert set(feeds) == {"93.184.216.34"}  # one host: the second URL was refused
    assert feeds["93.184.216.34"].url == "http://93.184.216.34/rss.xml"
    assert not feeds["93.184.216.34"].enabled


async def test_bad_arguments_and_unknown_input_get_a_usage_line(standin, start_bot):
    expected = {
        "/subscribe weekly": "Usage: /subscribe",
        "/subscribe daily 25:00": "is not a time; use HH:MM",
        "/subscribe daily 08:00 Mars/Olympus": "Unknown time zone",
        "/summary 0h": "is not a window",
        "/summary 400d": "too long",
        "/summary nosuchthing": "No feed named 'nosuchthing'",
        "/channel": "Usage: /channel NAME",
        "/trend": "Usage: /trend THEME",
        "/trend wagner": "Unknown theme 'wagner'",
        "/trend mod_criticism soon": "is not a window",
        "/frobnicate now": "Unknown command '/frobnicate'",
        "hello bot": "I answer commands",
    }
    async with start_bot():
        for text, needle in expected.items():
            (reply,) = await standin.reply_to(text)
            assert needle in reply.params["text"], (text, reply.params["text"])
    assert not standin.sent(method="sendPhoto")


async def test_subscribe_settings_unsubscribe(standin, start_bot, db_path, clock):
    standin.chat_admins[-500] = {USER_ID}  # a group's subscription is for its admins
    async with start_bot():
        (subscribed,) = await standin.reply_to("/subscribe daily 07:30 Europe/Moscow")
        (settings,) = await standin.reply_to("/settings")
        (group,) = await standin.reply_to("/subscribe hourly", chat_id=-500, user_id=USER_ID,
                                          chat_type="group")
        (stopped,) = await standin.reply_to("/unsubscribe")
        (again,) = await standin.reply_to("/unsubscribe")
    assert "daily digest at 07:30 (Europe/Moscow)" in subscribed.params["text"]
    assert "daily digest at 07:30 (Europe/Moscow)" in settings.params["text"]
    assert "hourly digest" in group.params["text"]
    assert stopped.params["text"].startswith("Unsubscribed")
    assert again.params["text"].startswith("This chat has no subscription")
    db = open_db(db_path)
    private = get_subscriber(db, USER_ID)
    assert private is not None
    assert not private.active
    assert private.inactive_reason == "unsubscribed"
    assert private.timezone == "Europe/Moscow"
    assert private.updated_at == clock.now
    assert get_subscriber(db, -500).chat_type == "group"


def _recent_posts(clock):
    now = clock.now
    posts = [{"feed": "rybar_test", "title": "Rybar <b>& co", "at": now - timedelta(hours=2),
              "text": HOSTILE, "themes": {"mod_criticism": 0.93}, "targets": ["mod"]},
             {"feed": "news_test", "role": "news", "at": now - timedelta(hours=3),
              "text": "Сводка & новости", "stance": "neutral", "themes": {}}]
    posts += [{"feed": "rybar_test", "at": now - timedelta(days=day), "stance": "supportive",
               "text": f"Обычный пост {day}", "themes": {"mod_criticism": 0.9 if day == 3 else 0.1}}
              for day in range(1, 8)]
    return posts


async def test_summary_channel_themes_feeds_escape_hostile_text(standin, start_bot, seed, db_path,
                                                               clock):
    seed(db_path, _recent_posts(clock))
    async with start_bot():
        summary = await standin.reply_to("/summary 6h")
        sliced = await standin.reply_to("/summary 24h rybar_test mod_criticism")
        channel = await standin.reply_to("/channel @rybar_test 7d")
        (themes,) = await standin.reply_to("/themes")
        (feeds,) = await standin.reply_to("/feeds")
    text = summary[0].params["text"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Минобороны &amp; Шойгу &lt;b&gt;врут" in text
    assert "Rybar &lt;b&gt;&amp; co" in text
    assert "<script>" not in text
    assert "<b>2</b> posts: 1 blogger, 1 news" in text
    assert "channel <b>rybar_test</b>, theme <b>Against the Defence Ministry</b>" in \
        sliced[0].params["text"]
    assert "<b>8</b> posts: 8 blogger" in channel[0].params["text"]
    assert "Against the Defence Ministry</b> (<code>mod_criticism</code>) 50% · 2.3×" in \
        themes.params["text"]
    assert "<b>rybar_test</b> telegram/blogger: 1" in feeds.params["text"]


async def test_trend_sends_a_png_with_caption(standin, start_bot, seed, db_path, clock):
    seed(db_path, _recent_posts(clock))
    async with start_bot():
        (photo,) = await standin.reply_to("/trend mod_criticism 7d", method="sendPhoto")
    png = photo.files["photo"]
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 5_000
    caption = photo.params["caption"]
    assert caption.startswith("<b>Against the Defence Ministry</b>: daily share")
    assert "2026-11-24: bloggers 100% (1/1)" in caption


async def test_a_failing_handler_is_logged_and_answered(standin, start_bot, seed, db_path, clock,
                                                       caplog):
    seed(db_path, _recent_posts(clock))
    db = open_db(db_path)
    db.execute("UPDATE scores SET themes = 'not json'")
    db.conn.commit()
    async with start_bot():
        (reply,) = await standin.reply_to("/themes")
    assert reply.params["text"].startswith("Sorry, that failed on our side")
    assert "handling an update failed" in caplog.text
    assert "malformed JSON" in caplog.text
