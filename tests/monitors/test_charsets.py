"""Feed charsets: KOI8-R, windows-1251, UTF-8 and Latin-1 feeds, declared, undeclared or declared
wrong, fetched through the real HTTP fetch from 127.0.0.1 and stored as the text they carry."""

from __future__ import annotations

import pytest
import sqlite_utils

from config import FeedConfig, Settings
from monitors.charsets import decide_charset
from monitors.fetch import fetch_feed
from monitors.telegram import parse_channel_page
from store.feeds import add_feed

RUSSIAN = "Как пережить зиму: командование опять молчит, а снарядов нет. Шойгу обещал."
LATIN = "Über Öl und Äpfel: les élèves étaient très fâchés, garçon. Déjà vu!"


def rss(text: str, encoding: str, prolog: str | None) -> bytes:
    """One-item RSS of ``text`` in ``encoding``; ``prolog`` is the encoding the XML declares."""
    declaration = f' encoding="{prolog}"' if prolog else ""
    return (f'<?xml version="1.0"{declaration}?><rss version="2.0"><channel><title>{text[:12]}'
            f"</title><item><title>{text[:24]}</title><guid>g1</guid>"
            f"<description>{text}</description></item></channel></rss>").encode(encoding)


# (case, text, bytes' encoding, Content-Type charset, XML prolog encoding)
FEEDS = [
    ("koi8-r undeclared", RUSSIAN, "koi8-r", None, None),
    ("koi8-r declared", RUSSIAN, "koi8-r", "koi8-r", None),
    ("koi8-r in the prolog only", RUSSIAN, "koi8-r", None, "koi8-r"),
    ("koi8-r sent as windows-1251", RUSSIAN, "koi8-r", "windows-1251", None),
    ("windows-1251 undeclared", RUSSIAN, "cp1251", None, None),
    ("windows-1251 declared", RUSSIAN, "cp1251", "windows-1251", None),
    ("windows-1251 sent as utf-8", RUSSIAN, "cp1251", "utf-8", "utf-8"),
    ("windows-1251 sent as koi8-r", RUSSIAN, "cp1251", "koi8-r", None),
    ("utf-8 undeclared", RUSSIAN, "utf-8", None, None),
    ("utf-8 declared", RUSSIAN, "utf-8", "utf-8", "utf-8"),
    ("utf-8 with the prolog saying windows-1251", RUSSIAN, "utf-8", None, "windows-1251"),
    ("latin-1 undeclared", LATIN, "latin-1", None, None),
    ("latin-1 declared", LATIN, "latin-1", "iso-8859-1", None),
    ("latin-1 in the prolog only", LATIN, "latin-1", None, "iso-8859-1"),
    ("latin-1 sent as utf-8", LATIN, "latin-1", "utf-8", None),
]


@pytest.mark.parametrize(("text", "encoding", "header", "prolog"),
                         [case[1:] for case in FEEDS], ids=[case[0] for case in FEEDS])
def test_feed_is_stored_as_the_text_it_carries(
    feed_server, db: sqlite_utils.Database, settings: Settings,
    text: str, encoding: str, header: str | None, prolog: str | None,
) -> None:
    content_type = "application/rss+xml" + (f"; charset={header}" if header else "")
    url = feed_server.add("/feed.xml", rss(text, encoding, prolog), content_type=content_type)
    feed = add_feed(db, FeedConfig(name="news", kind="rss", role="news", url=url))
    outcome = fetch_feed(db, feed, settings)
    assert (outcome.status, outcome.items_new) == ("ok", 1), outcome
    stored = db.execute("SELECT title, text FROM items").fetchone()
    assert stored == (text[:24], text)


# (case, bytes, declarations strongest first, expected codec)
DECISIONS = [
    ("ascii keeps its declaration", b"<rss/>", ["koi8-r"], "koi8-r"),
    ("ascii without one is utf-8", b"<rss/>", [], "utf-8"),
    ("a byte-order mark wins", "\ufeffЗима".encode("utf-8"), ["cp1251"], "utf-8-sig"),
    ("utf-16 without a mark", "<rss/>".encode("utf-16-le"), [], "utf-16-le"),
    ("latin-1 declared stays latin-1", LATIN.encode("latin-1"), ["latin-1"], "iso8859-1"),
    ("Portuguese latin-1 is not read as 1251", "Notícias: informação, opinião e ação".encode(
        "latin-1"), [], "cp1252"),
    ("utf-8 with a stray bad byte stays utf-8", "Шойгу где снаряды?".encode().replace(
        "где".encode(), b"\xff\xfe"), ["utf-8"], "utf-8"),
    ("an unknown label is ignored", RUSSIAN.encode("koi8-r"), ["x-no-such"], "koi8-r"),
    ("the first good declaration wins", RUSSIAN.encode("cp1251"), ["koi8-r", "cp1251"], "cp1251"),
]


@pytest.mark.parametrize(("body", "declared", "expected"), [case[1:] for case in DECISIONS],
                         ids=[case[0] for case in DECISIONS])
def test_decide_charset(body: bytes, declared: list[str], expected: str) -> None:
    assert decide_charset(body, declared) == expected


def test_telegram_page_in_windows_1251_declared_as_utf8_reads_as_cyrillic() -> None:
    page = ('<html><head><meta charset="utf-8"></head><body><section class="tgme_channel_history">'
            '<div class="tgme_widget_message_wrap"><div class="tgme_widget_message" '
            f'data-post="alpha/7"><div class="tgme_widget_message_text">{RUSSIAN}</div>'
            "</div></div></section></body></html>").encode("cp1251")
    items = parse_channel_page(page, charset="utf-8").items
    assert [item.text for item in items] == [RUSSIAN]
