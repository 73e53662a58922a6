"""Rank the channels the watched ones amplify but riftwatch does not watch: the candidate feeds
of ``riftwatch discover``, ``/discover`` and the digest's "Amplified but not watched".

Ranks the tallies ``store.unwatched`` reads; never renders.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlite_utils

from config.telegram_names import is_username
from digest.model import UnwatchedChannel
from store.unwatched import UnwatchedTally, unwatched_channel_tallies


def _candidate(tally: UnwatchedTally) -> UnwatchedChannel:
    share = tally.critical / tally.scored if tally.scored else None
    return UnwatchedChannel(
        channel=tally.target.lower(), channels=len(tally.sources), picked_up_by=tally.sources,
        pickups=tally.pickups, by_kind=tally.by_kind, scored=tally.scored,
        critical=tally.critical, critical_share=share, first_seen=tally.first_seen,
        last_seen=tally.last_seen)


def _rank_key(candidate: UnwatchedChannel) -> tuple[int, int, float, str]:
    share = candidate.critical_share if candidate.critical_share is not None else -1.0
    return (-candidate.channels, -candidate.pickups, -share, candidate.channel)


def rank_unwatched(tallies: Iterable[UnwatchedTally]) -> list[UnwatchedChannel]:
    """Candidates, first those picked up by the most distinct watched channels, then by the
    most posts, then with the larger critical share (unscored last), then by name.

    A name that is no public username (a "Forwarded from" title without a link: a person or
    a private channel) is left out, since it cannot be watched.
    """
    return sorted((_candidate(tally) for tally in tallies if is_username(tally.target)),
                  key=_rank_key)


def discover_channels(db: sqlite_utils.Database, since: datetime, until: datetime,
                      model_version: str | None) -> list[UnwatchedChannel]:
    """The ranked unwatched channels the watched ones passed on in [since, until)."""
    return rank_unwatched(unwatched_channel_tallies(db, since, until, model_version))
