"""/graph and the spreading subscription, through the real PTB Application and the stand-in.

/graph sends a PNG with a caption within Telegram's 1,024; a spreading subscriber hears of a
critical post once when two other channels have picked it up, never again for that post,
across restarts, and at most one spreading alert per cooldown.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from amplification.edge_extraction import extract_edges
from bot.app import build_application
from bot.delivery import deliver_due
from bot.run import running_bot
from config import Settings, load_settings
from store.db import open_db
from store.items import save_items
from store.models import Item
from store.subscribers import subscribe

CHAT = 8
TOP = datetime(2026, 11, 25, 9, 0, 5, tzinfo=UTC)
TEXT = "Генштаб опять ничего не объясняет. Люди гибнут из-за решений в кабинетах в Москве."


def _seed_spread(db_path: Path, seed, origin: str, post_id: int, hours_before: float,  # type: ignore[no-untyped-def]
                 forwarders: tuple[str, str] = ("fwd_a", "fwd_b"), text: str = TEXT) -> None:
    """A critical post by ``origin``, forwarded by two other channels within the hour."""
    at = TOP - timedelta(hours=hours_before)
    seed(db_path, [{"feed": name, "at": at - timedelta(days=3), "text": f"<{name}> сводка",
                    "stance": "neutral"} for name in (origin, *forwarders)])
    db = open_db(db_path)
    feeds = dict(db.execute("SELECT name, id FROM feeds").fetchall())
    save_items(db, feeds[origin], [Item(text=text, channel=origin, post_id=post_id,
                                        url=f"https://t.me/{origin}/{post_id}", published_at=at)])
    item_id = db.execute("SELECT id FROM items WHERE key = ?",
                         [f"tg:{origin}/{post_id}"]).fetchone()[0]
    db.execute("INSERT INTO scores VALUES (?, 'test-model', 'critical', 0.05, 0.9, 0.03, 0.02, "
               "'{}', '[\"gerasimov\"]', NULL, 'ru', ?, '[]')", [item_id, at.isoformat()])
    db.conn.commit()
    for offset, name in enumerate(forwarders, start=1):
        save_items(db, feeds[name], [Item(
            text=text, channel=name, post_id=post_id + offset, url=f"https://t.me/{name}/1",
            published_at=at + timedelta(minutes=10 * offset), forwarded_from=origin,
            forwarded_url=f"https://t.me/{origin}/{post_id}")])
    extract_edges(db, load_settings())


def _alerts(standin) -> list[str]:  # type: ignore[no-untyped-def]
    return [text for text in standin.texts(CHAT) if text.startswith("📣 <b>Spreading")]


async def _tick(bot_settings: Settings, db_path: Path, taxonomy, clock, moment: datetime  # type: ignore[no-untyped-def]
                ) -> None:
    clock.now = moment
    application = build_application(bot_settings, db_path, taxonomy, clock=clock)
    async with running_bot(application, bot_settings, poll_timeout=0.5):
        await deliver_due(application.bot_data["env"], application.bot, moment)


async def test_graph_sends_a_png_with_a_short_caption(standin, start_bot, db_path, seed, clock):  # type: ignore[no-untyped-def]
    _seed_spread(db_path, seed, "origin", 50, 2)
    clock.now = TOP
    async with start_bot():
        (photo,) = await standin.reply_to("/graph 7d forward,attack", method="sendPhoto")
        (unknown,) = await standin.reply_to("/graph retweet")
    assert photo.files["photo"].startswith(b"\x89PNG")
    caption = photo.params["caption"]
    assert len(caption) <= 1024
    assert "fwd_a → origin forward ×1" in caption
    assert "unknown edge kind" in unknown.params["text"].lower()


async def test_a_spreading_post_is_alerted_once_across_restarts_with_a_cooldown(
        standin, bot_settings, db_path, taxonomy, seed, clock):  # type: ignore[no-untyped-def]
    _seed_spread(db_path, seed, "origin", 50, 3)
    subscribe(open_db(db_path), CHAT, "spreading", now=TOP - timedelta(days=1))
    for hour in (0, 1):  # a restart for each hourly tick
        await _tick(bot_settings, db_path, taxonomy, clock, TOP + timedelta(hours=hour))
    (alert,) = _alerts(standin)
    assert "origin" in alert
    assert "picked up by 2 channels" in alert
    # another post crosses within the cooldown
    _seed_spread(db_path, seed, "second", 70, -1.5, forwarders=("fwd_c", "fwd_d"),
                 text="Снарядов нет, связи нет, а в министерстве отчитываются о поставках.")
    cooled = bot_settings.model_copy(update={"spread_cooldown_hours": 6.0})
    await _tick(cooled, db_path, taxonomy, clock, TOP + timedelta(hours=2))
    assert len(_alerts(standin)) == 1  # held back by the cooldown, not lost
    await _tick(cooled, db_path, taxonomy, clock, TOP + timedelta(hours=8))
    alerts = _alerts(standin)
    assert len(alerts) == 2
    assert "second" in alerts[1]
