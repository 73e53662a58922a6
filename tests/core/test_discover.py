"""Channel discovery: unwatched channels the watched ones forward, mention or quote, ranked on a
store of real t.me markup; the digest's "Amplified but not watched"; ``riftwatch discover``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlite_utils

from amplification.edge_extraction import extract_edges
from config import FeedConfig, Settings, load_themes
from config.settings import DEFAULT_THEMES_FILE
from digest.compose import compose_digest
from digest.discovery import discover_channels
from digest.render_text import render_text
from digest.telegram_html import render_digest
from riftwatch.cli.main import main
from store.feeds import add_feed, remove_feed, set_feed_enabled
from store.models import utc_now

SINCE = datetime(2023, 2, 27, 0, 0, tzinfo=UTC)
UNTIL = datetime(2023, 3, 2, 0, 0, tzinfo=UTC)
# topwar forwards Старше Эдды (critical) and Пул N3 (critical); oper_goblin forwards Пул N3 too
# (neutral); БелВПО and ImpNavigator are forwarded once each (neutral); Ярем's forward and
# fighter_bomber's t.me link to shalnyak stay unscored.
STANCES = {"tg:topwar_official/71006": "critical", "tg:topwar_official/71007": "critical",
           "tg:oper_goblin/22358": "neutral", "tg:topwar_official/70998": "neutral",
           "tg:topwar_official/71008": "neutral"}
RANKED = ["dimsmirnov175", "vysokygovorit", "belarus_vpo", "impnavigator", "shalnyak",
          "yaremshooter"]


def _real_store(db: sqlite_utils.Database, settings: Settings,
                forwarding_store: Callable[..., None], shift: timedelta = timedelta(0)) -> None:
    forwarding_store(db, shift, STANCES)
    extract_edges(db, settings)


def test_ranked_by_channels_then_posts_then_critical_share(
        db: sqlite_utils.Database, settings: Settings, forwarding_store: Callable[..., None]
        ) -> None:
    _real_store(db, settings, forwarding_store)
    found = discover_channels(db, SINCE, UNTIL, "m1")
    # "Спортивный Екб" (a forward without a link: no username) cannot be watched; the
    # forward of kremlinprachka is from 2022, outside the window.
    assert [candidate.channel for candidate in found] == RANKED
    top = found[0]
    assert (top.channels, top.picked_up_by, top.pickups) == (
        2, ["oper_goblin", "topwar_official"], 2)
    assert (top.by_kind, top.scored, top.critical, top.critical_share) == (
        {"forward": 2}, 2, 1, 0.5)
    assert found[1].critical_share == 1.0 and found[2].critical_share == 0.0
    assert found[4].by_kind == {"mention": 1} and found[4].critical_share is None
    assert [c.channel for c in discover_channels(db, SINCE, UNTIL, "other-model")][:2] == \
        ["dimsmirnov175", "belarus_vpo"]  # no scores of that model: by name after the counts


def test_a_watched_or_paused_channel_is_no_candidate_and_a_removed_one_is_again(
        db: sqlite_utils.Database, settings: Settings, forwarding_store: Callable[..., None]
        ) -> None:
    _real_store(db, settings, forwarding_store)
    add_feed(db, FeedConfig(name="yarem", kind="telegram", role="blogger",
                            channel="YaremShooter"))  # added after its edges were extracted

    def listed() -> list[str]:
        return [candidate.channel for candidate in discover_channels(db, SINCE, UNTIL, "m1")]

    assert "yaremshooter" not in listed()
    set_feed_enabled(db, "yarem", False)
    assert "yaremshooter" not in listed()
    remove_feed(db, "yarem")
    assert listed() == RANKED


def test_the_digest_says_amplified_but_not_watched_in_text_and_escaped_html(
        db: sqlite_utils.Database, settings: Settings, forwarding_store: Callable[..., None]
        ) -> None:
    _real_store(db, settings, forwarding_store)
    taxonomy = load_themes(DEFAULT_THEMES_FILE)
    digest = compose_digest(db, settings, taxonomy, SINCE, UNTIL, model_version="m1")
    text = render_text(digest)
    assert ("Amplified but not watched:\n"
            "  @dimsmirnov175: picked up by 2 watched channels (oper_goblin, topwar_official) "
            "in 2 posts, 50% critical\n"
            "  @vysokygovorit: picked up by 1 watched channel (topwar_official) in 1 post, "
            "100% critical\n") in text
    assert "  … and 3 more: /discover\n" in text  # three shown (RIFTWATCH_DIGEST_UNWATCHED_SHOWN)
    html = render_digest(digest)
    assert ("<b>Amplified but not watched</b>\n<b>@dimsmirnov175</b>: picked up by 2 watched "
            "channels (oper_goblin, topwar_official) in 2 posts, 50% critical") in html
    assert "… and 3 more: <code>/discover</code>" in html
    one_channel = compose_digest(db, settings, taxonomy, SINCE, UNTIL, channel="topwar_official",
                                 model_version="m1")
    assert one_channel.unwatched == []
    assert "Amplified but not watched" not in render_text(one_channel)


def test_cli_discover_as_text_json_and_csv(db: sqlite_utils.Database, settings: Settings,
                                            forwarding_store: Callable[..., None],
                                            capsys) -> None:  # type: ignore[no-untyped-def]
    # The real posts moved to the last two days, so the default window (7d) holds them; the
    # CLI extracts their edges itself.
    forwarding_store(db, utc_now() - datetime(2023, 3, 1, 12, 0, tzinfo=UTC), STANCES)
    db_arg = ["--db", str(settings.db_path)]
    assert main(["discover", *db_arg]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Amplified but not watched in the last 7d (ranked by how many "
                           "watched channels forward, mention or quote each")
    assert ("  1. @dimsmirnov175: picked up by 2 watched channels (oper_goblin, "
            "topwar_official) in 2 posts, 50% critical\n"
            "     riftwatch feeds add @dimsmirnov175\n") in text
    assert main(["discover", "--format", "json", *db_arg]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["channel"] for row in rows] == RANKED
    assert rows[0] == {**rows[0], "rank": 1, "url": "https://t.me/dimsmirnov175", "channels": 2,
                       "picked_up_by": ["oper_goblin", "topwar_official"], "forwards": 2,
                       "mentions": 0, "critical_share": 0.5,
                       "add_command": "riftwatch feeds add @dimsmirnov175"}
    assert main(["discover", "--format", "csv", *db_arg]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("rank,channel,url,channels,picked_up_by,pickups,forwards,")
    assert lines[1].startswith("1,dimsmirnov175,https://t.me/dimsmirnov175,2,"
                               "oper_goblin;topwar_official,2,2,0,0,2,1,0.5,")
    assert len(lines) == 1 + len(RANKED)
    assert main(["discover", "--since", "1h", *db_arg]) == 0
    assert capsys.readouterr().out == ("No unwatched channel was forwarded, mentioned or quoted "
                                       "by a watched one in the last 1h.\n")
    assert main(["discover", "--since", "soon", *db_arg]) == 1
    assert "'soon' is not a window" in capsys.readouterr().err
