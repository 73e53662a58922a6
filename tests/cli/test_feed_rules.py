"""One rule for adding a feed (issue 22, points 4-6) through the real CLI: `feeds add` and
`feeds import-opml` never overwrite a feed or watch a source twice, an `export-opml` file
imports back as the same feeds whatever its titles hold, and 4-character channel names work
from `feeds add` to the mention edges of `graph`."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import FeedConfig, Settings, load_feeds
from digest.printable import printable
from riftwatch.cli.main import main
from riftwatch.opml import read_opml, write_opml
from store.db import open_db
from store.feeds import list_feeds

PUBLIC = "https://93.184.215.14"  # a public address written as such: no DNS needed


@pytest.fixture(autouse=True)
def _store_at_db_path(settings: Settings, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command here uses the ``db_path`` store unless it passes --db."""
    monkeypatch.setenv("RIFTWATCH_DB_PATH", str(db_path))


def _run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _feeds(db_path: Path) -> dict[str, tuple[str, str, str, str | None, str | None]]:
    """name → (kind, role, url, channel, title) of every watched feed."""
    return {feed.name: (feed.kind, feed.role, feed.url, feed.channel, feed.title)
            for feed in list_feeds(open_db(db_path))}


def _refused(code: int, err: str, *parts: str) -> None:
    assert code == 1, err
    assert err.count("\n") == 1 and err.startswith("riftwatch: cannot add "), err
    for part in parts:
        assert part in err, err


# ---- point 4: feeds add -------------------------------------------------------------------

def test_add_never_overwrites_a_name_nor_watches_a_channel_twice(
        settings: Settings, db_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert _run(capsys, "feeds", "add", "@abcde")[0] == 0
    before = _feeds(db_path)
    _refused(*_run(capsys, "feeds", "add", "t.me/zzzzzz", "--name", "abcde")[::2],
             "the name abcde is taken by the feed of https://t.me/s/abcde", "--name")
    _refused(*_run(capsys, "feeds", "add", "@ABCDE", "--name", "abcde_again")[::2],
             "already watching abcde (telegram, blogger)", "feeds remove abcde")
    _refused(*_run(capsys, "feeds", "add", "https://t.me/s/abcde", "--name", "x2")[::2],
             "already watching abcde")
    _refused(*_run(capsys, "feeds", "add", "t.me/zzzzzz", "--name", "rybar")[::2],
             "the name rybar is listed in ", "feeds.toml for https://t.me/s/rybar")
    assert _feeds(db_path) == before


def test_add_never_watches_a_url_twice(settings: Settings, db_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert _run(capsys, "feeds", "add", f"{PUBLIC}/rss", "--name", "wire")[0] == 0
    before = _feeds(db_path)
    for again in (f"{PUBLIC}/rss/", f"{PUBLIC}/rss?utm_source=x", f"{PUBLIC}/rss#top"):
        _refused(*_run(capsys, "feeds", "add", again, "--name", "wire2")[::2],
                 "already watching wire (rss, news)")
    assert _feeds(db_path) == before


def test_a_removed_name_comes_back_only_for_its_own_source(
        settings: Settings, db_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert _run(capsys, "feeds", "add", "@abcde_chan", "--name", "abcde")[0] == 0
    assert _run(capsys, "feeds", "remove", "abcde")[0] == 0
    _refused(*_run(capsys, "feeds", "add", "@other_chan", "--name", "abcde")[::2],
             "taken by the removed feed of https://t.me/s/abcde_chan")
    code, out, _ = _run(capsys, "feeds", "add", "@abcde_chan", "--name", "abcde", "--role",
                        "news")
    assert code == 0
    assert out == "added abcde (telegram, news): https://t.me/s/abcde_chan\n"


def test_a_removed_feeds_file_feed_comes_back_as_the_file_lists_it(
        settings: Settings, db_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert _run(capsys, "feeds", "remove", "rybar")[0] == 0
    _refused(*_run(capsys, "feeds", "add", "@not_rybar", "--name", "rybar")[::2],
             "the name rybar is listed in ", "feeds.toml for https://t.me/s/rybar")
    code, out, _ = _run(capsys, "feeds", "add", "@rybar", "--role", "news")
    assert (code, out) == (0, "added rybar (telegram, blogger): https://t.me/s/rybar\n")
    assert _run(capsys, "feeds", "list")[0] == 0  # syncs feeds.toml again: nothing to revert
    assert _feeds(db_path)["rybar"] == ("telegram", "blogger", "https://t.me/s/rybar", "rybar",
                                        "Рыбарь")


# ---- point 4: OPML import -----------------------------------------------------------------

def _opml(path: Path, *outlines: str) -> Path:
    path.write_text('<?xml version="1.0"?><opml version="2.0" xmlns:riftwatch="urn:riftwatch:'
                    f'opml"><head/><body>{"".join(outlines)}</body></opml>', encoding="utf-8")
    return path


def test_import_refuses_what_feeds_add_refuses_and_says_so(
        settings: Settings, db_path: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    file = _opml(
        tmp_path / "in.opml",
        f'<outline title="Not Rybar" riftwatch:name="rybar" xmlUrl="{PUBLIC}/rybar.xml"/>',
        '<outline text="Wargonzo again" xmlUrl="https://t.me/s/wargonzo"/>',
        '<outline text="Inside" xmlUrl="http://127.0.0.1:8080/rss"/>',
        '<outline text="Metadata" xmlUrl="http://169.254.169.254/latest"/>',
        '<outline text="Bad" xmlUrl="ftp://93.184.215.14/x"/>',
        f'<outline text="Wire" xmlUrl="{PUBLIC}/wire"/>')
    assert _run(capsys, "feeds", "list")[0] == 0
    before = _feeds(db_path)
    code, out, err = _run(capsys, "feeds", "import-opml", file)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"added wire (rss, news): {PUBLIC}/wire"
    assert lines[1].startswith(f"refused 'Not Rybar' '{PUBLIC}/rybar.xml': the name rybar is "
                               "listed in ")
    assert lines[2].startswith("refused 'Wargonzo again' 'https://t.me/s/wargonzo': already "
                               "watching wargonzo (telegram, blogger)")
    assert lines[3].startswith("refused 'Inside' 'http://127.0.0.1:8080/rss': refused: ")
    assert "non-public address 127.0.0.1" in lines[3]
    assert lines[4].startswith("refused 'Metadata' 'http://169.254.169.254/latest': refused: ")
    assert "non-public address 169.254.169.254" in lines[4]
    assert lines[5].startswith("refused 'Bad' 'ftp://93.184.215.14/x': url must start with "
                               "http:// or https://")
    assert lines[6] == f"imported 1 feeds from {file}, refused 5"
    assert len(lines) == 7
    assert _run(capsys, "feeds", "list")[0] == 0  # syncs feeds.toml: it and the store agree
    assert _feeds(db_path) == {**before, "wire": ("rss", "news", f"{PUBLIC}/wire", None, "Wire")}


def test_import_that_adds_nothing_fails_in_one_line(
        settings: Settings, db_path: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    file = _opml(tmp_path / "in.opml", '<outline text="R" xmlUrl="https://t.me/s/rybar"/>')
    code, out, err = _run(capsys, "feeds", "import-opml", file)
    assert code == 1
    assert out.startswith("refused 'R' 'https://t.me/s/rybar': already watching rybar")
    assert err == (f"riftwatch: imported 0 feeds from {file}, refused 1 (listed above); "
                   "nothing was added\n")


def test_export_import_round_trip_keeps_every_feed(
        settings: Settings, db_path: Path, tmp_path: Path, capsys,
        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    listed = tmp_path / "feeds.toml"  # the shipped file's news hosts need DNS: public IPs here
    listed.write_text(f'[[feed]]\nname = "rybar"\nkind = "telegram"\nrole = "blogger"\n'
                      f'channel = "rybar"\ntitle = "Рыбарь"\n\n[[feed]]\nname = "desk"\n'
                      f'kind = "rss"\nrole = "news"\nurl = "{PUBLIC}/desk"\n', encoding="utf-8")
    monkeypatch.setenv("RIFTWATCH_FEEDS_FILE", str(listed))
    for argv in (("@abcd",), ("@Two_Majors", "--name", "majors", "--role", "news"),
                 (f"{PUBLIC}/rss", "--name", "wire", "--title", "Wire \x01 & <Co>\r\n"),
                 (f"{PUBLIC}/atom", "--role", "blogger", "--title", "Лента")):
        code, _, err = _run(capsys, "feeds", "add", *argv)
        assert code == 0, err
    exported = tmp_path / "out.opml"
    assert _run(capsys, "feeds", "export-opml", "--out", exported)[0] == 0
    empty = tmp_path / "none.toml"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("RIFTWATCH_FEEDS_FILE", str(empty))
    other = tmp_path / "other.db"
    code, out, err = _run(capsys, "feeds", "import-opml", exported, "--db", other)
    assert (code, err) == (0, "")
    assert "refused '" not in out
    expected = _feeds(db_path)
    expected["wire"] = (*expected["wire"][:4], "Wire  & <Co>  ")  # titles written printable
    assert _feeds(other) == expected
    assert {name: kind for name, (kind, *_) in expected.items()}["abcd"] == "telegram"
    assert len(expected) == len(load_feeds(listed)) + 4


TITLES = st.one_of(st.text(max_size=40),  # every code point but surrogates
                   st.text(st.sampled_from("a Ж\x00\x01\x0b\x1b\x7f\x85\r\n\t\u202e\u2066"
                                           "\u200f\ufeff\ufffe\U0001f600&<>\"'"), max_size=20))
SOURCES = st.sampled_from([("telegram", "abcd"), ("telegram", "Some_Channel"),
                           ("rss", f"{PUBLIC}/rss?a=1&b=<2>"), ("rss", "http://x.example/")])


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=TITLES, source=SOURCES, role=st.sampled_from(["blogger", "news"]))
def test_opml_round_trips_any_title(title: str, source: tuple[str, str], role: str) -> None:
    kind, where = source
    feed = FeedConfig.model_validate({"name": "feed_1", "kind": kind, "role": role,
                                      "title": title or None,
                                      **({"channel": where} if kind == "telegram"
                                         else {"url": where})})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "feeds.opml"
        path.write_bytes(write_opml([feed]))
        (outline,) = read_opml(path)
    assert outline.feed is not None, outline.problem
    assert outline.named
    assert outline.feed.model_dump() == {**feed.model_dump(),
                                         "title": printable(title) or None}


# ---- point 5: 4-character channel names ---------------------------------------------------

def _export(path: Path, text: str) -> Path:
    """A one-post Telegram Desktop export of @voenkor_test, posted an hour ago."""
    posted = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    path.write_text(json.dumps({"name": "Voenkor", "type": "public_channel", "id": 42,
                                "messages": [{"id": 7, "type": "message", "date": posted,
                                              "text": text}]}), encoding="utf-8")
    return path


def test_a_four_character_channel_is_watched_and_mentioned(
        settings: Settings, db_path: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = _run(capsys, "feeds", "add", "t.me/abcd")
    assert (code, out) == (0, "added abcd (telegram, blogger): https://t.me/s/abcd\n")
    export = _export(tmp_path / "result.json",
                     "Читайте @abcd и t.me/abcd/12, но не user@mail.ru и не @abc.")
    assert _run(capsys, "import", "telegram-export", export, "--channel", "@voenkor_test")[0] == 0
    code, out, err = _run(capsys, "graph", "--format", "json", "--kind", "mention")
    assert code == 0, err
    edges = {(edge["source"], edge["target"]) for edge in json.loads(out)["edges"]}
    assert edges == {("voenkor_test", "abcd")}


@pytest.mark.parametrize(("source", "accepted"), [
    ("@abc", False), ("@abcd", True), ("t.me/s/Abcd", True), ("@" + "a" * 32, True),
    ("@" + "a" * 33, False), ("@1abcd", False), ("t.me/+invite", False)])
def test_channel_names_of_four_to_thirty_two(
        settings: Settings, capsys, source: str, accepted: bool) -> None:  # type: ignore[no-untyped-def]
    code, _, err = _run(capsys, "feeds", "add", source)
    assert code == (0 if accepted else 1), err
    if not accepted:
        assert "is not a public Telegram channel name (4-32 letters" in err
