"""`riftwatch watch add|list|rm|test` through the real CLI entry point: the same rules as /watch,
and what a watch would have matched in the store or in a file."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from config import FeedConfig, Settings
from riftwatch.cli.main import main
from store.db import open_db
from store.feeds import add_feed
from store.items import save_items
from store.models import Item, to_iso, utc_now


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _store_posts(db_path: Path) -> None:
    """Three scored posts of the last hours and one of last month."""
    db = open_db(db_path)
    feed = add_feed(db, FeedConfig(name="rybar", kind="telegram", role="blogger",
                                   channel="rybar")).id
    now = utc_now()
    posts = [("Генералы опять молчат о флангах.", "critical", ["gerasimov"], 1),
             ("Генерала наградили за учения.", "supportive", [], 2),
             ("Обычная сводка без имён.", "neutral", [], 3),
             ("Генерал ушёл в отставку.", "critical", [], 24 * 40)]
    for number, (text, stance, targets, hours) in enumerate(posts, start=1):
        save_items(db, feed, [Item(text=text, channel="rybar", post_id=number,
                                   url=f"https://t.me/rybar/{number}",
                                   published_at=now - timedelta(hours=hours))])
        db.execute("INSERT INTO scores (item_id, model_version, stance, p_supportive, "
                   "p_critical, p_alarmed, p_neutral, themes, targets, evidence, language, "
                   "scored_at) VALUES (?, 'm', ?, 0.25, 0.25, 0.25, 0.25, '{}', ?, ?, 'ru', ?)",
                   [number, stance, json.dumps(targets), text, to_iso(now)])
    db.conn.commit()


def test_add_list_and_remove_a_chats_watches(settings: Settings, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(settings.db_path)
    code, out, _ = _run(capsys, "watch", "add", "--chat", "42", "шойгу -учения", "--db", db)
    assert (code, out.strip()) == (0, "chat 42 watches шойгу -учения as number 1")
    assert _run(capsys, "watch", "add", "--chat", "42", "target:Герасимов stance:critical",
                "--db", db)[0] == 0
    assert _run(capsys, "watch", "add", "--chat", "7", "re:(a+)+$", "--db", db)[0] == 0
    code, out, _ = _run(capsys, "watch", "list", "--db", db)
    assert out.splitlines() == [
        "chat\tN\twatch\tcooldown",
        "7\t1\tre:(a+)+$\tat most one alert per 15 min",
        "42\t1\tшойгу -учения\tat most one alert per 15 min",
        "42\t2\ttarget:gerasimov stance:critical\tat most one alert per 15 min"]
    code, out, _ = _run(capsys, "watch", "rm", "--chat", "42", "1", "--db", db)
    assert (code, out.strip()) == (0, "chat 42 stopped watching шойгу -учения")
    code, _, err = _run(capsys, "watch", "rm", "--chat", "42", "5", "--db", db)
    assert code == 1 and "chat 42 has no watch number 5" in err
    code, _, err = _run(capsys, "watch", "add", "--chat", "42", "re:(?<=x)y", "--db", db)
    assert code == 1
    assert err.startswith("riftwatch: RE2 cannot run the pattern '(?<=x)y'")
    assert len(err.splitlines()) == 1
    assert _run(capsys, "watch", "list", "--chat", "42", "--db", db)[1].count("\n") == 2


def test_test_reports_what_a_watch_would_have_matched_in_the_store(  # type: ignore[no-untyped-def]
        settings: Settings, capsys) -> None:
    _store_posts(settings.db_path)
    db = str(settings.db_path)
    code, out, _ = _run(capsys, "watch", "test", "генерал -учения", "--db", db)
    lines = out.splitlines()
    assert code == 0
    assert lines[-1] == "1 post matched in the store's posts of the last 7d"
    assert "rybar  critical  «Генералы опять молчат о флангах.»  https://t.me/rybar/1" in lines[0]
    out = _run(capsys, "watch", "test", "генерал", "--since", "60d", "--db", db)[1]
    assert out.splitlines()[-1] == "3 posts matched in the store's posts of the last 60d"
    out = _run(capsys, "watch", "test", "target:gerasimov", "--db", db)[1]
    assert out.splitlines()[-1].startswith("1 post matched")
    out = _run(capsys, "watch", "test", "channel:@Rybar stance:neutral", "--db", db)[1]
    assert "Обычная сводка без имён." in out


def test_test_reads_a_file_of_posts(settings: Settings, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    posts = tmp_path / "posts.jsonl"
    rows = [{"text": "Снарядов нет, позиции оставлены.", "channel": "a", "stance": "critical",
             "targets": ["ministry"]},
            {"text": "Снаряды подвезли, всё хорошо.", "channel": "b", "stance": "supportive",
             "targets": []},
            {"text": "a" * 100_000, "channel": "c", "stance": "neutral", "targets": []}]
    posts.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows),
                     encoding="utf-8")
    out = _run(capsys, "watch", "test", "снаряд stance:critical", str(posts))[1]
    assert out.splitlines() == ["-  a  critical  «Снарядов нет, позиции оставлены.»  #1",
                                f"1 post matched in {posts}"]
    out = _run(capsys, "watch", "test", "target:Минобороны", str(posts))[1]
    assert out.splitlines()[-1] == f"1 post matched in {posts}"
    out = _run(capsys, "watch", "test", "re:(a+)+$", str(posts))[1]
    assert out.splitlines()[-1] == f"1 post matched in {posts}"
    assert "  c  neutral  " in out
