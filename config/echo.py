"""How an error line repeats what a user typed: quoted, on one line, and short.

Formats only; never decides whether input is valid. Every layer may use it, since every layer
may import ``config``.
"""

from __future__ import annotations

ECHO_CHARS = 40  # the most characters of a user's input an error line repeats


def quote_input(text: str, limit: int = ECHO_CHARS) -> str:
    """``text`` as ``repr`` shows it (controls escaped), cut to ``limit`` characters with ``…``."""
    shown = text if len(text) <= limit else f"{text[:limit]}…"
    return repr(shown)
