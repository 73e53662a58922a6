"""The digest's sections, chosen once from a composed ``Digest``: which appear, in what order,
and which rows each shows. Never words, formats or escapes anything.

``render_text`` and ``telegram_html`` are two formatters of these sections: each maps every
section type to a function that words it. Adding a section is one builder here (appended to
``_BUILDERS``) and one wording function per formatter; ``tests/digest/test_sections.py`` fails
until both formatters word every section type. A section whose words are the same in every
format can be a ``Block`` of spans instead, which both formatters already know.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from config.settings import Settings
from config.themes import STANCE_NAMES
from digest.model import (
    ChangedPost,
    ChannelRow,
    Digest,
    FeedHealth,
    NewTarget,
    PostRef,
    Rift,
    Spreading,
    StanceMix,
    Storyline,
    StorylineReport,
    ThemeRow,
    UnwatchedChannel,
    ViewSpeed,
)


def _shown_default(setting: str) -> int:
    """The default of a ``Settings`` field, so that each number is written in one place."""
    return int(Settings.model_fields[setting].default)


@dataclass(frozen=True)
class SectionLimits:
    """How many rows a digest shows per section; what is cut is counted as 'and N more'.

    The defaults are the settings' defaults; ``from_settings`` takes the configured values.
    """

    themes: int = _shown_default("digest_themes_shown")
    posts_per_theme: int = _shown_default("digest_posts_per_theme")
    rifts: int = _shown_default("digest_rifts_shown")
    new_targets: int = _shown_default("digest_new_targets_shown")
    evidence_per_rift: int = _shown_default("digest_rift_evidence_shown")
    channels: int = _shown_default("digest_channels_shown")
    unwatched: int = _shown_default("digest_unwatched_shown")
    changes: int = _shown_default("digest_changes_shown")
    storylines: int = _shown_default("digest_storylines_shown")

    @classmethod
    def from_settings(cls, settings: Settings) -> SectionLimits:
        return cls(themes=settings.digest_themes_shown,
                   posts_per_theme=settings.digest_posts_per_theme,
                   rifts=settings.digest_rifts_shown,
                   new_targets=settings.digest_new_targets_shown,
                   evidence_per_rift=settings.digest_rift_evidence_shown,
                   channels=settings.digest_channels_shown,
                   unwatched=settings.digest_unwatched_shown,
                   changes=settings.digest_changes_shown,
                   storylines=settings.digest_storylines_shown)


# ---------------------------------------------------------------- spans, for Block sections


@dataclass(frozen=True)
class Span:
    """A run of text with an emphasis; formatters decide how each looks (and escape)."""

    text: str
    style: str = "plain"  # plain, strong, emphasis, code, removed, added (words of an edit)
    url: str | None = None  # a link around the text, where the format has links


Line = tuple[Span, ...]


# ---------------------------------------------------------------- sections


@dataclass(frozen=True)
class Header:
    since: datetime
    until: datetime
    total_items: int
    items_by_role: dict[str, int]
    scored_items: int
    model_version: str | None
    channel_filter: str | None
    theme_filter: str | None  # the theme's label, when the digest is filtered to one


@dataclass(frozen=True)
class NoPosts:
    """The window holds no posts at all."""


@dataclass(frozen=True)
class Spikes:
    rows: list[ThemeRow]
    baseline_days: int
    subject_role: str


@dataclass(frozen=True)
class StanceUnscored:
    """The window has posts, but none of them is scored yet."""


@dataclass(frozen=True)
class StanceNoneScored:
    """Posts are scored, but none of ``subject_role``'s."""

    subject_role: str


@dataclass(frozen=True)
class StanceRow:
    """One stance's share now, over the baseline days and among the news."""

    stance: str
    share: float
    baseline_share: float
    news_share: float


@dataclass(frozen=True)
class Stance:
    mix: StanceMix  # total > 0
    rows: list[StanceRow]  # one a stance, in STANCE_NAMES order
    baseline_days: int
    subject_role: str


@dataclass(frozen=True)
class Themes:
    rows: list[ThemeRow]  # themes that occur in the window, most frequent first
    baseline_days: int
    subject_role: str


@dataclass(frozen=True)
class Rifts:
    rifts: list[Rift]  # evidence already cut to SectionLimits.evidence_per_rift
    more: int


@dataclass(frozen=True)
class NewTargets:
    """Parties first attacked in the window; unlisted ones are candidates for the config."""

    targets: list[NewTarget]
    more: int


@dataclass(frozen=True)
class SpreadingSection:
    """Critical posts other watched channels passed on, and the top amplifier pairs."""

    spreading: Spreading


@dataclass(frozen=True)
class TopPosts:
    groups: list[tuple[str, list[PostRef]]]  # (theme label, its best posts)


@dataclass(frozen=True)
class Newest:
    posts: list[PostRef]


@dataclass(frozen=True)
class Channels:
    rows: list[ChannelRow]
    more: int
    theme_labels: dict[str, str]


@dataclass(frozen=True)
class Health:
    ok: int
    failing: list[FeedHealth]  # enabled feeds whose last fetch failed


@dataclass(frozen=True)
class Block:
    """A section worded once, for every format: a title and lines of spans."""

    title: str
    lines: list[Line] = field(default_factory=list)


Section = (Header | NoPosts | Spikes | StanceUnscored | StanceNoneScored | Stance | Themes
           | Rifts | NewTargets | SpreadingSection | TopPosts | Newest | Channels | Health
           | Block)
SECTION_TYPES: tuple[type, ...] = (Header, NoPosts, Spikes, StanceUnscored, StanceNoneScored,
                                   Stance, Themes, Rifts, NewTargets, SpreadingSection, TopPosts,
                                   Newest, Channels, Health, Block)


# ---------------------------------------------------------------- shared judgements


class LiftKind(Enum):
    """What a theme's lift means, before any format words it."""

    NONE_NOW = "none now"  # the theme does not occur in the window
    NEW = "new"  # it occurs now and never in the baseline
    NO_BASELINE = "no baseline"  # nothing to compare with yet
    RATIO = "ratio"  # a number of times its normal


def lift_kind(row: ThemeRow) -> LiftKind:
    if row.count == 0:
        return LiftKind.NONE_NOW
    if math.isinf(row.lift) or (row.baseline_share == 0 and row.share > 0):
        return LiftKind.NEW
    if math.isnan(row.lift):
        return LiftKind.NO_BASELINE
    return LiftKind.RATIO


def in_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive time is taken to be UTC already (as the store keeps them)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def theme_label(digest: Digest, theme: str) -> str:
    """A theme's label as the digest's rows name it; the bare name for an unknown theme."""
    return next((row.label for row in digest.themes if row.theme == theme), theme)


# ---------------------------------------------------------------- builders, in digest order


def _header(digest: Digest, limits: SectionLimits) -> Header:
    theme = theme_label(digest, digest.theme_filter) if digest.theme_filter else None
    return Header(digest.since, digest.until, digest.total_items, digest.items_by_role,
                  digest.scored_items, digest.model_version, digest.channel_filter, theme)


def _no_posts(digest: Digest, limits: SectionLimits) -> NoPosts | None:
    return NoPosts() if digest.total_items == 0 else None


def _spikes(digest: Digest, limits: SectionLimits) -> Spikes | None:
    return Spikes(digest.spikes, digest.baseline_days, digest.subject_role) \
        if digest.spikes else None


def _stance(digest: Digest, limits: SectionLimits
            ) -> StanceUnscored | StanceNoneScored | Stance | None:
    """Whichever stance section the window calls for (none when it has no posts)."""
    mix = digest.stance
    if digest.total_items == 0:
        return None
    if mix is None or digest.scored_items == 0:
        return StanceUnscored()
    if mix.total == 0:
        return StanceNoneScored(digest.subject_role)
    rows = [StanceRow(name, mix.shares.get(name, 0.0), mix.baseline_shares.get(name, 0.0),
                      mix.news_shares.get(name, 0.0)) for name in STANCE_NAMES]
    return Stance(mix, rows, digest.baseline_days, digest.subject_role)


def _themes(digest: Digest, limits: SectionLimits) -> Themes | None:
    rows = [row for row in digest.themes if row.count > 0][:limits.themes]
    return Themes(rows, digest.baseline_days, digest.subject_role) if rows else None


def _rifts(digest: Digest, limits: SectionLimits) -> Rifts | None:
    if not digest.rifts:
        return None
    shown = [Rift(rift.source, rift.source_title, rift.target, rift.target_label, rift.count,
                  rift.evidence[:limits.evidence_per_rift])
             for rift in digest.rifts[:limits.rifts]]
    return Rifts(shown, len(digest.rifts) - len(shown))


def _new_targets(digest: Digest, limits: SectionLimits) -> NewTargets | None:
    if not digest.new_targets:
        return None
    shown = digest.new_targets[:limits.new_targets]
    return NewTargets(shown, len(digest.new_targets) - len(shown))


def new_target_words(target: NewTarget) -> tuple[str, str]:
    """(the target's name, its tally) in words every format shares, before any escaping."""
    posts = "post" if target.posts == 1 else "posts"
    channels = "channel" if target.channels == 1 else "channels"
    tally = f"{target.posts} {posts}, {target.channels} {channels}"
    return target.label, tally + (" (unlisted: /candidates)" if target.unlisted else "")


def _spreading(digest: Digest, limits: SectionLimits) -> SpreadingSection | None:
    """In every scored digest, saying so when nothing spread."""
    return SpreadingSection(digest.spreading) if digest.spreading is not None else None


PICKERS_NAMED = 3  # watched channels a candidate's line names before "…"


def unwatched_words(candidate: UnwatchedChannel) -> str:
    """'picked up by 2 watched channels (a, b) in 3 posts, 67% critical', before escaping."""
    channels = "channel" if candidate.channels == 1 else "channels"
    names = ", ".join(candidate.picked_up_by[:PICKERS_NAMED])
    names += ", …" if len(candidate.picked_up_by) > PICKERS_NAMED else ""
    posts = "post" if candidate.pickups == 1 else "posts"
    share = candidate.critical_share
    critical = f"{share * 100:.0f}% critical" if share is not None else "not scored yet"
    return (f"picked up by {candidate.channels} watched {channels} ({names}) in "
            f"{candidate.pickups} {posts}, {critical}")


def _unwatched(digest: Digest, limits: SectionLimits) -> Block | None:
    """Channels the watched ones pass on but riftwatch does not watch, worded once."""
    if not digest.unwatched:
        return None
    lines: list[Line] = [(Span(f"@{candidate.channel}", "strong"),
                          Span(f": {unwatched_words(candidate)}"))
                         for candidate in digest.unwatched[:limits.unwatched]]
    more = len(digest.unwatched) - limits.unwatched
    if more > 0:
        lines.append((Span(f"… and {more} more: "), Span("/discover", "code")))
    return Block("Amplified but not watched", lines)


def change_mark(post: PostRef) -> str:
    """' (deleted)', ' (edited)' or '' after a quoted post, in every format."""
    return " (deleted)" if post.deleted else " (edited)" if post.edited else ""


def _when(moment: datetime | None) -> str:
    return in_utc(moment).strftime("%Y-%m-%d %H:%M") if moment else "?"


def _quote_line(post: PostRef) -> Line:
    """A quoted post's second line: its quote and its link (its #id when it has no address)."""
    return (Span("    «"), Span(post.quote, "emphasis"), Span("» "),
            Span(post.url or f"#{post.item_id}", "plain", post.url))


def _runs(label: str, runs: list[str], style: str) -> Line:
    spans: list[Span] = [Span(f"    {label}: ")]
    for number, run in enumerate(runs):
        spans += [Span(" … ")] * (number > 0) + [Span(run, style)]
    return tuple(spans)


def _changed_lines(change: ChangedPost) -> list[Line]:
    post = change.post
    what = "deleted" if change.deleted else f"edited ({change.versions} versions)"
    if change.deleted and change.versions > 1:
        what += f" after {change.versions - 1} edit{'s' * (change.versions > 2)}"
    stance = post.stance or "awaiting rescoring"
    if change.stance_before:
        stance = f"was {change.stance_before}, now {stance}"
    lines: list[Line] = [
        (Span(post.feed_title or post.feed_name, "strong"),
         Span(f" {_when(post.published_at)}: {what} {_when(change.changed_at)} ({stance})")),
        _quote_line(post),
    ]
    if change.removed:
        lines.append(_runs("removed", change.removed, "removed"))
    if change.added:
        lines.append(_runs("added", change.added, "added"))
    return lines


def changes_block(changes: Sequence[ChangedPost], shown: int) -> Block | None:
    """The "Deleted or edited" section (the digest's and ``/changes``), ``shown`` posts at most,
    with what each edit removed; None when nothing changed."""
    if not changes:
        return None
    lines = [line for change in changes[:shown] for line in _changed_lines(change)]
    if len(changes) > shown:
        lines.append((Span(f"… and {len(changes) - shown} more"),))
    return Block("Deleted or edited (critical posts)", lines)


def _deleted_or_edited(digest: Digest, limits: SectionLimits) -> Block | None:
    return changes_block(digest.changes, limits.changes)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def _storyline_lines(storyline: Storyline) -> list[Line]:
    post = storyline.central
    copies = f" ({storyline.copies} of them reposts)" * (storyline.copies > 0)
    channels = ", ".join(storyline.channels)
    return [
        (Span(" · ".join(storyline.lemmas) or "?", "strong"),
         Span(f": {_plural(storyline.posts, 'post')}{copies} from "
              f"{_plural(len(storyline.channels), 'channel')} ({channels})")),
        (Span(f"    {post.feed_title or post.feed_name} {_when(post.published_at)}"
              f"{change_mark(post)}:"),),
        _quote_line(post),
    ]


def storylines_block(report: StorylineReport | None, shown: int) -> Block | None:
    """The "New storylines" section (the digest's and ``/storylines``): ``shown`` new storylines
    at most, each named by its lemmas and its most central post; None when none is new."""
    if report is None or not (new := report.new):
        return None
    lines = [line for storyline in new[:shown] for line in _storyline_lines(storyline)]
    if len(new) > shown:
        lines.append((Span(f"… and {len(new) - shown} more"),))
    if report.without_vector:
        lines.append((Span(f"({_plural(report.without_vector, 'critical post')} without a "
                           "search vector left out: "), Span("riftwatch reindex", "code"),
                      Span(")")))
    return Block(f"New storylines (critical posts, unlike the previous {report.novelty_days} "
                 "days')", lines)


def _new_storylines(digest: Digest, limits: SectionLimits) -> Block | None:
    return storylines_block(digest.storylines, limits.storylines)


def _speed_lines(speed: ViewSpeed) -> list[Line]:
    post = speed.post
    return [
        (Span(post.feed_title or post.feed_name, "strong"),
         Span(f" {_when(post.published_at)}{change_mark(post)}: {speed.views:,} views in "
              f"{speed.age_hours:.1f} h, {speed.per_hour:,.0f}/h = {speed.ratio:.1f}x the "
              f"channel's usual at that age ({speed.usual_per_hour:,.0f}/h, median of "
              f"{speed.channel_posts} posts)")),
        _quote_line(post),
    ]


def _fastest_by_views(digest: Digest, limits: SectionLimits) -> Block | None:
    """The critical posts whose views climb fastest against their channel's usual."""
    if not digest.fastest_by_views:
        return None
    return Block("Fastest-spreading critical posts by views",
                 [line for speed in digest.fastest_by_views for line in _speed_lines(speed)])


def _quoted_groups(digest: Digest, limits: SectionLimits) -> list[tuple[str, list[PostRef]]]:
    return [(theme_label(digest, theme), posts[:limits.posts_per_theme])
            for theme, posts in digest.top_posts.items() if posts]


def _top_posts(digest: Digest, limits: SectionLimits) -> TopPosts | None:
    groups = _quoted_groups(digest, limits)
    return TopPosts(groups) if groups else None


def _newest(digest: Digest, limits: SectionLimits) -> Newest | None:
    """The newest posts, only when no post is quoted under a theme."""
    if not digest.newest or _quoted_groups(digest, limits):
        return None
    return Newest(digest.newest)


def _channels(digest: Digest, limits: SectionLimits) -> Channels | None:
    if not digest.channels:
        return None
    rows = digest.channels[:limits.channels]
    labels = {row.top_theme: theme_label(digest, row.top_theme) for row in rows if row.top_theme}
    return Channels(rows, len(digest.channels) - len(rows), labels)


def _health(digest: Digest, limits: SectionLimits) -> Health | None:
    """Enabled feeds only: a paused feed is neither ok nor failing."""
    feeds = [feed for feed in digest.health if feed.enabled]
    if not feeds:
        return None
    failing = [feed for feed in feeds if feed.last_error and feed.error_count]
    return Health(len(feeds) - len(failing), failing)


Builder = Callable[[Digest, SectionLimits], Section | None]
_BUILDERS: Sequence[Builder] = (_header, _no_posts, _spikes, _stance, _themes, _rifts,
                                _new_targets, _spreading, _fastest_by_views, _unwatched,
                                _deleted_or_edited, _new_storylines, _top_posts, _newest,
                                _channels, _health)


def digest_sections(digest: Digest, limits: SectionLimits | None = None) -> list[Section]:
    """The sections of ``digest`` that have something to say, in the order a digest reads."""
    chosen = limits or SectionLimits()
    built = (builder(digest, chosen) for builder in _BUILDERS)
    return [section for section in built if section is not None]


# ---------------------------------------------------------------- the formatters' common frame

Wording = Mapping[type, Callable[[Any], list[str]]]


def missing_wording(wording: Wording) -> list[str]:
    """Names of the section types a formatter does not word (empty when it words them all)."""
    return [kind.__name__ for kind in SECTION_TYPES if kind not in wording]


def word_groups(heading: str, groups: Sequence[tuple[str, Sequence[PostRef]]],
                label_line: Callable[[str], str], post_line: Callable[[PostRef], str]
                ) -> list[str]:
    """A heading, then each group's label line followed by its post lines."""
    lines = [heading]
    for label, posts in groups:
        lines.append(label_line(label))
        lines.extend(post_line(post) for post in posts)
    return lines


def word_sections(sections: Sequence[Section], wording: Wording) -> str:
    """Each section worded by ``wording[type(section)]``, a blank line between sections."""
    return "\n\n".join("\n".join(wording[type(section)](section)) for section in sections)
