"""Hostile channel titles, forward names and targets reach Telegram printable (issue 22, point 7).

The real bot against the Bot API stand-in: the digest, /graph's caption and the spreading
alert carry the names with no control or bidi character (a line break of the bot's own aside).
"""

from __future__ import annotations

import re
from datetime import timedelta

from amplification.edge_extraction import extract_edges
from bot.delivery import deliver_due
from config import load_settings
from store.db import open_db
from store.items import save_items
from store.models import Item
from store.subscribers import subscribe

TITLE = "\x1b]0;pwned\x07\x1b[2J\u202eЛисичанск\x00\r"
TARGET = "Шойгу\x1b[1;31m\u202e\x00"
FORWARDED = "Z\x0bона\x1b[31m\r\u2066СВО\x85\x9b"
UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
TEXT = "Генштаб опять ничего не объясняет. Люди гибнут из-за решений в кабинетах."


def _seed(db_path, seed, clock) -> None:  # type: ignore[no-untyped-def]
    """A critical post by a channel titled TITLE attacking TARGET, forwarded twice, once by a
    channel that also forwards FORWARDED's post."""
    at = clock.now - timedelta(hours=2)
    seed(db_path, [{"feed": "hostile", "title": TITLE, "at": at, "text": TEXT,
                    "targets": [TARGET]},
                   *({"feed": name, "title": TITLE + name, "at": at - timedelta(days=3),
                      "text": "сводка", "stance": "neutral"} for name in ("fwd_a", "fwd_b"))])
    db = open_db(db_path)
    feeds = dict(db.execute("SELECT name, id FROM feeds").fetchall())
    for offset, name in enumerate(("fwd_a", "fwd_b"), start=1):
        save_items(db, feeds[name], [Item(
            text=TEXT, channel=name, post_id=10 + offset,
            published_at=at + timedelta(minutes=offset), forwarded_from="hostile",
            forwarded_url="https://t.me/hostile/1")])
    save_items(db, feeds["fwd_a"], [Item(text="Переслано.", channel="fwd_a", post_id=20,
                                         published_at=at, forwarded_from=FORWARDED)])
    extract_edges(db, load_settings())


def _assert_printable(text: str) -> None:
    found = UNPRINTABLE.findall(text)
    assert not found, f"unprintable characters reached Telegram: {found!r}"


async def test_hostile_names_reach_telegram_printable(  # type: ignore[no-untyped-def]
        standin, start_bot, db_path, seed, clock):
    _seed(db_path, seed, clock)
    subscribe(open_db(db_path), 8, "spreading", now=clock.now - timedelta(days=1))
    async with start_bot() as application:
        summary = await standin.reply_to("/summary 1d")
        (photo,) = await standin.reply_to("/graph 1d", method="sendPhoto")
        await deliver_due(application.bot_data["env"], application.bot, clock.now)
    texts = [call.params["text"] for call in summary] + standin.texts(8)
    assert any("Лисичанск" in text for text in texts)  # titles shown, made printable
    assert any("Шойгу" in text for text in texts)
    assert any(text.startswith("📣 <b>Spreading") for text in standin.texts(8))
    for text in [*texts, photo.params["caption"]]:
        _assert_printable(text)
    assert "Z она" in photo.params["caption"] or "Z она" in "".join(texts)
