"""`riftwatch import telegram-export` on a sample export, deduplicated against the t.me monitor."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from config import FeedConfig, Settings
from monitors.fetch import fetch_feed
from store.feeds import add_feed, get_feed

EXPORT = "telegram_export"


def tme_page(channel: str, post: int, text: str) -> bytes:
    """A t.me/s page in the real markup with one sample post."""
    return (
        '<html><body><section class="tgme_channel_history"><div class="tgme_widget_message_wrap">'
        f'<div class="tgme_widget_message js-widget_message" data-post="{channel}/{post}">'
        f'<div class="tgme_widget_message_text js-message_text">{text}</div>'
        '<span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" '
        f'href="https://t.me/{channel}/{post}"><time datetime="2023-05-09T11:30:00+00:00" '
        'class="time">x</time></a></span></div></div></section></body></html>').encode()


def items(db: sqlite_utils.Database) -> dict[str, dict]:
    return {row["key"]: row for row in db.query("SELECT * FROM items ORDER BY post_id")}


def test_import_flattens_entities_and_skips_service_messages(
    settings: Settings, db_path: Path, byod_data: Path, run_cli
) -> None:
    code, out, err = run_cli("import", "telegram-export", byod_data / EXPORT,
                             "--channel", "@sample_frontline", "--db", db_path)
    assert code == 0, err
    assert "5 posts into feed sample_frontline (new feed, not watched" in out
    assert "5 new, 0 already stored, 2 service or empty messages skipped" in out
    db = sqlite_utils.Database(db_path)
    stored = items(db)
    assert list(stored) == [f"tg:sample_frontline/{n}" for n in (2, 3, 4, 5, 6)]
    entity_post = stored["tg:sample_frontline/3"]
    assert entity_post["text"] == ("SAMPLE POST. The ministry promised shells a month ago, still "
                                   "nothing. Read the open letter and ask @sample_ministry why. "
                                   "#sample")
    assert entity_post["url"] == "https://t.me/sample_frontline/3"
    assert entity_post["edited"] == 1
    assert entity_post["author"] == "Sample Editor"
    assert entity_post["published_at"] == "2023-05-09T11:30:00Z"
    assert stored["tg:sample_frontline/4"]["forwarded_from"] == "Sample Other Channel"
    assert stored["tg:sample_frontline/5"]["media"] == '["photo"]'
    assert stored["tg:sample_frontline/6"]["published_at"] == "2023-05-10T08:15:00Z"
    feed = get_feed(db, "sample_frontline")
    assert (feed.kind, feed.role, feed.channel, feed.enabled) == (
        "telegram", "blogger", "sample_frontline", False)

    code, out, _ = run_cli("import", "telegram-export", byod_data / EXPORT / "result.json",
                           "--channel", "sample_frontline", "--db", db_path)
    assert code == 0
    assert "0 new, 5 already stored" in out
    assert "new feed" not in out
    assert db["items"].count == 5


def test_posts_the_monitor_fetched_are_not_stored_twice(
    settings: Settings, db: sqlite_utils.Database, db_path: Path, byod_data: Path, feed_server,
    run_cli,
) -> None:
    url = feed_server.add("/s/sample_frontline", tme_page("sample_frontline", 3, "As fetched"),
                          content_type="text/html")
    add_feed(db, FeedConfig(name="frontline", kind="telegram", role="blogger", url=url))
    assert fetch_feed(db, get_feed(db, "frontline"), settings).items_new == 1

    code, out, _ = run_cli("import", "telegram-export", byod_data / EXPORT,
                           "--channel", "sample_frontline", "--db", db_path)
    assert code == 0
    assert "4 new, 1 already stored" in out
    stored = items(db)
    assert len(stored) == 5
    fetched = stored["tg:sample_frontline/3"]
    assert fetched["text"] == "As fetched"
    assert fetched["feed_id"] == get_feed(db, "frontline").id


def test_private_export_without_username_gets_export_keys(
    settings: Settings, db_path: Path, byod_data: Path, run_cli
) -> None:
    code, out, _ = run_cli("import", "telegram-export", byod_data / EXPORT, "--db", db_path)
    assert code == 0
    assert "into feed Sample-Frontline-Notes" in out
    db = sqlite_utils.Database(db_path)
    row = db.execute("SELECT key, url FROM items WHERE post_id = 3").fetchone()
    assert row == ("guid:tg-export:1987654321/3", None)


def test_not_an_export_is_one_line(settings: Settings, tmp_path: Path, run_cli) -> None:
    (tmp_path / "x.json").write_text('{"chats": {"list": []}}', encoding="utf-8")
    code, _, err = run_cli("import", "telegram-export", tmp_path / "x.json")
    assert code == 1
    assert "whole-account export" in err
    assert err.count("\n") == 1
    code, _, err = run_cli("import", "telegram-export", tmp_path / "nothing")
    assert code == 1
    assert "no such file" in err


def test_a_bad_feed_name_is_one_line(settings: Settings, byod_data: Path, run_cli) -> None:
    code, _, err = run_cli("import", "telegram-export", byod_data / EXPORT, "--name", "a b")
    assert code == 1
    assert "cannot create feed 'a b'" in err
    assert "pass --name" in err
