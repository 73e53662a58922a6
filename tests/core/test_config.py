"""Configuration: valid files load; every invalid value is one line naming file, key and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_feeds, load_settings, load_themes
from config.feeds import normalise_channel
from config.settings import DEFAULT_FEEDS_FILE, DEFAULT_THEMES_FILE


def test_default_feeds_and_themes_load() -> None:
    feeds = load_feeds(DEFAULT_FEEDS_FILE)
    names = {feed.name for feed in feeds}
    assert {"rybar", "wargonzo", "grey_zone", "dva_majors", "rusich_army"} <= names
    assert {feed.role for feed in feeds} == {"blogger", "news"}
    rybar = next(feed for feed in feeds if feed.name == "rybar")
    assert rybar.fetch_url == "https://t.me/s/rybar"
    taxonomy = load_themes(DEFAULT_THEMES_FILE)
    assert len(taxonomy.themes) == 8
    assert {target.name for target in taxonomy.targets} >= {"ministry", "wagner", "kadyrov"}


@pytest.mark.parametrize("source", ["@rybar", "t.me/rybar", "https://t.me/s/rybar", "rybar"])
def test_channel_spellings_normalise(source: str) -> None:
    assert normalise_channel(source) == "rybar"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[[feed]]\nname="a"\nkind="rss"\nrole="pundit"\nurl="http://x"\n', "feed[0].role"),
        ('[[feed]]\nname="a"\nkind="rss"\nrole="news"\n', "feed[0]"),
        ('[[feed]]\nname="a"\nkind="rss"\nrole="news"\nurl="ftp://x"\n', "feed[0]"),
        ('[[feed]]\nname="a"\nkind="telegram"\nrole="blogger"\nchannel="@a!"\n', "feed[0]"),
        ('[[feed]]\nname="a"\nkind="rss"\nrole="news"\nurl="http://x"\ninterval_minutes=0\n',
         "feed[0].interval_minutes"),
        ('[[feed]]\nname="a"\nkind="rss"\nrole="news"\nurl="http://x"\ncolour="red"\n',
         "feed[0].colour"),
        ('[[feed]]\nname="a"\nkind="rss"\nrole="news"\nurl="http://x"\n' * 2, "feed[1].name"),
        ("[[feed]\n", "-"),
    ],
)
def test_invalid_feed_files_name_file_key_and_fix(tmp_path: Path, body: str, key: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_feeds(path)
    message = str(caught.value)
    assert str(path) in message
    assert key in message
    assert "fix:" in message
    assert "\n" not in message


def test_missing_feeds_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_feeds(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("variable", "value", "key"),
    [
        ("RIFTWATCH_ADMIN_IDS", "12,abc", "admin_ids"),
        ("RIFTWATCH_THREADS", "0", "threads"),
        ("RIFTWATCH_TIMEZONE", "Mars/Olympus", "timezone"),
        ("RIFTWATCH_HTTP_READ_TIMEOUT", "-1", "http_read_timeout"),
        ("RIFTWATCH_LOG_LEVEL", "LOUD", "log_level"),
    ],
)
def test_invalid_environment_names_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, key: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert key in message
    assert variable in message
    assert "\n" not in message


def test_admin_ids_from_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIFTWATCH_ADMIN_IDS", "12, 34")
    settings = load_settings()
    assert settings.admin_ids == [12, 34]
    assert settings.is_admin(34)
    assert not settings.is_admin(56)
    assert not settings.is_admin(None)


def test_new_theme_loads_without_code(tmp_path: Path) -> None:
    path = tmp_path / "themes.toml"
    path.write_text(
        '[[theme]]\nname="drone_shortage"\nlabel="Drones lacking"\n'
        'description="Not enough drones at the front."\nexamples=["Дронов нет."]\n',
        encoding="utf-8",
    )
    assert load_themes(path).theme_names() == ["drone_shortage"]
