"""`riftwatch demo`: one real cycle over the bundled corpus, through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config import Settings
from monitors.telegram import parse_channel_page
from riftwatch.cli.main import main
from riftwatch.demo_server import DemoServer, load_corpus, render_channel_page


def test_demo_pages_parse_with_the_real_parser_and_page_backwards() -> None:
    corpus = load_corpus()
    newest = parse_channel_page(render_channel_page(corpus, "demo_voenkor_z", None).encode())
    assert len(newest.items) == 20
    assert newest.before_url is not None
    assert all(item.text and item.published_at for item in newest.items)
    with DemoServer(corpus) as server:
        assert server.news_url.startswith("http://127.0.0.1:")


def test_demo_without_model_prints_counts_and_newest(settings: Settings, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["demo", "--no-score"]) == 0
    out = capsys.readouterr().out
    assert "fetched 5 feeds" in out
    assert "163 new items, 0 failed" in out
    assert "Newest posts:" in out
    assert "Feed health: 5 ok, 0 failing" in out
    assert Path("riftwatch-demo.db").exists()


def test_discover_on_the_demo_store_names_the_channels_it_forwards_but_does_not_watch(
        settings: Settings, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["demo", "--no-score"]) == 0
    assert ("Amplified but not watched:\n  @demo_tylovoy_reporter: picked up by 3 watched "
            "channels") in capsys.readouterr().out
    assert main(["discover", "--db", "riftwatch-demo.db"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == [
        "  1. @demo_tylovoy_reporter: picked up by 3 watched channels (demo_frontline_notes, "
        "demo_shturm_diary, demo_voenkor_z) in 3 posts, not scored yet",
        "     riftwatch feeds add @demo_tylovoy_reporter",
        "  2. @demo_gumkonvoy_info: picked up by 1 watched channel (demo_analitika_fronta) in "
        "1 post, not scored yet",
        "     riftwatch feeds add @demo_gumkonvoy_info"]


@pytest.mark.slow
def test_demo_scores_and_reports_the_rift(settings: Settings, model_cache: Path, capsys,
                                          monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RIFTWATCH_CACHE_DIR", str(model_cache))
    assert main(["demo", "--format", "json"]) == 0
    out = capsys.readouterr().out
    digest = json.loads(out[out.index("{"):])
    assert digest["total_items"] == 37  # a deleted post still counts: it was posted
    assert digest["items_by_role"] == {"blogger": 34, "news": 3}
    assert digest["scored_items"] == 37
    assert digest["model_version"].startswith("e5-small-")
    assert digest["stance"]["baseline_total"] == 112
    mod = next(row for row in digest["themes"] if row["theme"] == "mod_criticism")
    assert mod["count"] >= 3
    assert mod["spike"] is True  # the Bakhmut-flanks pattern is caught
    assert any(rift["target"] in {"ministry", "shoigu", "gerasimov"} for rift in digest["rifts"])
    assert digest["spreading"]["posts"], "a critical demo post is passed on by two channels"
    assert [row["channel"] for row in digest["unwatched"]] == ["demo_tylovoy_reporter",
                                                               "demo_gumkonvoy_info"]
    changes = {(change["deleted"], change["versions"]) for change in digest["changes"]}
    assert changes == {(True, 1), (False, 2)}, "the demo's deleted and edited critical posts"
    new = [story for story in digest["storylines"]["storylines"] if story["new"]]
    assert any("старлинк" in story["lemmas"] and len(story["channels"]) >= 2 for story in new)


@pytest.mark.slow
def test_demo_graph_lists_forward_and_attack_edges_with_item_ids(
        settings: Settings, model_cache: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RIFTWATCH_CACHE_DIR", str(model_cache))
    assert main(["demo"]) == 0
    assert "Spreading:" in capsys.readouterr().out
    monkeypatch.setenv("RIFTWATCH_DB_PATH", "riftwatch-demo.db")
    assert main(["graph", "--since", "30d", "--format", "csv"]) == 0
    rows = [line.split(",") for line in capsys.readouterr().out.splitlines()[1:]]
    kinds = {row[2] for row in rows}
    assert {"forward", "attack", "mention", "quote"} <= kinds
    assert all(row[6].replace(" ", "").isdigit() for row in rows)
