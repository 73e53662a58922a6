"""How an error line repeats what a user typed: quoted, on one line, and short.

Formats only; never decides whether input is valid. Every layer may use it, since every layer
may import ``config``.
"""

from __future__ import annotations

ECHO_CHARS = 40  # the most characters of a user's input an error line repeats
NAME_ECHO_CHARS = 200  # ... of a path or a setting's name, which are longer when they are right


def quote_input(text: str, limit: int = ECHO_CHARS) -> str:
    """``text`` as ``repr`` shows it (controls escaped), cut to ``limit`` characters with ``…``."""
    shown = text if len(text) <= limit else f"{text[:limit]}…"
    return repr(shown)


def quote_value(value: object, limit: int = ECHO_CHARS) -> str:
    """Any value a user gave (a string, a number, a list from a TOML file) as ``quote_input``
    shows a string, or as its cut ``repr``."""
    if isinstance(value, str):
        return quote_input(value, limit)
    try:
        shown = repr(value)
    except ValueError:  # an integer of more digits than Python will print
        return f"a {type(value).__name__} too long to show"
    return shown if len(shown) <= limit else f"{shown[:limit]}…"


def shorten_name(text: str, limit: int = NAME_ECHO_CHARS) -> str:
    """A path or name as given, its middle cut out with ``…`` when longer than ``limit``, so
    its start and its end (a file's name) both show."""
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return f"{text[:half]}…{text[-half:]}"
