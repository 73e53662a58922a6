"""`riftwatch export` files and `riftwatch browse`'s Datasette (its own test client, no mock)."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import sqlite_utils

from config import FeedConfig, Settings, load_themes
from riftwatch.byod.browse import make_datasette
from riftwatch.byod.columns import ITEM_COLUMNS
from store.feeds import add_feed
from store.items import save_items
from store.models import Item, to_iso, utc_now

THEMES = ("mod_criticism", "supply_shortage")


def seed_store(db: sqlite_utils.Database) -> None:
    """A blogger with 4 posts in the last day (3 against the ministry) and 6 from 2.5 to 7.5
    days ago; one news article now."""
    blogger = add_feed(db, FeedConfig(name="sample_blogger", kind="telegram", role="blogger",
                                      channel="sample_blogger"))
    news = add_feed(db, FeedConfig(name="sample_news", kind="rss", role="news",
                                   url="https://news.example/rss"))
    now = utc_now()
    posts = [Item(text=f"SAMPLE POST {n}", channel="sample_blogger", post_id=n,
                  url=f"https://t.me/sample_blogger/{n}",
                  published_at=now - timedelta(hours=2 if n < 4 else 24 * (n - 2) + 12))
             for n in range(10)]
    save_items(db, blogger.id, posts)
    save_items(db, news.id, [Item(text="SAMPLE NEWS, first line\nsecond line",
                                  url="https://news.example/1", published_at=now)])
    for row in db.query("SELECT id, post_id FROM items WHERE post_id IS NOT NULL"):
        against = row["post_id"] in (0, 1, 2)
        db["scores"].insert({
            "item_id": row["id"], "model_version": "sample-model", "stance":
            "critical" if against else "neutral", "p_supportive": 0.1,
            "p_critical": 0.7 if against else 0.1, "p_alarmed": 0.1,
            "p_neutral": 0.1 if against else 0.7,
            "themes": json.dumps({"mod_criticism": 0.9 if against else 0.05,
                                  "supply_shortage": 0.2}),
            "themes_present": json.dumps(["mod_criticism"] if against else []),
            "targets": json.dumps(["mod"] if against else []),
            "evidence": f"evidence {row['post_id']}", "language": "en",
            "scored_at": to_iso(now)})


def test_export_csv_and_jsonl_with_stable_columns(
    settings: Settings, db: sqlite_utils.Database, db_path: Path, tmp_path: Path, run_cli
) -> None:
    seed_store(db)
    out = tmp_path / "week.csv"
    code, stdout, err = run_cli("export", "--since", "7d", "--out", out, "--db", db_path)
    assert code == 0, err
    assert f"wrote 10 items since 7d to {out}" in stdout
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ITEM_COLUMNS
    assert rows[-1]["text"] == "SAMPLE NEWS, first line\nsecond line"
    assert [row["feed"] for row in rows].count("sample_blogger") == 9
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed away

    code, _, _ = run_cli("export", "--since", "30d", "--format", "jsonl", "--with-scores",
                         "--out", tmp_path / "month.jsonl", "--db", db_path)
    assert code == 0
    lines = [json.loads(line) for line in (tmp_path / "month.jsonl").read_text().splitlines()]
    assert len(lines) == 11
    assert all(list(line) == list(lines[0]) for line in lines)
    scored = next(line for line in lines if line["post_id"] == 0)
    assert (scored["stance"], scored["theme_mod_criticism"], scored["targets"],
            scored["model_version"]) == ("critical", 0.9, ["mod"], "sample-model")
    unscored = next(line for line in lines if line["feed"] == "sample_news")
    assert unscored["stance"] is None
    assert unscored["edited"] is False


def test_export_to_stdout_and_bad_window(settings: Settings, db, db_path: Path, run_cli) -> None:
    seed_store(db)
    code, out, _ = run_cli("export", "--since", "1d", "--out", "-", "--channel", "sample_news",
                           "--db", db_path)
    assert code == 0
    assert out.splitlines()[0] == ",".join(ITEM_COLUMNS)
    code, _, err = run_cli("export", "--since", "soon", "--db", db_path)
    assert code == 1
    assert "is not a window" in err


async def test_browse_metadata_and_canned_queries(settings: Settings, db, db_path: Path) -> None:
    seed_store(db)
    datasette = make_datasette(db_path, load_themes(settings.themes_file))
    await datasette.invoke_startup()
    name = db_path.stem

    response = await datasette.client.get(f"/{name}/theme_spikes.json?_shape=array&hours=24")
    assert response.status_code == 200
    spikes = {row["theme"]: row for row in response.json()}
    ministry = spikes["mod_criticism"]
    assert (ministry["posts_now"], ministry["posts_in_window"], ministry["posts_baseline"],
            ministry["posts_in_baseline"]) == (3, 4, 0, 6)
    assert ministry["lift"] == round((3 / 4) / (0.5 / 6), 2)
    assert response.json()[0]["theme"] == "mod_criticism"

    response = await datasette.client.get(f"/{name}/top_rifts.json?_shape=array")
    rifts = response.json()
    assert [row["url"] for row in rifts] == [f"https://t.me/sample_blogger/{n}" for n in (0, 1, 2)]
    assert rifts[0]["theme"] == "mod_criticism"
    assert rifts[0]["evidence"] == "evidence 0"

    response = await datasette.client.get(
        f"/{name}/posts_per_channel_per_day.json?_shape=array&days=30")
    per_day = response.json()
    assert sum(row["posts"] for row in per_day) == 11
    assert sum(row["critical"] or 0 for row in per_day) == 3

    response = await datasette.client.get(f"/{name}/items.json?_shape=array&_size=1")
    assert response.status_code == 200
    page = await datasette.client.get(f"/{name}")
    assert "Theme spikes" in page.text
    assert "Posts per channel per day" in page.text
    assert "subscribers" not in page.text.split("hidden")[0]
    table = await datasette.client.get(f"/{name}/scores")
    assert "Probability of the critical stance" in table.text


def test_export_carries_each_edited_posts_earlier_versions(
    settings: Settings, db: sqlite_utils.Database, db_path: Path, tmp_path: Path, run_cli
) -> None:
    seed_store(db)
    blogger = db.execute("SELECT id FROM feeds WHERE name = 'sample_blogger'").fetchone()[0]
    edit = Item(text="SAMPLE POST 0, softened", channel="sample_blogger", post_id=0,
                url="https://t.me/sample_blogger/0", published_at=utc_now() - timedelta(hours=2))
    assert save_items(db, blogger, [edit]).edited == 1
    for out, file_format in ((tmp_path / "e.jsonl", "jsonl"), (tmp_path / "e.csv", "csv")):
        code, _, err = run_cli("export", "--since", "7d", "--format", file_format, "--out", out,
                               "--db", db_path)
        assert code == 0, err
    lines = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    edited = next(line for line in lines if line["post_id"] == 0)
    assert (edited["text"], edited["version"], edited["edited"]) == \
        ("SAMPLE POST 0, softened", 2, True)
    assert [(old["version"], old["text"], old["stance"]) for old in edited["earlier_versions"]] \
        == [(1, "SAMPLE POST 0", "critical")]
    assert all(line["earlier_versions"] is None for line in lines if line["post_id"] != 0)
    with (tmp_path / "e.csv").open(encoding="utf-8", newline="") as handle:
        row = next(row for row in csv.DictReader(handle) if row["post_id"] == "0")
    assert json.loads(row["earlier_versions"])[0]["text"] == "SAMPLE POST 0"
