"""The `riftwatch feeds` commands and OPML round trip, through the real CLI entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import Settings
from riftwatch.cli.main import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_feeds_list_shows_configured_feeds(settings: Settings, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = _run(capsys, "feeds", "list")
    assert code == 0
    assert "rybar" in out
    assert "guardian-ukraine" in out


def test_add_remove_and_errors(settings: Settings, capsys) -> None:  # type: ignore[no-untyped-def]
    assert _run(capsys, "feeds", "add", "@Two_Majors_demo")[0] == 0
    # a public address written as such: no DNS needed, and the door's address check passes
    code, out, _ = _run(capsys, "feeds", "add", "https://93.184.215.14/rss", "--role", "news",
                        "--name", "example")
    assert code == 0
    assert "example (rss, news)" in out
    assert "two_majors_demo" in _run(capsys, "feeds", "list")[1]
    assert _run(capsys, "feeds", "remove", "example")[0] == 0
    code, _, err = _run(capsys, "feeds", "remove", "example")
    assert code == 1
    assert "no feed named 'example'" in err
    code, _, err = _run(capsys, "feeds", "add", "ftp://example.org/x", "--name", "bad")
    assert code == 1
    assert err.startswith("riftwatch: cannot add ftp://example.org/x: url must")


def test_opml_round_trip(settings: Settings, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    opml = tmp_path / "in.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        '<outline text="Wire &amp; Co" xmlUrl="https://93.184.215.14/rss"/>'
        '<outline text="folder"><outline title="Desk" xmlUrl="https://93.184.215.15/atom"/>'
        "</outline></body></opml>", encoding="utf-8")
    code, out, _ = _run(capsys, "feeds", "import-opml", str(opml))
    assert code == 0
    assert "imported 2 feeds" in out
    exported = tmp_path / "out.opml"
    assert _run(capsys, "feeds", "export-opml", "--out", str(exported))[0] == 0
    text = exported.read_text(encoding="utf-8")
    assert 'xmlUrl="https://93.184.215.14/rss"' in text
    assert 'category="rss/news"' in text
    assert 'xmlUrl="https://t.me/s/rybar"' in text


def test_hostile_opml_is_refused(settings: Settings, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bomb = tmp_path / "bomb.opml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">'
                    '<!ENTITY b "&a;&a;&a;">]><opml><body>&b;</body></opml>', encoding="utf-8")
    code, _, err = _run(capsys, "feeds", "import-opml", str(bomb))
    assert code == 1
    assert "not readable OPML" in err


def test_bad_config_is_one_line_and_exit_2(settings: Settings, tmp_path: Path, capsys,
                                           monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "feeds.toml"
    broken.write_text('[[feed]]\nname = "x"\nkind = "rss"\nrole = "pundit"\nurl = "http://a"\n')
    monkeypatch.setenv("RIFTWATCH_FEEDS_FILE", str(broken))
    code, _, err = _run(capsys, "feeds", "list")
    assert code == 2
    assert "feed[0].role" in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_digest_bad_window(settings: Settings, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = _run(capsys, "digest", "--since", "soon")
    assert code == 1
    assert "not a window" in err


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/rss", "http://10.1.2.3/feed",
                                 "http://[::1]/atom", "http://169.254.169.254/latest"])
def test_add_refuses_private_and_loopback_urls_like_the_bot(
        settings: Settings, capsys, url: str) -> None:  # type: ignore[no-untyped-def]
    code, _, err = _run(capsys, "feeds", "add", url, "--name", "inside")
    assert code == 1
    assert err.startswith(f"riftwatch: cannot add {url}: refused: ")
    assert "non-public address" in err
    assert "RIFTWATCH_ALLOW_PRIVATE_URLS" in err
    assert "inside" not in _run(capsys, "feeds", "list")[1]


def test_add_of_a_loopback_url_when_private_urls_are_allowed(
        settings: Settings, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RIFTWATCH_ALLOW_PRIVATE_URLS", "true")
    code, out, _ = _run(capsys, "feeds", "add", "http://127.0.0.1:8080/rss", "--name", "local")
    assert code == 0
    assert "added local" in out
