"""kill -9 in the middle of a fetch cycle, of scoring and of a digest broadcast; two processes.

Each test runs the real thing in a child process (``python -m riftwatch …`` or a short driver),
kills it with SIGKILL at a chosen or random moment, starts it again, and checks the store:
nothing already stored is lost or changed, nothing is duplicated, work resumes where it
stopped, the file passes ``PRAGMA integrity_check``.
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from classifiers.scoring import score_pending
from store.db import open_db
from store.items import save_items
from store.models import Item, utc_now
from store.subscribers import subscribe

RSS_FEEDS = 24
TME_FEEDS = 8
POSTS = 40


def _snapshot(db_path: Path) -> dict[str, tuple[int, str]]:
    db = open_db(db_path)
    try:
        return {key: (item_id, text) for item_id, key, text in
                db.execute("SELECT id, key, text FROM items")}
    finally:
        db.conn.close()


def _count(db_path: Path, table: str) -> int:
    db = open_db(db_path)
    try:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        db.conn.close()


def _killed(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL


def _serve_corpus(kit, feed_server, stall: threading.Event) -> tuple[list, set[str]]:
    """Register RSS and t.me feeds (and one that stalls until ``stall`` is set)."""
    feeds, expected = [], set()
    text = "Минобороны снова молчит о флангах. " * 30
    for number in range(RSS_FEEDS):
        name = f"news{number:02d}"
        posts = [(f"{name}-{post}", f"{post} {text}") for post in range(POSTS)]
        feeds.append((name, "rss", feed_server.add(f"/{name}.xml", kit.rss_feed(posts))))
        expected |= {f"guid:{guid}" for guid, _ in posts}
    for number in range(TME_FEEDS):
        name = f"chan{number:02d}"
        posts = [(post, f"{post} {text}") for post in range(1, POSTS + 1)]
        feeds.append((name, "telegram", feed_server.add(f"/s/{name}", kit.tme_page(name, posts),
                                                        content_type="text/html")))
        expected |= {f"tg:{name}/{post}" for post, _ in posts}

    def stalled(request):  # answers only once the test allows it
        stall.wait(30)
        return feed_server.Reply(kit.rss_feed([("stalled-1", "late")]), 200,
                                 {"Content-Type": "application/rss+xml"})

    feeds.append(("news10_stall", "rss", feed_server.add_handler("/stall.xml", stalled)))
    return feeds, expected | {"guid:stalled-1"}


def test_kill_9_during_fetch_cycles_loses_and_duplicates_nothing(
        kit, feed_server, tmp_path, db_path) -> None:
    stall = threading.Event()
    feeds, expected = _serve_corpus(kit, feed_server, stall)
    env = kit.child_env(db_path, RIFTWATCH_FEEDS_FILE=str(
        kit.write_feeds_file(tmp_path / "feeds.toml", feeds)))
    fetch = [kit.PYTHON, "-m", "riftwatch", "fetch", "--no-score"]
    rng = random.Random()
    before: dict[str, tuple[int, str]] = {}
    for round_number in range(3):
        hits = len(feed_server.hits("/stall.xml"))
        process = kit.spawn(fetch, env, tmp_path)
        if round_number == 0:  # the first kill: while one feed hangs mid-cycle
            kit.wait_until(lambda hits=hits: len(feed_server.hits("/stall.xml")) > hits, 20,
                           "the stall")
        else:  # later kills: at a random moment, likely inside a write
            kit.wait_until(lambda child=process, logged=round_number: child.poll() is not None
                           or _count(db_path, "fetch_log") > logged, 20, "writes to start")
            time.sleep(rng.uniform(0.0, 0.4))
        _killed(process)
        after = _snapshot(db_path)
        assert all(after.get(key) == value for key, value in before.items()), "lost or changed"
        assert kit.integrity(db_path) == "ok"
        before = after
    assert 0 < len(before) < len(expected)

    stall.set()
    done = subprocess.run(fetch, env=env, cwd=tmp_path, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    final = _snapshot(db_path)
    assert set(final) == expected
    assert len(final) == len(expected)
    assert all(final[key] == value for key, value in before.items())
    assert kit.integrity(db_path) == "ok"


@pytest.mark.slow
def test_kill_9_during_scoring_resumes_where_it_stopped(kit, tmp_path, db_path, db,
                                                        user_cache_classifier) -> None:
    feed = kit.add_test_feed(db, "news", "http://127.0.0.1:9/feed.xml")
    texts = ["Минобороны опять врёт про фланги, Шойгу пора в отставку.",
             "Наши герои продвигаются, противник отступает.",
             "Снарядов нет третью неделю, позиции оставлены."]
    save_items(db, feed.id, [Item(text=f"{number}: {texts[number % 3]}", guid=f"g{number}",
                                  published_at=utc_now()) for number in range(96)])
    env = kit.child_env(db_path, RIFTWATCH_SCORE_BATCH_POSTS="4",
                        RIFTWATCH_FEEDS_FILE=str(kit.write_feeds_file(tmp_path / "f.toml", [])))
    process = kit.spawn([kit.PYTHON, "-m", "riftwatch", "score-pending"], env, tmp_path)
    kit.wait_until(lambda: _count(db_path, "scores") >= 8, 120, "scoring to commit batches")
    _killed(process)

    query = "SELECT item_id, model_version, stance, scored_at FROM scores"
    scored = {row[0]: row[1:] for row in db.execute(query)}
    assert 0 < len(scored) < 96, "a batch was half written"
    assert len(scored) % 4 == 0, "a batch was half written"
    assert {row[0] for row in scored.values()} == {user_cache_classifier.model_version}
    resumed = score_pending(db, user_cache_classifier, batch_size=4)
    assert resumed == 96 - len(scored)  # picked up where the killed process stopped
    rows = db.execute(query).fetchall()
    assert len(rows) == 96
    assert len({row[0] for row in rows}) == 96
    assert all(scored[row[0]] == row[1:] for row in rows if row[0] in scored)  # not re-scored
    assert kit.integrity(db_path) == "ok"


BROADCAST_DRIVER = """
import asyncio, sys
from datetime import datetime
from config import load_settings, load_themes
from bot.app import build_application
from bot.delivery import deliver_due
from bot.run import running_bot

settings = load_settings()
due = datetime.fromisoformat(sys.argv[1])
application = build_application(settings, settings.db_path, load_themes(settings.themes_file),
                                clock=lambda: due)

async def broadcast():
    async with running_bot(application, settings, poll_timeout=0.5):
        report = await deliver_due(application.bot_data["env"], application.bot, due)
        print("sent", sorted(chat for chat, _ in report.sent), flush=True)

asyncio.run(broadcast())
"""
DUE = datetime(2026, 11, 25, 8, 0, 20, tzinfo=UTC)


async def test_kill_9_during_a_broadcast_never_sends_a_digest_twice(
        kit, tmp_path, db_path) -> None:
    standin_module = kit.bot_standin()
    standin = standin_module.BotApiStandIn()
    await standin.start()
    try:
        await _broadcast_killed_and_resumed(kit, standin_module, standin, tmp_path, db_path)
    finally:
        await standin.stop()


async def _run_driver(kit, env: dict[str, str], cwd: Path,
                      due: datetime) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        kit.PYTHON, "-c", BROADCAST_DRIVER, due.isoformat(), env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def _broadcast_killed_and_resumed(kit, standin_module, standin, tmp_path,
                                        db_path) -> None:
    posts = [{"feed": "chan_000", "at": DUE - timedelta(hours=2, minutes=n),
              "text": f"{n} Минобороны <b>врёт</b> & молчит", "themes": {"mod_criticism": 0.9},
              "targets": ["ministry"]} for n in range(5)]
    standin_module.seed_posts(db_path, posts)
    db = open_db(db_path)
    for chat in (1, 2, 3):
        subscribe(db, chat, "daily", daily_time="08:00", now=DUE - timedelta(days=1))
    env = kit.child_env(db_path, RIFTWATCH_TELEGRAM_TOKEN=standin_module.TOKEN,
                        RIFTWATCH_TELEGRAM_BASE_URL=standin.base_url,
                        RIFTWATCH_TELEGRAM_BASE_FILE_URL=standin.base_file_url,
                        RIFTWATCH_FEEDS_FILE=str(kit.write_feeds_file(tmp_path / "f.toml", [])))
    standin.held_chats[2] = asyncio.Event()  # chat 2's send hangs in flight

    first = await _run_driver(kit, env, tmp_path, DUE)
    await standin.wait_for(lambda: len(standin.sent(2)) == 1, timeout=60)
    first.kill()  # SIGKILL with chat 2's message in flight and chat 3 not yet reached
    await first.wait()
    assert first.returncode == -signal.SIGKILL
    standin.held_chats[2].set()
    assert [len(standin.sent(chat)) for chat in (1, 2, 3)] == [1, 1, 0]

    second = await _run_driver(kit, env, tmp_path, DUE + timedelta(minutes=1))
    out, err = await asyncio.wait_for(second.communicate(), 60)
    assert second.returncode == 0, err.decode()
    assert "sent [3]" in out.decode()
    assert [len(standin.sent(chat)) for chat in (1, 2, 3)] == [1, 1, 1]  # nobody got two
    keys = db.execute("SELECT chat_id, window_key FROM digests_sent ORDER BY chat_id").fetchall()
    assert keys == [(chat, "daily:2026-11-25T08:00Z") for chat in (1, 2, 3)]
    assert kit.integrity(db_path) == "ok"


WRITER_DRIVER = """
import sys, time
from config import load_settings
from monitors.fetch import fetch_all
from classifiers.scoring import score_pending
from store.db import open_db
from store.feeds import sync_feeds
from config import load_feeds

settings = load_settings()
sync_feeds(open_db(settings.db_path), load_feeds(settings.feeds_file))
end, cycles = time.monotonic() + float(sys.argv[1]), 0
while time.monotonic() < end:
    fetch_all(settings.db_path, settings)
    cycles += 1
print("cycles", cycles, flush=True)
"""


def test_a_writer_process_and_cli_processes_share_the_store_safely(
        kit, feed_server, tmp_path, db_path) -> None:
    counter = iter(range(10**9))

    def fresh_posts(request):  # every fetch publishes 25 new posts
        start = next(counter) * 25
        posts = [(f"p{n}", f"post {n} " + "Шойгу " * 50) for n in range(start, start + 25)]
        return feed_server.Reply(kit.rss_feed(posts), 200, {"Content-Type": "application/xml"})

    feeds = [(f"busy{n}", "rss", feed_server.add_handler(f"/busy{n}.xml", fresh_posts))
             for n in range(4)]
    env = kit.child_env(db_path, RIFTWATCH_FEEDS_FILE=str(
        kit.write_feeds_file(tmp_path / "feeds.toml", feeds)))
    writer = subprocess.Popen([kit.PYTHON, "-c", WRITER_DRIVER, "6"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cli = [kit.PYTHON, "-m", "riftwatch"]
    extra = feed_server.add_handler("/extra.xml", fresh_posts)  # busy0's address is busy0's
    commands = [["feeds", "add", extra, "--name", "extra", "--role",
                 "news"], ["digest", "--since", "1d", "--format", "json"],
                ["feeds", "remove", "extra"], ["feeds", "list"]]
    runs = 0
    while writer.poll() is None:
        for command in commands:
            done = subprocess.run(cli + command, env=env, cwd=tmp_path, capture_output=True,
                                  text=True, timeout=60)
            assert done.returncode == 0, (command, done.stderr)
            runs += 1
    out, err = writer.communicate(timeout=30)
    assert writer.returncode == 0, err
    assert "Traceback" not in err, err
    assert int(out.split()[-1]) >= 3
    assert runs >= 4
    db = open_db(db_path)
    assert db.execute("SELECT count(*) FROM fetch_log WHERE status = 'error'").fetchone()[0] == 0
    items, keys = db.execute("SELECT count(*), count(DISTINCT key) FROM items").fetchone()
    assert items >= 100
    assert keys == items, "an item was stored twice"
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert kit.integrity(db_path) == "ok"


@pytest.mark.slow
def test_kill_9_between_an_edit_and_its_rescoring_loses_and_doubles_nothing(
        kit, feed_server, tmp_path, db_path, db, user_cache_classifier) -> None:
    posts = [(post, f"{post}: Наши бойцы заняли новые позиции, враг отходит.")
             for post in range(1, POSTS + 1)]
    edited = {post for post, _ in posts if post % 4 == 0}
    feeds = [(f"chan{n}", "telegram", feed_server.add(f"/s/chan{n}", kit.tme_page(
        f"chan{n}", posts), content_type="text/html")) for n in range(TME_FEEDS)]
    env = kit.child_env(db_path, RIFTWATCH_SCORE_BATCH_POSTS="4", RIFTWATCH_FEEDS_FILE=str(
        kit.write_feeds_file(tmp_path / "feeds.toml", feeds)))
    fetch = [kit.PYTHON, "-m", "riftwatch", "fetch"]
    done = subprocess.run([*fetch, "--no-score"], env=env, cwd=tmp_path, capture_output=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    score_pending(db, user_cache_classifier, batch_size=16)
    query = "SELECT item_id, model_version, stance, scored_at FROM scores"
    first_scores = {row[0]: row[1:] for row in db.execute(query)}
    assert len(first_scores) == TME_FEEDS * POSTS

    for name, _, _ in feeds:  # the same posts, a quarter of them edited into attacks
        feed_server.add(f"/s/{name}", kit.tme_page(name, [
            (post, f"{post}: Минобороны врёт, Шойгу бросил бойцов без снарядов."
             if post in edited else text) for post, text in posts]), content_type="text/html")
    unedited = TME_FEEDS * (POSTS - len(edited))
    process = kit.spawn(fetch, env, tmp_path)  # fetches, then rescores 4 posts a batch
    kit.wait_until(lambda: process.poll() is not None or (
        _count(db_path, "item_versions") == TME_FEEDS * len(edited)
        and _count(db_path, "scores") >= unedited + 4), 120,
        "the edits to be stored and a first rescoring batch committed")
    _killed(process)

    def consistent() -> dict[int, tuple]:
        versions = dict(db.execute("SELECT item_id, count(*) FROM item_versions GROUP BY 1"))
        rows = db.execute("SELECT id, post_id, version, text FROM items").fetchall()
        assert all(version == 1 + versions.get(item_id, 0) for item_id, _, version, _ in rows)
        assert all((version == 2) == ("Шойгу" in text) for _, _, version, text in rows)
        scores = {row[0]: row[1:] for row in db.execute(query)}
        for item_id, post_id, version, _ in rows:
            if post_id not in edited:
                assert scores[item_id] == first_scores[item_id]  # never rescored
            elif version == 2 and item_id in scores:
                assert scores[item_id] != first_scores[item_id]  # a fresh score, of the edit
        return scores

    killed = consistent()
    assert unedited + 4 <= len(killed) < TME_FEEDS * POSTS  # stopped mid-rescoring
    assert kit.integrity(db_path) == "ok"

    done = subprocess.run(fetch, env=env, cwd=tmp_path, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    final = consistent()
    assert len(final) == TME_FEEDS * POSTS
    assert db.execute("SELECT count(*), count(DISTINCT item_id) FROM item_versions"
                      ).fetchone() == (TME_FEEDS * len(edited),) * 2
    assert db.execute("SELECT count(*) FROM scores").fetchone()[0] == TME_FEEDS * POSTS
    assert all(final[item_id] == score for item_id, score in killed.items())  # kept, not redone
    assert kit.integrity(db_path) == "ok"
