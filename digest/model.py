"""The plain data of a digest; every renderer (text, JSON, Telegram HTML, chart) reads only this."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from digest.printable import printable
from store.models import from_iso

# How much of a post is quoted, at most, in each place a quote appears:
DIGEST_QUOTE_CHARS = 240  # a composed digest's quote: what the plain text and JSON show
TELEGRAM_QUOTE_CHARS = 220  # a post's line in a Telegram digest or spike alert
SPREADING_QUOTE_CHARS = 200  # a spreading row, whose lines also carry the path and the link
READ_LANGUAGES = ("ru", "uk")  # the languages themes are built for; others are flagged


def trim_quote(text: str | None, limit: int = DIGEST_QUOTE_CHARS) -> str:
    """Collapse whitespace, drop control and bidi characters (``digest.printable``), cut at a
    word boundary with an ellipsis."""
    flat = " ".join(printable(text or "").split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


@dataclass
class PostRef:
    """One post quoted as evidence, with the stored figures a digest may print beside it.

    ``stance_probability`` is the stored ``p_<stance>`` of ``stance``; ``theme_probability``
    is the stored probability of ``theme`` (set only where the post is quoted for a theme).
    """

    item_id: int
    feed_name: str
    feed_title: str | None
    url: str | None
    published_at: datetime | None
    quote: str
    stance: str | None = None
    stance_probability: float | None = None
    theme: str | None = None
    theme_probability: float | None = None
    language: str | None = None  # the scored language (ISO 639-1 or "other"); None: unscored
    edited: bool = False  # riftwatch saw its text change (the quote is the latest text)
    deleted: bool = False  # covering fetches no longer show it

    @property
    def other_language(self) -> bool:
        """True when the post was scored as neither Russian nor Ukrainian."""
        return self.language is not None and self.language not in READ_LANGUAGES


@dataclass
class StanceMix:
    """Blogger stance counts in the window against the channels' own baseline and the news."""

    counts: dict[str, int]
    shares: dict[str, float]
    baseline_shares: dict[str, float]
    news_shares: dict[str, float]
    total: int
    baseline_total: int
    news_total: int


@dataclass
class ThemeRow:
    """One theme: its share among blogger posts now, against baseline and news, with lift."""

    theme: str
    label: str
    count: int
    total: int
    share: float
    baseline_count: int
    baseline_total: int
    baseline_share: float
    news_count: int
    news_total: int
    news_share: float
    lift: float
    z: float
    p_value: float
    news_lift: float
    spike: bool


@dataclass
class Rift:
    """A channel attacking a target, with how often and the best evidence."""

    source: str
    source_title: str | None
    target: str
    target_label: str
    count: int
    evidence: list[PostRef] = field(default_factory=list)


@dataclass
class NewTarget:
    """A party first attacked in the window: listed (with its label) or unlisted (named by the
    classifier, not yet in the config's target list)."""

    target: str
    label: str
    unlisted: bool
    posts: int
    channels: int


@dataclass
class ChannelRow:
    """One watched feed's activity in the window."""

    feed_name: str
    title: str | None
    role: str
    posts: int
    stance_counts: dict[str, int]
    top_theme: str | None
    last_post_at: datetime | None


@dataclass
class FeedHealth:
    """A feed's fetch health, for the digest's footer and /feeds."""

    name: str
    role: str
    kind: str
    enabled: bool
    last_success_at: str | None
    last_error: str | None
    error_count: int
    next_retry_at: str | None
    items_in_window: int
    failing_since: str | None = None  # first failure since the last success, while failing


@dataclass
class DailyShare:
    """One day of a theme's trend: share of blogger posts vs news items carrying it."""

    day: date
    blogger_count: int
    blogger_total: int
    blogger_share: float
    news_count: int
    news_total: int
    news_share: float


@dataclass
class Pickup:
    """One channel passing the post on: how, from whom, when, and its own post."""

    channel: str
    kind: str
    from_channel: str
    item_id: int
    url: str | None
    published_at: datetime | None


@dataclass
class SpreadPost:
    """A critical post and the other watched channels that picked it up, oldest first."""

    post: PostRef
    channels: int
    first_pickup: datetime | None
    last_pickup: datetime | None
    pickups: list[Pickup] = field(default_factory=list)


@dataclass
class AmplifierPair:
    """How often ``source`` passed ``target``'s posts on now, against its normal."""

    source: str
    target: str
    count: int
    total: int
    baseline_count: int
    baseline_total: int
    lift: float
    z: float


@dataclass
class Spreading:
    """The section's data: spread posts (most channels first) and top amplifier pairs."""

    posts: list[SpreadPost]
    pairs: list[AmplifierPair]
    min_channels: int
    baseline_days: int


@dataclass
class UnwatchedChannel:
    """A channel the watched ones pass on but riftwatch does not watch: a candidate feed.

    ``channels`` watched channels (``picked_up_by``) forwarded, mentioned or quoted it in
    ``pickups`` posts (``by_kind``); ``critical_share`` is the critical part of the scored
    ones (None when none is scored).
    """

    channel: str  # its public username, lower case
    channels: int
    picked_up_by: list[str]
    pickups: int
    by_kind: dict[str, int]
    scored: int
    critical: int
    critical_share: float | None
    first_seen: datetime | None
    last_seen: datetime | None

    @property
    def url(self) -> str:
        return f"https://t.me/{self.channel}"


@dataclass
class ChangedPost:
    """A critical post deleted or edited in the window: its latest text, and the word runs an
    edit took out of (and put into) its earliest kept text."""

    post: PostRef
    changed_at: datetime | None
    deleted: bool
    versions: int  # texts seen, the latest included
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    stance_before: str | None = None  # its stance when first scored, if it differs now


@dataclass
class ViewSpeed:
    """A critical post's views per hour at its age, against its channel's usual at that age
    (the median of its other recent posts' views per hour in the same age bucket)."""

    post: PostRef
    views: int
    age_hours: float
    per_hour: float
    usual_per_hour: float
    ratio: float
    channel_posts: int  # the channel's posts the usual is the median of


@dataclass
class Storyline:
    """Critical posts of the window on one subject, from several channels: a cluster of their
    search vectors, named by its distinctive lemmas and its most central post."""

    lemmas: list[str]  # most distinctive first (class-based TF-IDF)
    central: PostRef  # the post nearest the cluster's mean vector
    posts: int  # its posts, reposts included
    copies: int  # of which reposts or near copies of another of its posts
    channels: list[str]  # the channels that wrote its posts (not those that only reposted)
    new: bool  # no post of it has a near neighbour among the earlier days' posts
    nearest_earlier: float | None  # its posts' highest cosine with an earlier post (None: none)
    item_ids: list[int] = field(default_factory=list)


@dataclass
class StorylineReport:
    """The window's storylines (new ones first, then the largest) and what was left out."""

    storylines: list[Storyline]
    critical_posts: int  # the window's critical posts
    without_vector: int  # of which skipped: no stored vector in the space clustered
    novelty_days: int  # how many earlier days a new storyline has no neighbour in

    @property
    def new(self) -> list[Storyline]:
        return [storyline for storyline in self.storylines if storyline.new]


@dataclass
class Digest:
    """Everything a digest says about one window; renderers format, never compute."""

    since: datetime
    until: datetime
    generated_at: datetime
    model_version: str | None
    total_items: int
    items_by_role: dict[str, int]
    scored_items: int
    baseline_days: int
    stance: StanceMix | None
    themes: list[ThemeRow]
    rifts: list[Rift]
    top_posts: dict[str, list[PostRef]]
    channels: list[ChannelRow]
    newest: list[PostRef]
    health: list[FeedHealth]
    channel_filter: str | None = None
    theme_filter: str | None = None
    subject_role: str = "blogger"  # whose posts the stance and theme figures describe
    spreading: Spreading | None = None  # critical posts other channels passed on (scored only)
    new_targets: list[NewTarget] = field(default_factory=list)  # first attacked in the window
    unwatched: list[UnwatchedChannel] = field(default_factory=list)  # amplified, not watched
    changes: list[ChangedPost] = field(default_factory=list)  # critical posts deleted or edited
    fastest_by_views: list[ViewSpeed] = field(default_factory=list)  # critical, by views/hour
    storylines: StorylineReport | None = None  # clusters of critical posts (scored only)

    @property
    def spikes(self) -> list[ThemeRow]:
        return [row for row in self.themes if row.spike]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (datetimes as ISO strings)."""
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(inner) for inner in value]
    return value


def post_ref_from_row(row: dict[str, Any], text_field: str = "evidence",
                      theme: str | None = None) -> PostRef:
    """A quoted post from a store post row (``store.posts``' post columns; search's and the
    spreading rows have the same names): the evidence sentence, else the text, is quoted."""
    return PostRef(
        item_id=row["id"], feed_name=row["feed_name"], feed_title=row["feed_title"],
        url=row["url"], published_at=from_iso(row["published_at"]),
        quote=trim_quote(row.get(text_field) or row.get("text")), stance=row.get("stance"),
        stance_probability=row.get("stance_probability"), theme=theme,
        theme_probability=row.get("theme_probability") if theme is not None else None,
        language=row.get("language"), edited=int(row.get("version") or 1) > 1,
        deleted=row.get("deleted_at") is not None,
    )
