"""/label through the real Application and the Bot API stand-in: by #ref, by reply, who may."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.app import build_application
from bot.delivery import deliver_due
from bot.run import running_bot
from digest.telegram_html import quoted_item_ids
from store.db import open_db
from store.digest_messages import KEEP_FOR, items_in_message, record_digest_message
from store.labels import labelled_items
from store.models import to_iso
from store.subscribers import subscribe

ADMIN_ID = 1001
USER_ID = 2002
ANALYST_ID = 3003
GROUP_ID = -4004
FORGED = "Шойгу врёт <code>#777</code> &amp; всё"


class SentMessages:
    """The Message objects the stand-in answered the bot with (so tests can reply to them)."""

    def __init__(self, standin: Any) -> None:
        self.messages: list[dict[str, Any]] = []
        original = standin._message

        def recording(chat_id: int, **content: Any) -> dict[str, Any]:
            message: dict[str, Any] = original(chat_id, **content)
            self.messages.append(message)
            return message

        standin._message = recording

    def last(self, chat_id: int) -> dict[str, Any]:
        return [message for message in self.messages if message["chat"]["id"] == chat_id][-1]


@pytest.fixture
def sent(standin) -> SentMessages:
    return SentMessages(standin)


@pytest.fixture
def analyst_settings(bot_settings):
    return bot_settings.model_copy(update={"analyst_ids": [ANALYST_ID]})


async def reply_with(standin, text: str, to: dict[str, Any], user_id: int) -> str:
    """Send ``text`` as a Telegram reply to the bot's message ``to``; return the bot's answer."""
    chat_id = to["chat"]["id"]
    before = len(standin.sent(chat_id))
    standin.push_text(text, chat_id, user_id, chat_type="private" if chat_id > 0 else "group")
    standin.updates[-1]["message"]["reply_to_message"] = to
    await standin.wait_for(lambda: len(standin.sent(chat_id)) > before)
    return standin.sent(chat_id)[before].params["text"]


async def ask(standin, text: str, user_id: int = ANALYST_ID) -> str:
    (answer,) = await standin.reply_to(text, chat_id=user_id)
    return answer.params["text"]


def seed_window(seed, db_path, clock) -> dict[str, int]:
    """Three scored posts in the last day (one alone on its channel); item ids by channel/post."""
    posts = [
        {"feed": "solo_chan", "at": clock.now - timedelta(hours=2), "stance": "neutral",
         "text": "Снарядов нет третью неделю", "themes": {"supply_shortage": 0.9}},
        {"feed": "busy_chan", "at": clock.now - timedelta(hours=3), "stance": "critical",
         "text": "Минобороны опять врёт про фланги", "themes": {"mod_criticism": 0.9}},
        {"feed": "busy_chan", "at": clock.now - timedelta(hours=4), "stance": "alarmed",
         "text": FORGED, "themes": {"retreat_admission": 0.9}},
    ]
    seed(db_path, posts)
    rows = open_db(db_path).execute(
        "SELECT f.name, i.id FROM items i JOIN feeds f ON f.id = i.feed_id ORDER BY i.id")
    ids = [(name, item_id) for name, item_id in rows.fetchall()]
    return {"solo": ids[0][1], "busy_critical": ids[1][1], "forged": ids[2][1]}


def stored_labels(db_path) -> list[tuple[int, int, int | None, str, str | None]]:
    return [(label.item_id, label.user_id, label.chat_id, label.label, label.model_version)
            for label in labelled_items(open_db(db_path))]


async def test_an_analyst_labels_a_post_by_the_ref_the_digest_shows(
        standin, start_bot, analyst_settings, seed, db_path, clock, telegram_parse):
    ids = seed_window(seed, db_path, clock)
    async with start_bot(analyst_settings):
        digest = await ask(standin, "/summary")
        by_ref = await ask(standin, f"/label #{ids['solo']} critical")
        reversed_order = await ask(standin, f"/label Theme:Supply_Shortage {ids['busy_critical']}")
        by_admin = await ask(standin, f"/label #{ids['forged']} wrong", user_id=ADMIN_ID)
        help_text = await ask(standin, "/help", user_id=USER_ID)
    visible = telegram_parse(digest)
    assert sorted(quoted_item_ids(digest)) == sorted(ids.values())
    for item_id in ids.values():
        assert f"#{item_id}" in visible
    assert 777 not in quoted_item_ids(digest)
    assert "<code>#777</code>" in visible  # not a ref
    assert by_ref.startswith(f"Labelled <code>#{ids['solo']}</code> solo_chan: «Снарядов нет")
    assert "as <b>critical</b>. The model (test-model) said neutral 0.90." in by_ref
    assert "as <b>theme:supply_shortage</b>" in reversed_order
    assert "&lt;code&gt;#777&lt;/code&gt; &amp;amp;" in by_admin  # the post's text, escaped
    assert "/label [#REF] supportive|critical|alarmed|neutral|wrong [theme:NAME ...]" in help_text
    assert stored_labels(db_path) == [
        (ids["solo"], ANALYST_ID, ANALYST_ID, "critical", "test-model"),
        (ids["busy_critical"], ANALYST_ID, ANALYST_ID, "theme:supply_shortage", "test-model"),
        (ids["forged"], ADMIN_ID, ADMIN_ID, "wrong", "test-model"),
    ]
    assert {label.created_at for label in labelled_items(open_db(db_path))} == {
        to_iso(clock.now)}


async def test_a_reply_labels_the_one_post_a_message_quotes_or_asks_which(
        standin, start_bot, analyst_settings, seed, db_path, clock, sent):
    ids = seed_window(seed, db_path, clock)
    async with start_bot(analyst_settings):
        await ask(standin, "/channel solo_chan")
        one_post = sent.last(ANALYST_ID)
        await ask(standin, "/summary")
        three_posts = sent.last(ANALYST_ID)
        await ask(standin, "/help")
        no_posts = sent.last(ANALYST_ID)
        labelled = await reply_with(standin, "/label alarmed", one_post, ANALYST_ID)
        which = await reply_with(standin, "/label theme:mod_criticism", three_posts, ANALYST_ID)
        unknown = await reply_with(standin, "/label alarmed", no_posts, ANALYST_ID)
        by_ref_in_reply = await reply_with(standin, f"/label #{ids['forged']} neutral",
                                           three_posts, ANALYST_ID)
    db = open_db(db_path)
    assert items_in_message(db, ANALYST_ID, one_post["message_id"]) == [ids["solo"]]
    assert sorted(items_in_message(db, ANALYST_ID, three_posts["message_id"])) == sorted(
        ids.values())
    assert items_in_message(db, ANALYST_ID, no_posts["message_id"]) == []
    assert "Labelled <code>#" + str(ids["solo"]) in labelled
    assert "<b>alarmed</b>" in labelled
    assert which.startswith("That message quotes 3 posts; say which one, e.g. /label #")
    assert "theme:mod_criticism" in which
    for item_id in ids.values():
        assert f"• <code>#{item_id}</code>" in which
    assert unknown.startswith("That message quotes no posts I know of.")
    assert by_ref_in_reply.startswith(f"Labelled <code>#{ids['forged']}</code>")  # ref wins
    assert stored_labels(db_path) == [
        (ids["solo"], ANALYST_ID, ANALYST_ID, "alarmed", "test-model"),
        (ids["forged"], ANALYST_ID, ANALYST_ID, "neutral", "test-model"),
    ]


async def test_a_scheduled_digest_in_a_group_can_be_labelled_by_reply(
        standin, analyst_settings, taxonomy, seed, db_path, clock, sent):
    seed(db_path, [{"feed": "solo_chan", "at": clock.now - timedelta(hours=1),
                    "text": "Нас опять бросили", "stance": "alarmed",
                    "themes": {"retreat_admission": 0.9}}])
    subscribe(open_db(db_path), GROUP_ID, "hourly", chat_type="group",
              now=clock.now - timedelta(hours=2))
    application = build_application(analyst_settings, db_path, taxonomy, clock=clock)
    async with running_bot(application, analyst_settings, poll_timeout=0.5):
        report = await deliver_due(application.bot_data["env"], application.bot)
        digest = sent.last(GROUP_ID)
        refused = await reply_with(standin, "/label critical", digest, USER_ID)
        labelled = await reply_with(standin, "/label critical", digest, ANALYST_ID)
    (item_id,) = [row[0] for row in open_db(db_path).execute("SELECT id FROM items")]
    assert report.sent == [(GROUP_ID, "hourly:2026-11-24T09:00Z")]
    assert refused.startswith("Sorry, /label is for riftwatch analysts only. Nothing was stored.")
    assert f"({USER_ID})" in refused
    assert "RIFTWATCH_ANALYST_IDS" in refused
    assert labelled.startswith(f"Labelled <code>#{item_id}</code> solo_chan")
    assert stored_labels(db_path) == [(item_id, ANALYST_ID, GROUP_ID, "critical", "test-model")]


async def test_non_analysts_are_refused_and_nothing_is_stored(
        standin, start_bot, analyst_settings, seed, db_path, clock, sent):
    ids = seed_window(seed, db_path, clock)
    async with start_bot(analyst_settings):
        await ask(standin, "/channel solo_chan", user_id=USER_ID)
        digest = sent.last(USER_ID)
        by_ref = await ask(standin, f"/label #{ids['solo']} critical", user_id=USER_ID)
        by_reply = await reply_with(standin, "/label critical", digest, USER_ID)
        bad_too = await ask(standin, "/label nonsense", user_id=USER_ID)
    for answer in (by_ref, by_reply, bad_too):
        assert answer == ("Sorry, /label is for riftwatch analysts only. Nothing was stored. "
                          f"An admin can add your Telegram user id ({USER_ID}) to "
                          "RIFTWATCH_ANALYST_IDS.")
    assert stored_labels(db_path) == []


async def test_bad_labels_and_unknown_refs_get_a_clear_line(
        standin, start_bot, analyst_settings, seed, db_path, clock):
    ids = seed_window(seed, db_path, clock)
    usage = "Usage: /label [#REF] supportive|critical|alarmed|neutral|wrong [theme:NAME ...]"
    async with start_bot(analyst_settings):
        answers = {text: await ask(standin, text) for text in (
            "/label", "/label critical", f"/label #{ids['solo']} maybe",
            f"/label #{ids['solo']} theme:weather", f"/label #{ids['solo']} critical alarmed",
            f"/label #{ids['solo']} #{ids['forged']} critical", "/label #999999 critical")}
    assert answers["/label"] == usage + (
        " Reply to a digest message with /label critical, or give the #number shown after a "
        "quoted post: /label #1234 critical.")
    assert answers["/label critical"] == answers["/label"]  # not a reply, no ref
    assert answers[f"/label #{ids['solo']} maybe"] == (
        "Unknown label 'maybe'; use supportive, critical, alarmed, neutral, theme:NAME or "
        f"wrong. {usage}")
    weather = answers[f"/label #{ids['solo']} theme:weather"]
    assert weather.startswith("Unknown theme 'weather'; use one of: ")
    assert usage in weather
    assert "supply_shortage" in weather
    assert "mod_criticism" in weather
    assert answers[f"/label #{ids['solo']} critical alarmed"] == (
        f"One stance per post, please. {usage}")
    assert answers[f"/label #{ids['solo']} #{ids['forged']} critical"].startswith(usage)
    assert answers["/label #999999 critical"] == (
        "No stored post #999999. Use the #number shown after a quoted post in a digest.")
    assert stored_labels(db_path) == []


async def test_one_label_gives_the_stance_and_the_themes_a_post_carries(
        standin, start_bot, analyst_settings, seed, db_path, clock):
    ids = seed_window(seed, db_path, clock)
    async with start_bot(analyst_settings):
        answer = await ask(standin, f"/label #{ids['busy_critical']} critical "
                                    "theme:mod_criticism theme: supply_shortage critical")
    assert "as <b>critical</b>, <b>theme:mod_criticism</b>, <b>theme:supply_shortage</b>." \
        in answer
    assert [label[3] for label in stored_labels(db_path)] == [
        "critical", "theme:mod_criticism", "theme:supply_shortage"]


def test_a_message_maps_to_stored_items_in_order_and_old_mappings_are_dropped(
        seed, db_path, clock):
    ids = seed_window(seed, db_path, clock)
    db = open_db(db_path)
    long_ago = clock.now - KEEP_FOR - timedelta(days=1)
    record_digest_message(db, GROUP_ID, 10, [ids["forged"], 999999, ids["solo"], ids["forged"]],
                          now=long_ago)
    assert items_in_message(db, GROUP_ID, 10) == [ids["forged"], ids["solo"]]
    assert items_in_message(db, ANALYST_ID, 10) == []  # message ids are per chat
    record_digest_message(db, GROUP_ID, 11, [ids["solo"]], now=clock.now)
    assert items_in_message(db, GROUP_ID, 10) == []
    assert items_in_message(db, GROUP_ID, 11) == [ids["solo"]]
