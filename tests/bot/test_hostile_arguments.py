"""Hostile command arguments get one short line, never a traceback or a half-stored change.

Issue 13, point 4 (the bot side) and point 6 (echoes): the real bot against the Bot API
stand-in for the reported cases, then ``hypothesis`` driving every command's argument parsing
with random and hostile input through the same command functions the bot calls.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.app import error_line
from bot.commands import COMMANDS, CommandRequest
from bot.env import BotEnv
from config import RiftwatchError, Settings
from config.themes import Taxonomy
from store.db import open_db
from store.subscribers import get_subscriber

ADMIN_ID = 1001
USER_ID = 2002
LONG = "A" * 10_000
SORRY = "Sorry, that failed on our side"


async def test_absurd_window_and_overlong_zone_are_one_line_and_store_nothing(
        standin, start_bot, db_path, caplog):
    async with start_bot():
        (window,) = await standin.reply_to("/summary 99999999999999999999d")
        (zone,) = await standin.reply_to("/subscribe daily 08:00 " + "A" * 256)
        (dots,) = await standin.reply_to("/subscribe daily 08:00 ../../etc/passwd")
    assert "too long a window" in window.params["text"]
    assert zone.params["text"].startswith("Unknown time zone 'AAAA")
    assert dots.params["text"].startswith("Unknown time zone '../../etc/passwd'")
    for reply in (window, zone, dots):
        assert "\n" not in reply.params["text"]
        assert SORRY not in reply.params["text"]
    assert "handling an update failed" not in caplog.text
    assert get_subscriber(open_db(db_path), USER_ID) is None


@pytest.mark.parametrize("command", [
    "/summary {}", "/channel {}", "/trend {}", "/trend mod_criticism {}1d", "/subscribe {}",
    "/subscribe daily {}", "/subscribe daily 08:00 {}", "/{}", "/addfeed @{}",
    "/addfeed https://example.org/{}", "/pausefeed {}",
])
async def test_a_ten_thousand_character_argument_is_echoed_short(standin, start_bot, command):
    async with start_bot():
        replies = await standin.reply_to(command.format(LONG), chat_id=ADMIN_ID)
        await standin.reply_to("/help", chat_id=ADMIN_ID)  # anything still queued arrives first
    answers = [call for call in standin.sent(ADMIN_ID) if "riftwatch</b> watches" not in
               call.params["text"]]
    assert answers == replies, [call.params["text"][:80] for call in answers]
    (reply,) = replies
    assert len(reply.params["text"]) < 500
    assert SORRY not in reply.params["text"]
    assert "A" * 41 not in reply.params["text"]


# ---------------------------------------------------------------- property-based

WORDS = ["24h", "7d", "0h", "99999999999999999999d", "mod_criticism", "rybar_test", "daily",
         "hourly", "spikes", "08:00", "25:61", "Europe/Berlin", "../../etc", "#1", "#-1",
         "theme:", "theme:mod_criticism", "critical", "@rybar_test", "t.me/s/x",
         "http://127.0.0.1/", "https://example.org/rss", "blogger", "news", "%s", "{}",
         "<b>", "&amp;", "\u202e", "\x00", "A" * 300, "9" * 40 + "m", "-1h", "1e9d"]
ARGUMENT = st.one_of(st.sampled_from(WORDS), st.text(min_size=1, max_size=80).filter(
    lambda text: text.split() == [text]))  # one argument as PTB splits them: no whitespace
ARGS = st.lists(ARGUMENT, max_size=4)
COMMAND_NAMES = [command.name for command in COMMANDS]
TABLES = ("feeds", "subscribers", "labels", "digests_sent", "digest_messages")


@pytest.fixture
def env(bot_settings: Settings, db_path: Path, taxonomy: Taxonomy, clock, seed) -> BotEnv:
    seed(db_path, [{"feed": "rybar_test", "at": clock.now - timedelta(hours=1),
                    "text": "Минобороны врёт", "themes": {"mod_criticism": 0.9},
                    "targets": ["ministry"]}])
    return BotEnv(settings=bot_settings.model_copy(update={"analyst_ids": [USER_ID]}),
                  db_path=db_path, taxonomy=taxonomy, clock=clock)


def _snapshot(db: sqlite_utils.Database) -> dict[str, list[tuple]]:
    return {table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in TABLES}


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.sampled_from(COMMAND_NAMES), args=ARGS, admin=st.booleans(),
       chat_id=st.sampled_from([USER_ID, -500]))
@example(name="summary", args=["99999999999999999999d"], admin=False, chat_id=USER_ID)
@example(name="subscribe", args=["daily", "08:00", "A" * 256], admin=False, chat_id=USER_ID)
@example(name="subscribe", args=["daily", "08:00", "\x00"], admin=False, chat_id=USER_ID)
@example(name="trend", args=["mod_criticism", "99999999999999999999w"], admin=False,
         chat_id=USER_ID)
@example(name="summary", args=[LONG], admin=False, chat_id=USER_ID)
@example(name="addfeed", args=["https://example.org/" + LONG], admin=True, chat_id=USER_ID)
def test_any_arguments_give_a_reply_or_one_short_line_and_a_failure_stores_nothing(
        env: BotEnv, name: str, args: list[str], admin: bool, chat_id: int) -> None:
    command = next(command for command in COMMANDS if command.name == name)
    request = CommandRequest(command=name, args=args, chat_id=chat_id,
                             chat_type="private" if chat_id > 0 else "group",
                             user_id=ADMIN_ID if admin else USER_ID)
    db = env.db()
    before = _snapshot(db)
    try:
        reply = command.run(env, request)
    except RiftwatchError as exc:
        line = error_line(exc)
        assert "\n" not in line, line
        assert len(line) <= 500, line
        assert "A" * 41 not in line, line
        assert _snapshot(db) == before, f"/{name} {args} failed but changed the store"
        return
    assert reply.messages or reply.photo is not None


def test_the_error_line_is_escaped_and_bounded() -> None:
    line = error_line(RiftwatchError("no feed named '<b>" + "x" * 5000 + "'\nsecond line"))
    assert line.startswith("No feed named '&lt;b&gt;xxx")
    assert "\n" not in line
    assert len(line) <= 420

