"""Make untrusted text (channel, forward and target names, post quotes) safe to show: no control
or bidi characters, on a terminal, in Telegram, in a file. Every name and quote riftwatch
prints, sends or writes for people passes here; it never decides what text says.

A terminal runs escape sequences (``\\x1b]0;…\\x07``, ``\\x1b[2J``), a CR or NUL rewrites the
line, a bidi override reorders the rest of it ("Trojan Source"), and XML 1.0 has no way to
write most C0 controls, so GEXF with one is ill-formed.
"""

from __future__ import annotations

import html
import re
from typing import Any

# Line and page breaks, tabs and separators: a space, so "a\r\nb" stays two words.
_BREAKS = re.compile("[\t\n\x0b\x0c\r\x1c-\x1f\x85\u2028\u2029]")
# Every other C0 and C1 control and DEL; bidi embeddings, overrides and isolates (marks, LRM
# and RLM, are harmless and stay); lone surrogates (no UTF-8) and U+FFFE/U+FFFF (no XML).
_DROPPED = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069"
                      "\ud800-\udfff\ufffe\uffff]")
_EITHER = re.compile(f"{_BREAKS.pattern}|{_DROPPED.pattern}")  # one scan for the usual clean text


def printable(text: str) -> str:
    """``text`` on one line with no control or bidi characters: breaks and tabs become spaces,
    the rest are dropped. Anything else (emoji, joiners, combining marks) stays as it was."""
    if _EITHER.search(text) is None:
        return text
    return _DROPPED.sub("", _BREAKS.sub(" ", text))


def printable_lines(text: str) -> str:
    """``text`` with its line breaks (``\\n``) kept and every line ``printable``."""
    return "\n".join(printable(line) for line in text.split("\n"))


def printable_data(value: Any) -> Any:
    """JSON-ready data (dicts, lists, strings, numbers) with every string ``printable``."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_data(key): printable_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [printable_data(item) for item in value]
    return value


def escape_html(text: object) -> str:
    """Untrusted text for Telegram HTML: ``printable``, then ``<``, ``>`` and ``&`` escaped."""
    return html.escape(printable(str(text)), quote=False)
