"""HTML to plain text: breaks kept, markup and scripts dropped, hostile input survived."""

from __future__ import annotations

import pytest

from monitors.html_text import html_to_text


@pytest.mark.parametrize(("html", "text"), [
    ("<p>One <b>bold</b></p><p>Two<br>three</p>", "One bold\n\nTwo\nthree"),
    ("<ul><li>a</li><li>b</li></ul>", "a\nb"),
    ("Tom &amp; Jerry&nbsp;&lt;3", "Tom & Jerry <3"),
    ("  spaced\n\n   out  ", "spaced out"),
    ("<script>alert(1)</script><style>p{}</style>kept", "kept"),
    ('<img src=x onerror="alert(1)">caption', "caption"),
    ("", ""),
    ("plain, no markup", "plain, no markup"),
])
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_unicode_controls_and_emoji_pass_through() -> None:
    source = "<p>\u200bzero\u200dwidth \u202eRTL\u202c 🔥</p>"
    assert html_to_text(source) == "\u200bzero\u200dwidth \u202eRTL\u202c 🔥"


def test_long_and_unclosed_markup() -> None:
    text = html_to_text("<div>" * 20_000 + "x" * 100_000)
    assert text == "x" * 100_000
