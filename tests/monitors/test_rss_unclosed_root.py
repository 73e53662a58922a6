"""A feed whose last closing tag lacks its ``>`` is read when every entry is whole (issue 13.7);
a feed cut inside an entry is still refused, so no half post is stored."""

from __future__ import annotations

import pytest

from monitors.errors import InvalidFeed
from monitors.rss import parse_feed

RSS = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
       b"<item><title>One</title><link>https://news.example/1</link><guid>g1</guid>"
       b"<description>first post</description></item>"
       b"<item><title>Two</title><link>https://news.example/2</link><guid>g2</guid>"
       b"<description>second post</description></item>")
ATOM = (b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        b"<title>t</title><entry><title>One</title><id>urn:1</id>"
        b'<link href="https://news.example/a1"/><summary>first</summary></entry>')


@pytest.mark.parametrize("body", [RSS + b"</channel></rss", RSS + b"</channel></rss \n",
                                  RSS + b"</channel></", RSS + b"</channel>\n"],
                         ids=["rss-no-gt", "rss-no-gt-space", "bare-slash", "no-root-end"])
def test_complete_entries_before_an_unclosed_root_are_read(body: bytes) -> None:
    items = parse_feed(body, "application/rss+xml", "https://news.example/rss")
    assert [(item.guid, item.text) for item in items] == [("g1", "first post"),
                                                          ("g2", "second post")]


def test_atom_with_an_unclosed_root_is_read() -> None:
    items = parse_feed(ATOM + b"</feed", "application/atom+xml", "https://news.example/atom")
    assert [item.guid for item in items] == ["urn:1"]


@pytest.mark.parametrize("cut", [b"<item><title>Three</title><guid>g", b"<item><title>Thr"])
def test_a_feed_cut_inside_an_entry_is_still_refused(cut: bytes) -> None:
    with pytest.raises(InvalidFeed, match="cut off before its end"):
        parse_feed(RSS + cut, "application/rss+xml", "https://news.example/rss")
