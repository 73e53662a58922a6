"""t.me/s parsing: the saved real page and fragments, our own samples for replies and bad markup."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from monitors.errors import ChannelUnavailable, LayoutChanged
from monitors.telegram import media_kinds, parse_channel_page, parse_link_preview, parse_views

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "tme"


def _tme(shared_data: Path, name: str) -> bytes:
    return (shared_data / "tme-pages" / name).read_bytes()


def test_full_page_gives_its_twelve_posts(shared_data: Path) -> None:
    raw = _tme(shared_data, "full.html")
    page = parse_channel_page(raw, url="https://t.me/s/topwar_official")
    # Read the expected ids and times straight from the markup, independently of the parser.
    text = raw.decode()
    ids = [int(n) for n in re.findall(r'data-post="topwar_official/(\d+)"', text)]
    times = re.findall(r'<time\s+datetime="([^"]+)" class="time"', text)
    assert len(ids) == 12
    assert len(times) == 12
    assert [item.post_id for item in page.items] == ids
    assert [item.published_at for item in page.items] == [
        datetime.fromisoformat(stamp).astimezone(UTC) for stamp in times]
    assert {item.channel for item in page.items} == {"topwar_official"}
    assert page.items[0].url == "https://t.me/topwar_official/70989"
    assert page.lowest_post_id == 70989
    assert page.before_url == "https://t.me/s/topwar_official?before=70989"


def test_full_page_texts_views_and_media(shared_data: Path) -> None:
    page = parse_channel_page(_tme(shared_data, "full.html"))
    items = {item.post_id: item for item in page.items}
    first = items[70989]
    assert first.text.startswith("В Санкт-Петербурге в небо над городом подняли истребители")
    assert first.text.endswith("сообщает Baza.\nСудя по сервису Flightradar, гражданские "
                               "самолеты не приближаются к Санкт-Петербургу.")
    assert first.views == 37_200
    assert first.media == ["photo"]
    # An album whose text block is nested in another text block: the text appears once.
    album = items[70992]
    assert album.text.count("Сегодня ночью в Республике Адыгея") == 1
    assert album.text.endswith("Ту-141 или Ту-143.")
    assert album.media == ["photo", "photo", "video"]
    assert items[70990].media == []
    assert all(item.text for item in items.values())
    assert all("<" not in item.text for item in items.values())


@pytest.mark.parametrize("name", [
    "message_link_preview.html", "message_link_preview_text_only.html",
    "message_link_preview_video.html", "message_media_file.html",
    "message_media_forwarded_from.html", "message_media_photo_and_video.html",
    "message_media_round_video.html", "message_poll.html", "message_sticker.html",
    "message_text.html", "message_voice.html", "message_with_from_author.html",
])
def test_every_message_fragment_parses_to_one_post(shared_data: Path, name: str) -> None:
    raw = _tme(shared_data, name)
    (item,) = parse_channel_page(raw).items
    post = re.search(r'data-post="([^"]+)/(\d+)"', raw.decode())
    assert post is not None
    assert (item.channel, item.post_id) == (post.group(1), int(post.group(2)))
    assert item.published_at is not None
    assert item.published_at.tzinfo == UTC
    assert item.views is not None
    assert item.views > 0


def test_fragment_details(shared_data: Path) -> None:
    def one(name: str):
        return parse_channel_page(_tme(shared_data, name)).items[0]

    assert one("message_media_forwarded_from.html").forwarded_from == "Пул N3"
    assert one("message_media_forwarded_from.html").views == 214_400
    assert one("message_media_file.html").media == ["document"]
    assert one("message_media_round_video.html").media == ["roundvideo"]
    assert one("message_voice.html").media == ["voice"]
    assert one("message_sticker.html").media == ["sticker"]
    poll = one("message_poll.html")
    assert poll.media == ["poll"]
    assert poll.text.splitlines()[0] == "Как лучше?"
    assert one("message_with_from_author.html").author.endswith("rkadiy Ivanov")
    preview = json.loads(one("message_link_preview.html").link_preview)
    assert preview["url"] == "https://vnnews.ru/georgiy-zotov-okkupaciya-volosatym-kr/"
    assert preview["title"] == "Георгий Зотов: ОККУПАЦИЯ ВОЛОСАТЫМ КРАБОМ"
    # A video inside a link preview is the preview's, not the post's.
    assert one("message_link_preview_video.html").media == []


@pytest.mark.parametrize(("name", "kinds"), [
    ("media_photo.html", ["photo"]),
    ("media_video.html", ["video"]),
    ("media_video_gif.html", ["gif"]),
    ("media_video_too_big.html", ["video"]),
    ("media_cicrle_video.html", ["roundvideo"]),
    ("poll.html", ["poll"]),
])
def test_media_fragments(shared_data: Path, name: str, kinds: list[str]) -> None:
    body = LexborHTMLParser(_tme(shared_data, name).decode()).body
    assert body is not None
    assert media_kinds(body) == kinds


@pytest.mark.parametrize("name", ["link_preview.html", "link_preview_video.html"])
def test_link_preview_fragments(shared_data: Path, name: str) -> None:
    body = LexborHTMLParser(_tme(shared_data, name).decode()).body
    assert body is not None
    preview = parse_link_preview(body)
    assert preview is not None
    assert preview.url
    assert preview.url.startswith("https://")
    assert preview.title
    assert preview.site


@pytest.mark.parametrize(("text", "views"), [
    ("1.2K", 1200), ("3.4M", 3_400_000), ("987", 987), ("37.2K", 37_200), ("214.4K", 214_400),
    ("1,5K", 1500), ("12K", 12_000), ("", None), ("many", None), (None, None),
])
def test_parse_views(text: str | None, views: int | None) -> None:
    assert parse_views(text) == views


def test_reply_quote_is_not_the_post_text_and_edits_are_seen() -> None:
    page = parse_channel_page((SAMPLES / "reply_edited.html").read_bytes(),
                              url="https://t.me/s/sample_channel")
    reply, second = page.items
    assert reply.text == "Sample reply post, line one.\nLine two with bold & a link."
    assert "QUOTED" not in reply.text
    assert reply.views == 3_400_000
    assert reply.edited is True
    assert reply.author == "Sample Editor"
    assert second.edited is False
    assert second.published_at == datetime(2023, 5, 21, 4, 0, tzinfo=UTC)
    assert page.lowest_post_id == 501
    assert page.before_url == "https://t.me/s/sample_channel?before=501"


def test_no_messages_found_is_zero_items_not_an_error() -> None:
    page = parse_channel_page((SAMPLES / "empty.html").read_bytes())
    assert page.items == []
    assert page.before_url is None
    assert page.lowest_post_id is None


@pytest.mark.parametrize("name", ["changed_markup.html", "unknown_page.html"])
def test_unknown_markup_is_layout_changed(name: str) -> None:
    with pytest.raises(LayoutChanged, match="layout changed"):
        parse_channel_page((SAMPLES / name).read_bytes(), url="https://t.me/s/sample_channel")


def test_channel_without_preview_is_named_as_such() -> None:
    with pytest.raises(ChannelUnavailable, match="no public web preview"):
        parse_channel_page((SAMPLES / "no_preview.html").read_bytes())


def test_deeply_nested_text_does_not_overflow() -> None:
    depth = 5000
    html = ('<div class="tgme_widget_message" data-post="sample_channel/1">'
            '<div class="tgme_widget_message_text">' + "<span>" * depth + "deep"
            + "</span>" * depth + "</div></div>")
    (item,) = parse_channel_page(html).items
    assert item.text == "deep"
