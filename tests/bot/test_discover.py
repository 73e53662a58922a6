"""/discover through the real PTB Application against the Bot API stand-in: admins get the
ranked unwatched channels, each with the /addfeed command that watches it (one step: sending
it adds the feed, and the channel leaves the list); anyone else is refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from amplification.edge_extraction import extract_edges
from config import Settings
from store.db import open_db
from store.feeds import list_feeds

ADMIN_ID = 1001
USER_ID = 2002
STANCES = {"tg:topwar_official/71006": "critical", "tg:topwar_official/71007": "critical",
           "tg:oper_goblin/22358": "neutral"}


def _seed(db_path: Path, settings: Settings, forwarding_store: Callable[..., None],
          now: datetime) -> None:
    """Real t.me posts (forwards of five unwatched channels, a t.me link to a sixth) moved
    to the two days before ``now``."""
    db = open_db(db_path)
    forwarding_store(db, now - datetime(2023, 3, 1, 12, 0, tzinfo=UTC), STANCES)
    extract_edges(db, settings)
    db.conn.close()


async def test_discover_offers_addfeed_and_one_step_watches_the_channel(
        standin, start_bot, bot_settings, db_path, clock, forwarding_store) -> None:  # type: ignore[no-untyped-def]
    _seed(db_path, bot_settings, forwarding_store, clock.now)
    async with start_bot():
        (found,) = await standin.reply_to("/discover", chat_id=ADMIN_ID)
        text = found.params["text"]
        commands = re.findall(r"<code>(/addfeed @\w+)</code>", text)
        (added,) = await standin.reply_to(commands[0], chat_id=ADMIN_ID)
        (again,) = await standin.reply_to("/discover 7d", chat_id=ADMIN_ID)
        (short,) = await standin.reply_to("/discover 1h", chat_id=ADMIN_ID)
        (summary,) = await standin.reply_to("/summary 7d", chat_id=ADMIN_ID)
    assert text.startswith("<b>Amplified but not watched</b> in the last 7d (ranked by how "
                           "many watched channels forward, mention or quote each")
    assert ("• <b>@dimsmirnov175</b>: picked up by 2 watched channels (oper_goblin, "
            "topwar_official) in 2 posts, 50% critical\n  <code>/addfeed @dimsmirnov175</code>"
            ) in text
    assert commands == ["/addfeed @dimsmirnov175", "/addfeed @vysokygovorit",
                        "/addfeed @belarus_vpo", "/addfeed @impnavigator", "/addfeed @shalnyak",
                        "/addfeed @yaremshooter"]
    assert added.params["text"].startswith("Added <b>dimsmirnov175</b> (telegram, blogger)")
    assert "dimsmirnov175" in {feed.name for feed in list_feeds(open_db(db_path))}
    assert re.findall(r"<code>(/addfeed @\w+)</code>", again.params["text"]) == commands[1:]
    assert short.params["text"] == ("No unwatched channel was forwarded, mentioned or quoted by "
                                    "a watched one in the last 1h.")
    assert ("<b>Amplified but not watched</b>\n<b>@vysokygovorit</b>: picked up by 1 watched "
            "channel (topwar_official) in 1 post, 100% critical") in summary.params["text"]


async def test_discover_is_for_admins_and_checks_its_window(
        standin, start_bot, bot_settings, db_path, clock, forwarding_store) -> None:  # type: ignore[no-untyped-def]
    _seed(db_path, bot_settings, forwarding_store, clock.now)
    async with start_bot():
        (refused,) = await standin.reply_to("/discover")
        (help_reply,) = await standin.reply_to("/help")
        (admin_help,) = await standin.reply_to("/help", chat_id=ADMIN_ID)
        (too_long,) = await standin.reply_to("/discover 400d", chat_id=ADMIN_ID)
        (usage,) = await standin.reply_to("/discover 7d <b>x</b>", chat_id=ADMIN_ID)
    assert refused.params["text"] == ("Sorry, /discover is for riftwatch admins only. "
                                      "Nothing was changed.")
    assert "dimsmirnov175" not in refused.params["text"]
    assert "/discover [7d]" not in help_reply.params["text"]
    assert "/discover [7d] — channels the watched ones forward" in admin_help.params["text"]
    assert "too long; the longest window is 90d" in too_long.params["text"]
    assert usage.params["text"] == "Usage: /discover [7d]"
