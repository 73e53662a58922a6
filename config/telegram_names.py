"""Public Telegram usernames: the one parser that config, monitors and edge extraction share.

Telegram's rule: letters, digits and underscores, starting with a letter, case-insensitive,
at most 32 characters. A name a user picks today needs at least 5, but collectible names
(sold on Fragment since 2022, e.g. ``@chat``) and a few legacy ones have 4, and channels
with such names have working ``t.me/s/`` previews; so 4 to 32 is accepted everywhere. Never
fetches anything.
"""

from __future__ import annotations

import re

# A public username, as a regex fragment: 4-32 characters, a letter first.
USERNAME = r"[A-Za-z][A-Za-z0-9_]{3,31}"
_END = r"(?![A-Za-z0-9_])"  # a name ends where the word does: never a longer name's prefix
_TME_PREFIX = r"(?:https?://)?(?:www\.)?(?:t|telegram)\.me/"

_BARE = re.compile(rf"^{USERNAME}$")
# Any t.me path of one segment (``t.me/NAME``, ``t.me/s/NAME``): the name is checked after,
# so ``t.me/ab`` is said to be a bad name rather than taken for a URL.
_TME_PATH = re.compile(rf"^{_TME_PREFIX}(?:s/)?([^/?#\s]+)/?$", re.IGNORECASE)

MENTION = re.compile(rf"(?<![\w@./])@({USERNAME}){_END}")
"""``@name`` in running text (not an e-mail address, not a path)."""
TME_REFERENCE = re.compile(rf"{_TME_PREFIX}(?:s/)?({USERNAME}){_END}(?:/(\d+))?",
                           re.IGNORECASE)
"""``t.me/name`` or ``t.me/name/123`` anywhere in a text or a link: (name, post id)."""
POST_PATH = re.compile(rf"^({USERNAME})/(\d+)$")
"""``name/123``, as a t.me/s preview's ``data-post`` gives a post."""


def is_username(text: str) -> bool:
    """Whether ``text`` is a public username by Telegram's rule (4-32 characters)."""
    return bool(_BARE.match(text))


def is_tme_path(text: str) -> bool:
    """Whether ``text`` is a one-segment t.me address (``t.me/NAME``, ``https://t.me/s/NAME``)."""
    return bool(_TME_PATH.match(text.strip()))


def is_channel_source(text: str) -> bool:
    """Whether a user typed a Telegram channel (``@NAME``, ``t.me/NAME``) rather than a URL."""
    return text.strip().startswith("@") or is_tme_path(text)


def normalise_channel(value: str) -> str:
    """Turn ``@name``, ``t.me/name`` or ``https://t.me/s/name`` into the bare channel name.

    ValueError when the name is not a public username.
    """
    text = value.strip()
    match = _TME_PATH.match(text)
    name = match.group(1) if match else text.lstrip("@")
    if not is_username(name):
        raise ValueError(f"{value!r} is not a public Telegram channel name "
                         "(4-32 letters, digits or _, starting with a letter)")
    return name


def channel_of(url: str) -> str | None:
    """The channel a one-segment t.me address names, else None."""
    match = _TME_PATH.match(url.strip())
    return match.group(1) if match and is_username(match.group(1)) else None
