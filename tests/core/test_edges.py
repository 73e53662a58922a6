"""Amplification edges: extracted from real t.me markup, incremental, crash-safe, read back as a
graph that round-trips through GEXF, and the Spreading section built on them."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import networkx as nx
import pytest
import sqlite_utils

from amplification.edge_extraction import channel_references, extract_edges
from config import FeedConfig, Settings
from digest.graph import build_graph, parse_kinds
from digest.graph_render import graph_gexf, graph_json
from digest.spreading import compose_spreading
from digest.spreading_render import render_spreading_html, render_spreading_text
from monitors.telegram import parse_channel_page
from riftwatch.cli.main import main
from store.edges import edges_between
from store.feeds import add_feed
from store.items import save_items
from store.models import Item, to_iso

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
QUOTED = ("Шойгу и Герасимов опять рапортуют о победах, а штурмовики сидят без снарядов. "
          "Паркетные генералы должны ответить за провал под Бахмутом.")


def _feed(db: sqlite_utils.Database, name: str, title: str | None = None) -> int:
    return add_feed(db, FeedConfig(name=name, kind="telegram", role="blogger", channel=name,
                                   title=title)).id


def _post(db: sqlite_utils.Database, feed: str, post_id: int, text: str, minutes: float,
          **fields: object) -> int:
    feed_id = db.execute("SELECT id FROM feeds WHERE name = ?", [feed]).fetchone()[0]
    item = Item(text=text, channel=feed, post_id=post_id, url=f"https://t.me/{feed}/{post_id}",
                published_at=NOW - timedelta(minutes=minutes), **fields)  # type: ignore[arg-type]
    save_items(db, feed_id, [item])
    return int(db.execute("SELECT id FROM items WHERE key = ?", [item.key]).fetchone()[0])


def _score(db: sqlite_utils.Database, item_id: int, stance: str, targets: list[str]) -> None:
    db["scores"].insert({"item_id": item_id, "model_version": "m1", "stance": stance,
                         "p_supportive": 0.1, "p_critical": 0.7 if stance == "critical" else 0.1,
                         "p_alarmed": 0.1, "p_neutral": 0.1, "themes": "{}",
                         "targets": json.dumps(targets), "evidence": None, "language": "ru",
                         "scored_at": to_iso(NOW)})


def _evidence(db: sqlite_utils.Database) -> list[tuple]:
    return db.execute("SELECT kind, source, target, item_id, ref_key, seen_at "
                      "FROM edge_evidence ORDER BY kind, source, target, item_id").fetchall()


def test_forwards_and_mentions_from_the_real_tme_page(db: sqlite_utils.Database,
                                                      settings: Settings, shared_data: Path
                                                      ) -> None:
    raw = (shared_data / "tme-pages" / "full.html").read_bytes()
    page = parse_channel_page(raw, url="https://t.me/s/topwar_official")
    forwards = [item for item in page.items if item.forwarded_url]
    assert {item.forwarded_url for item in forwards} >= {"https://t.me/yaremshooter/1066",
                                                         "https://t.me/vysokygovorit/10899"}
    assert any("https://t.me/yaremshooter" in item.links for item in page.items)
    _feed(db, "topwar_official")
    _feed(db, "yarem", title="Военкор Ярем")
    db.execute("UPDATE feeds SET channel = 'yaremshooter' WHERE name = 'yarem'")
    save_items(db, 1, page.items)
    report = extract_edges(db, settings)
    assert report.items == 12
    assert report.new == len(_evidence(db))
    rows = {(kind, target, ref) for kind, _, target, _, ref, _ in _evidence(db)}
    assert ("forward", "yarem", "tg:yaremshooter/1066") in rows  # a watched channel: its name
    assert ("forward", "vysokygovorit", "tg:vysokygovorit/10899") in rows
    # @yaremshooter and t.me/infantmilitario/93419 are inside Ярем's forwarded post: his
    # words, not topwar's, so they are no mention of topwar's
    assert not [row for row in rows if row[0] == "mention"]


def test_channel_references_in_text_and_links() -> None:
    refs = channel_references("Читайте @rybar_ru и t.me/s/grey_zone, бот @helper_bot, "
                              "почта a@mail.ru", ["https://t.me/wargonzo/123"])
    assert refs == [("wargonzo", 123), ("grey_zone", None), ("rybar_ru", None)]


def test_a_forward_without_a_link_lands_on_the_title(db: sqlite_utils.Database,
                                                     settings: Settings, shared_data: Path
                                                     ) -> None:
    raw = (shared_data / "tme-pages" / "message_voice.html").read_bytes()
    (item,) = parse_channel_page(raw).items
    assert item.forwarded_from == "Спортивный Екб"
    assert item.forwarded_url is None
    _feed(db, "oper_goblin")
    _feed(db, "sport_ekb", title="Спортивный Екб")
    save_items(db, 1, [item])
    extract_edges(db, settings)
    assert [(kind, target) for kind, _, target, *_ in _evidence(db)] == [("forward", "sport_ekb")]


def test_near_copies_across_channels_are_quotes_and_the_earlier_is_quoted(
        db: sqlite_utils.Database, settings: Settings) -> None:
    for name in ("alpha", "beta", "gamma"):
        _feed(db, name)
    original = _post(db, "alpha", 1, QUOTED, 120)
    quote = _post(db, "beta", 1, "Подписываюсь под каждым словом: " + QUOTED, 60)
    _post(db, "alpha", 2, QUOTED + " Повторю ещё раз.", 110)  # its own channel: no edge
    _post(db, "gamma", 1, QUOTED, 60 * 24 * 5)  # five days earlier: outside the window
    _post(db, "gamma", 2, "Совсем другой текст про погоду, урожай и рыбалку на Волге этим летом.",
          10)
    extract_edges(db, settings)
    quotes = [row for row in _evidence(db) if row[0] == "quote"]
    assert [(source, target, item) for _, source, target, item, _, _ in quotes] == [
        ("beta", "alpha", quote)]
    assert quotes[0][4] == db.execute("SELECT key FROM items WHERE id = ?",
                                      [original]).fetchone()[0]


def test_extraction_is_incremental_resumes_after_an_interrupt_and_never_double_counts(
        tmp_path: Path, settings: Settings) -> None:
    def build(path: Path) -> sqlite_utils.Database:
        from store.db import open_db
        db = open_db(path)
        for name in ("alpha", "beta", "gamma"):
            _feed(db, name)
        for number in range(30):
            source = ("beta", "gamma")[number % 2]
            _post(db, source, number + 1, f"Пост {number}: читайте @alpha и t.me/alpha/{number}",
                  300 - number, forwarded_url=None)
            item = _post(db, source, 100 + number, QUOTED if number == 3 else f"fwd {number}",
                         200 - number, forwarded_url=f"https://t.me/alpha/{number}")
            _score(db, item, "critical", ["ministry", "shoigu"])
        return db

    small = settings.model_copy(update={"edge_batch_size": 7})
    clean = build(tmp_path / "clean.db")
    extract_edges(clean, small)
    expected = _evidence(clean)

    crashed = build(tmp_path / "crashed.db")
    batches: list[tuple[str, int]] = []

    def interrupt(stream: str, last_id: int) -> None:
        batches.append((stream, last_id))
        if len(batches) in (2, 11):  # once in the items stream, once in the scores stream
            raise KeyboardInterrupt

    for _ in range(3):
        try:
            extract_edges(crashed, small, on_batch=interrupt)
        except KeyboardInterrupt:
            pass
    assert _evidence(crashed) == expected
    again = extract_edges(crashed, small)
    assert again.items == 0
    assert again.scores == 0
    assert again.new == 0
    _post(crashed, "beta", 999, "Новое: @alpha", 1)
    later = extract_edges(crashed, small)
    assert later.items == 1
    assert later.new == 1
    ministry = [edge for edge in edges_between(crashed, NOW - timedelta(days=1), NOW,
                                               ("attack",)) if edge.target == "ministry"]
    assert [edge.count for edge in ministry] == [15, 15]
    assert sum(len(edge.items) for edge in ministry) == 30


def _spread_store(db: sqlite_utils.Database, stance: str = "critical") -> int:
    for name in ("alpha", "beta", "gamma", "delta"):
        _feed(db, name)
    original = _post(db, "alpha", 7, QUOTED, 120)
    _score(db, original, stance, ["shoigu"])
    _post(db, "beta", 1, QUOTED, 100, forwarded_url="https://t.me/alpha/7",
          forwarded_from="alpha")
    _post(db, "gamma", 1, "Подписываюсь под каждым словом: " + QUOTED, 80)
    _post(db, "delta", 1, "Коллеги пишут прямо: https://t.me/alpha/7", 50)
    return original


def test_a_critical_post_picked_up_by_three_channels_is_spreading(
        db: sqlite_utils.Database, settings: Settings) -> None:
    original = _spread_store(db)
    extract_edges(db, settings)
    spreading = compose_spreading(db, settings, NOW - timedelta(hours=24), NOW, "m1")
    (spread,) = spreading.posts
    assert spread.post.item_id == original
    assert spread.channels == 3
    assert [(p.channel, p.kind, p.from_channel) for p in spread.pickups] == [
        ("beta", "forward", "alpha"), ("gamma", "quote", "alpha"), ("delta", "mention", "alpha")]
    assert spread.last_pickup - spread.first_pickup == timedelta(minutes=50)  # type: ignore[operator]
    text = render_spreading_text(spreading)
    assert text.startswith("Spreading:")
    assert "picked up by 3 channels, first after 20 min" in text
    assert "beta ← alpha: 1 of 3 pick-ups" in text
    html = render_spreading_html(spreading)
    assert html.startswith("<b>Spreading</b>")
    assert "<script" not in html


def test_a_post_that_is_not_critical_or_not_far_enough_is_not_spreading(
        db: sqlite_utils.Database, settings: Settings) -> None:
    _spread_store(db, stance="supportive")
    extract_edges(db, settings)
    assert compose_spreading(db, settings, NOW - timedelta(hours=24), NOW, "m1").posts == []
    strict = settings.model_copy(update={"spread_min_channels": 4})
    db.execute("UPDATE scores SET stance = 'critical'")
    assert compose_spreading(db, strict, NOW - timedelta(hours=24), NOW, "m1").posts == []
    assert len(compose_spreading(db, settings, NOW - timedelta(hours=24), NOW, "m1").posts) == 1


def test_the_gexf_file_reads_back_identically_and_json_names_communities(
        db: sqlite_utils.Database, settings: Settings) -> None:
    _spread_store(db)
    extract_edges(db, settings)
    result = build_graph(db, NOW - timedelta(days=1), NOW)
    back = nx.read_gexf(io.BytesIO(graph_gexf(result)))
    assert dict(back.nodes(data=True)) == dict(result.graph.nodes(data=True))
    written = sorted((u, v, sorted(data.items()))
                     for u, v, data in result.graph.edges(data=True))
    assert written == sorted((u, v, sorted((name, value) for name, value in data.items()
                                           if name != "id"))  # GEXF's own edge id
                             for u, v, data in back.edges(data=True))
    assert len(written) == 4  # forward, quote, mention, attack
    document = graph_json(result)
    assert {edge["kind"] for edge in document["edges"]} == {"forward", "quote", "mention",
                                                            "attack"}
    assert document["communities"]
    assert all(community["name"].startswith("around ")
               for community in document["communities"])
    assert parse_kinds("forward, attack") == ("forward", "attack")
    with pytest.raises(ValueError, match="unknown edge kind"):
        parse_kinds("retweet")


def test_graph_csv_lists_edges_with_item_ids_and_neutralises_formulas(
        db: sqlite_utils.Database, settings: Settings, capsys: pytest.CaptureFixture[str]
        ) -> None:
    _spread_store(db)
    _post(db, "beta", 2, "Переслано", 5, forwarded_from="=HYPERLINK(\"http://x\")")
    db.conn.commit()
    for row in db.execute("SELECT id FROM items").fetchall():  # recent for the CLI's clock
        db.execute("UPDATE items SET published_at = ? WHERE id = ?",
                   [to_iso(datetime.now(UTC) - timedelta(minutes=row[0])), row[0]])
    db.conn.commit()
    db_arg = ["--db", str(settings.db_path)]
    assert main(["graph", "--since", "1d", "--format", "csv", *db_arg]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "source,target,kind,count,first_seen,last_seen,items"
    kinds = {line.split(",")[2] for line in lines[1:]}
    assert kinds == {"forward", "mention", "quote", "attack"}
    assert any(line.startswith("beta,\"'=HYPERLINK") for line in lines)
    assert main(["graph", "--kind", "retweet", *db_arg]) == 1
