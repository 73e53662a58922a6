"""Time zone names, checked in one place: settings, /subscribe and the delivery schedule ask here.

Looks a name up in the IANA database; never converts times.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.echo import quote_input
from config.errors import RiftwatchError

LONGEST_ZONE_NAME = 64  # the longest IANA name is about half this
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")


class UnknownTimezone(RiftwatchError, ValueError):
    """Not a time zone the IANA database knows; ``str()`` says what would be one."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown time zone {quote_input(name)}; "
                         "use an IANA name such as Europe/Berlin or UTC")


def zone_named(name: str) -> ZoneInfo:
    """The zone called ``name``; UnknownTimezone for anything else, however it fails.

    The shape is checked before the lookup, so no path (``../``, ``/etc/…``), control
    character or overlong name reaches the file system, where it would fail with OSError.
    """
    if len(name) > LONGEST_ZONE_NAME or not _ZONE_NAME.fullmatch(name):
        raise UnknownTimezone(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimezone(name) from None
