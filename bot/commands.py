"""What each bot command does: parse its arguments, read or change the store, return the reply.

Runs in a worker thread with plain data in and out; never talks to Telegram itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlite_utils

from bot.env import BotEnv
from bot.status import render_status
from bot.views import (
    render_candidates,
    render_feeds,
    render_search_html,
    render_themes,
    trend_caption,
)
from classifiers.scoring import load_classifier
from config import RiftwatchError, Settings
from config.echo import quote_input
from config.feeds import (
    FEED_ROLES,
    FeedConfig,
    FeedRole,
    feed_from_source,
)
from config.settings import (
    DEFAULT_DAILY_TIME,
    DIGEST_WINDOW,
    DIGEST_WINDOW_HOURS,
    REPORT_WINDOW,
)
from config.timezones import zone_named
from digest.changes import compose_changes
from digest.chart import render_trend_png
from digest.compose import (
    compose_digest,
    parse_window,
    theme_daily_shares,
)
from digest.discovery import discover_channels
from digest.discovery_render import render_unwatched_html
from digest.graph import UnknownKindError, build_graph, parse_kinds
from digest.graph_render import graph_caption, render_graph_png
from digest.search import SearchFilters, search_text
from digest.sections import SectionLimits
from digest.storylines import compose_storylines
from digest.telegram_html import (
    escape,
    post_ref,
    render_changes,
    render_digest_messages,
    render_storylines,
    split_html,
    trim_quote,
)
from digest.watch_render import render_watch_list
from digest.watch_scan import add_typed_watch
from digest.watch_spec import WATCH_HELP, describe_rule
from monitors.errors import MonitorError
from monitors.feed_admission import watch_feed
from store.digest_messages import QuotedPost, items_in_message, quoted_post
from store.edges import EDGE_KINDS
from store.feeds import (
    FeedConflict,
    find_feed_name,
    remove_feed,
    set_feed_enabled,
)
from store.labels import THEME_PREFIX, LabelError, add_label, normalise_label
from store.scores import latest_model_version
from store.subscribers import deactivate, get_subscriber, subscribe
from store.targets import unlisted_targets
from store.watches import chat_watches, remove_watch

MAX_WINDOW = timedelta(days=90)
LONGEST_SOURCE = 2048  # characters of a feed address /addfeed accepts
ROLES: dict[str, FeedRole] = {role: role for role in FEED_ROLES}
_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_REF_RE = re.compile(r"^#?(\d{1,18})$")
CANDIDATES_SHOWN = 30  # unlisted targets /candidates lists
DISCOVER_SHOWN = 15  # unwatched channels /discover lists (riftwatch discover lists them all)
DISCOVER_WINDOW = "7d"  # /discover without a window
WATCH_HINT = ("e.g. /watch Шойгу -учения, /watch re:бросил[аи]? позиции, /watch target:gerasimov "
              "stance:critical, /watch channel:rybar cooldown:1h")
SEARCH_SHOWN = 8  # posts /search lists
LONGEST_SEARCH = 300  # characters of a /search query


class UsageError(RiftwatchError):
    """Bad arguments; ``str()`` is the line to show the user."""


@dataclass(frozen=True)
class CommandRequest:
    """One command as the user sent it."""

    command: str
    args: list[str]
    chat_id: int
    chat_type: str | None
    user_id: int | None
    reply_to_message_id: int | None = None


@dataclass
class Reply:
    """Telegram HTML messages to send, and optionally a PNG photo with a caption."""

    messages: list[str] = field(default_factory=list)
    photo: bytes | None = None
    caption: str | None = None

    @classmethod
    def text(cls, html: str) -> Reply:
        return cls(messages=split_html(html))


@dataclass(frozen=True)
class Command:
    """A bot command: its menu entry, its usage line and the function that answers it."""

    name: str
    usage: str
    description: str
    run: Callable[[BotEnv, CommandRequest], Reply]
    admin: bool = False
    analyst: bool = False  # analysts (settings.analyst_ids) and admins only
    chat_admin: bool = False  # in a group or channel, its admins (and riftwatch admins) only


# ---------------------------------------------------------------- helpers


def _window(text: str) -> timedelta:
    """A window no longer than MAX_WINDOW; WindowError or UsageError say what is wrong."""
    window = parse_window(text)
    if window > MAX_WINDOW:
        raise UsageError(f"{quote_input(text)} is too long; the longest window is "
                         f"{MAX_WINDOW.days}d")
    return window


def resolve_feed(db: sqlite_utils.Database, text: str) -> str:
    """A feed's stored name from its name, @channel or t.me link (case-insensitive)."""
    name = find_feed_name(db, text)
    if name is None:
        raise UsageError(f"No feed named {quote_input(text)}. /feeds lists them.")
    return name


def _theme(env: BotEnv, text: str) -> str | None:
    names = env.taxonomy.theme_names()
    return text if text in names else None


def _theme_or_usage(env: BotEnv, text: str) -> str:
    theme = _theme(env, text.lower())
    if theme is None:
        raise UsageError(f"Unknown theme {quote_input(text)}. "
                         f"Themes: {', '.join(env.taxonomy.theme_names())}")
    return theme


def _now(env: BotEnv) -> datetime:
    return env.clock().astimezone(UTC)


# ---------------------------------------------------------------- general commands


def help_text(env: BotEnv, request: CommandRequest) -> Reply:
    is_admin = env.settings.is_admin(request.user_id)
    lines = [
        "<b>riftwatch</b> watches Russian pro-war military bloggers on Telegram and news feeds, "
        "scores each post's stance and infighting themes, and tells you what departs from "
        "the baseline.",
        "",
    ]
    for command in COMMANDS:
        if command.admin and not is_admin:
            continue
        lines.append(f"{escape(command.usage)} — {escape(command.description)}")
    if not is_admin:
        lines += ["", "Feed changes (/addfeed, /removefeed, /pausefeed, /resumefeed), /discover "
                      "and /status are for admins."]
    lines.append("In a group, only its admins can /subscribe, /unsubscribe, /watch or /unwatch.")
    return Reply.text("\n".join(lines))


def _parse_subscription(env: BotEnv, args: list[str]) -> tuple[str, str | None, str]:
    """(mode, daily time, timezone) from ``[daily HH:MM [TZ] | hourly | spikes | spreading]``."""
    mode = (args[0].lower() if args else "daily")
    timezone = env.settings.timezone
    if mode in ("hourly", "spikes", "spreading") and len(args) == 1:
        return mode, None, timezone
    if mode != "daily" or len(args) > 3:
        raise UsageError(USAGE["subscribe"])
    daily_time = args[1] if len(args) > 1 else DEFAULT_DAILY_TIME
    match = _TIME_RE.match(daily_time)
    if not match:
        raise UsageError(f"{quote_input(daily_time)} is not a time; use HH:MM, "
                         f"e.g. /subscribe daily {DEFAULT_DAILY_TIME}")
    if len(args) == 3:
        timezone = args[2]
        zone_named(timezone)
    return mode, f"{int(match.group(1)):02d}:{match.group(2)}", timezone


def _describe(settings: Settings, mode: str, daily_time: str | None, timezone: str) -> str:
    if mode == "daily":
        return f"a daily digest at {daily_time} ({timezone}) covering the previous 24 hours"
    if mode == "hourly":
        return "an hourly digest at the top of each hour (hours with no posts are skipped)"
    if mode == "spreading":
        return (f"an alert when a critical post is picked up (forwarded, mentioned or quoted) "
                f"by {settings.spread_min_channels} or more other watched channels within "
                f"{DIGEST_WINDOW_HOURS} hours (checked hourly; once per post, "
                f"at most one alert every {settings.spread_cooldown_hours:g} hours)")
    return (f"an alert when a theme spikes against its baseline (checked hourly over the last "
            f"{DIGEST_WINDOW_HOURS} hours, as /summary shows them; at most one "
            f"alert per theme every {settings.spike_cooldown_hours:g} hours)")


def subscribe_chat(env: BotEnv, request: CommandRequest) -> Reply:
    mode, daily_time, timezone = _parse_subscription(env, request.args)
    subscribe(env.db(), request.chat_id, mode, chat_type=request.chat_type,
              daily_time=daily_time, timezone=timezone, now=_now(env))
    described = _describe(env.settings, mode, daily_time, timezone)
    return Reply.text(f"Subscribed: this chat gets {escape(described)}."
                      "\n/settings shows it, /unsubscribe stops it.")


def unsubscribe_chat(env: BotEnv, request: CommandRequest) -> Reply:
    if deactivate(env.db(), request.chat_id, "unsubscribed", now=_now(env)):
        return Reply.text("Unsubscribed. /subscribe to start again.")
    return Reply.text("This chat has no subscription. /subscribe starts one.")


def show_settings(env: BotEnv, request: CommandRequest) -> Reply:
    subscriber = get_subscriber(env.db(), request.chat_id)
    if subscriber is None or not subscriber.active:
        line = "This chat has no subscription. /subscribe starts one."
    else:
        line = "This chat gets " + escape(
            _describe(env.settings, subscriber.mode, subscriber.daily_time, subscriber.timezone)
        ) + "."
    settings = env.settings
    return Reply.text(
        f"{line}\nSpikes: a theme at ≥ {settings.spike_lift:g}× its {settings.baseline_days}-day "
        f"normal with z ≥ {settings.spike_z:g} and at least {settings.spike_min_count} posts."
    )


# ---------------------------------------------------------------- digests on demand


def _summary_slice(env: BotEnv, db: sqlite_utils.Database, args: list[str]
                   ) -> tuple[timedelta, str | None, str | None]:
    window, channel, theme = DIGEST_WINDOW, None, None
    for arg in args:
        if re.match(r"^\d+\s*[a-zA-Z]$", arg):
            window = _window(arg)
        elif _theme(env, arg.lower()):
            theme = arg.lower()
        else:
            channel = resolve_feed(db, arg)
    return window, channel, theme


def summary(env: BotEnv, request: CommandRequest) -> Reply:
    db = env.db()
    window, channel, theme = _summary_slice(env, db, request.args)
    until = _now(env)
    digest = compose_digest(db, env.settings, env.taxonomy, until - window, until,
                            channel=channel, theme=theme)
    return Reply(messages=render_digest_messages(
        digest, limits=SectionLimits.from_settings(env.settings)))


def channel_report(env: BotEnv, request: CommandRequest) -> Reply:
    if not request.args or len(request.args) > 2:
        raise UsageError(USAGE["channel"])
    db = env.db()
    name = resolve_feed(db, request.args[0])
    window = _window(request.args[1]) if len(request.args) > 1 else REPORT_WINDOW
    until = _now(env)
    digest = compose_digest(db, env.settings, env.taxonomy, until - window, until, channel=name)
    return Reply(messages=render_digest_messages(
        digest, limits=SectionLimits.from_settings(env.settings)))


def _recent_window(env: BotEnv, request: CommandRequest, command: str
                   ) -> tuple[str, datetime, datetime]:
    """A command's one optional window argument (default 24 h): as typed, its start and end."""
    if len(request.args) > 1:
        raise UsageError(USAGE[command])
    text = request.args[0] if request.args else "24h"
    until = _now(env)
    return text, until - _window(text), until


def changes(env: BotEnv, request: CommandRequest) -> Reply:
    """Critical posts deleted or edited in a window (default 24 h), with what edits removed."""
    text, since, until = _recent_window(env, request, "changes")
    db = env.db()
    found = compose_changes(db, since, until, latest_model_version(db))
    return Reply.text(render_changes(found, env.settings.digest_changes_shown, text))


def storylines(env: BotEnv, request: CommandRequest) -> Reply:
    """New storylines among the critical posts of a window (default 24 h)."""
    text, since, until = _recent_window(env, request, "storylines")
    db = env.db()
    report = compose_storylines(db, env.settings, since, until, latest_model_version(db))
    return Reply.text(render_storylines(report, env.settings.digest_storylines_shown, text))


def themes(env: BotEnv, request: CommandRequest) -> Reply:
    until = _now(env)
    digest = compose_digest(env.db(), env.settings, env.taxonomy, until - DIGEST_WINDOW, until)
    return Reply.text(render_themes(digest))


def trend(env: BotEnv, request: CommandRequest) -> Reply:
    if not request.args or len(request.args) > 2:
        raise UsageError(USAGE["trend"])
    theme = _theme_or_usage(env, request.args[0])
    days = REPORT_WINDOW.days
    if len(request.args) == 2:
        days = max(1, round(_window(request.args[1]) / timedelta(days=1)))
    shares = theme_daily_shares(env.db(), theme, days, until=_now(env))
    label = next(item.label for item in env.taxonomy.themes if item.name == theme)
    png = render_trend_png(shares, f"{label}: last {days} days")
    return Reply(photo=png, caption=trend_caption(label, shares))


def graph(env: BotEnv, request: CommandRequest) -> Reply:
    """The amplification graph of a window (default a week), optionally of some edge kinds."""
    window = REPORT_WINDOW
    kinds: tuple[str, ...] = EDGE_KINDS
    for arg in request.args[:2]:
        if re.match(r"^\d+\s*[a-zA-Z]$", arg):
            window = _window(arg)
        else:
            try:
                kinds = parse_kinds(arg)
            except UnknownKindError as exc:
                raise UsageError(f"{exc}. {USAGE['graph']}") from None
    if len(request.args) > 2:
        raise UsageError(USAGE["graph"])
    until = _now(env)
    result = build_graph(env.db(), until - window, until, kinds, env.taxonomy)
    if not result.edges:
        return Reply.text("No forwards, mentions, quotes or attacks in that window yet.")
    return Reply(photo=render_graph_png(result, env.settings.graph_png_max_nodes),
                 caption=graph_caption(result))


def search(env: BotEnv, request: CommandRequest) -> Reply:
    """The stored posts nearest in meaning to the words given (any language)."""
    query = " ".join(request.args)
    if not query:
        raise UsageError(USAGE["search"])
    if len(query) > LONGEST_SEARCH:
        raise UsageError(f"A search is at most {LONGEST_SEARCH} characters; this one has "
                         f"{len(query)}.")
    hits = search_text(env.db(), env.db_path, load_classifier(env.settings, env.taxonomy), query,
                       SearchFilters(limit=SEARCH_SHOWN))
    return Reply.text(render_search_html(query, hits))


def feeds(env: BotEnv, request: CommandRequest) -> Reply:
    until = _now(env)
    today = until.replace(hour=0, minute=0, second=0, microsecond=0)
    digest = compose_digest(env.db(), env.settings, env.taxonomy,
                            today, until + timedelta(seconds=1))
    return Reply.text(render_feeds(digest.health,
                                   show_errors=env.settings.is_admin(request.user_id)))


# ---------------------------------------------------------------- feedback: /label

LABEL_HINT = ("Reply to a digest message with /label critical, or give the #number shown after "
              "a quoted post: /label #1234 critical.")


MAX_LABEL_WORDS = 10  # a stance and every theme fit well within this


def _label_args(args: list[str]) -> tuple[int | None, list[str]]:
    """(ref or None, label words) from ``[#REF] LABEL [LABEL ...]`` in any order;
    ``theme: NAME`` (a space after the colon) counts as one word."""
    refs = [int(match.group(1)) for arg in args if (match := _REF_RE.match(arg))]
    words: list[str] = []
    for arg in (arg for arg in args if not _REF_RE.match(arg)):
        if words and words[-1].lower() == "theme:":  # "/label theme: supply_shortage"
            words[-1] += arg
        else:
            words.append(arg)
    if len(refs) > 1 or not words or len(words) > MAX_LABEL_WORDS:
        raise UsageError(f"{USAGE['label']}\n{LABEL_HINT}")
    return (refs[0] if refs else None), words


def _labels_or_usage(env: BotEnv, words: list[str]) -> list[str]:
    """The words as stored labels, each at most once; at most one stance (or ``wrong``)."""
    try:
        labels = list(dict.fromkeys(normalise_label(w, env.taxonomy.theme_names())
                                    for w in words))
    except LabelError as exc:
        message = str(exc)
        raise UsageError(f"{message[:1].upper()}{message[1:]}.\n{USAGE['label']}") from None
    if sum(not label.startswith(THEME_PREFIX) for label in labels) > 1:
        raise UsageError(f"One stance per post, please.\n{USAGE['label']}")
    return labels


def _replied_items(db: sqlite_utils.Database, request: CommandRequest) -> list[int]:
    """The posts quoted by the message this command replies to; UsageError if none."""
    if request.reply_to_message_id is None:
        raise UsageError(f"{USAGE['label']}\n{LABEL_HINT}")
    items = items_in_message(db, request.chat_id, request.reply_to_message_id)
    if not items:
        raise UsageError("That message quotes no posts I know of. Give the #number shown after "
                         "a quoted post instead, e.g. /label #1234 critical.")
    return items


def _post_summary(post: QuotedPost) -> str:
    return f"{post_ref(post.item_id)} {escape(post.feed)}: «{escape(trim_quote(post.text, 60))}»"


def _which_post(db: sqlite_utils.Database, item_ids: list[int], labels: list[str]) -> Reply:
    posts = [post for item_id in item_ids if (post := quoted_post(db, item_id)) is not None]
    lines = [f"That message quotes {len(posts)} posts; say which one, e.g. "
             f"/label #{posts[0].item_id} {escape(' '.join(labels))}"]
    lines += [f"• {_post_summary(post)}" for post in posts]
    return Reply.text("\n".join(lines))


def _labelled(post: QuotedPost, labels: list[str]) -> Reply:
    if post.stance is None:
        model = "The model has not scored it yet."
    else:
        odds = f" {post.probability:.2f}" if post.probability is not None else ""
        model = (f"The model ({escape(post.model_version)}) said {escape(post.stance)}{odds}.")
    named = ", ".join(f"<b>{escape(label)}</b>" for label in labels)
    return Reply.text(f"Labelled {_post_summary(post)} as {named}. {model}")


def label_post(env: BotEnv, request: CommandRequest) -> Reply:
    """Store an analyst's labels (a stance and any themes) for the post named by #REF or quoted
    by the replied message."""
    ref, words = _label_args(request.args)
    labels = _labels_or_usage(env, words)
    if request.user_id is None:
        raise UsageError("Labels need a sender; send /label as yourself, not as a channel.")
    db = env.db()
    if ref is None:
        candidates = _replied_items(db, request)
        if len(candidates) > 1:
            return _which_post(db, candidates, labels)
        ref = candidates[0]
    post = quoted_post(db, ref)
    if post is None:
        raise UsageError(f"No stored post #{ref}. Use the #number shown after a quoted post "
                         "in a digest.")
    try:
        stored = [add_label(db, post.item_id, request.user_id, label, chat_id=request.chat_id,
                            model_version=post.model_version, now=_now(env))
                  for label in labels]
    except LabelError as exc:
        raise UsageError(str(exc)) from None
    return _labelled(post, [label.label for label in stored])


# ---------------------------------------------------------------- watch-lists


def watch_command(env: BotEnv, request: CommandRequest) -> Reply:
    """Add a watch to this chat: its alerts come after each scoring, at most one per cooldown."""
    if not request.args:
        raise UsageError(f"{USAGE['watch']}\n{WATCH_HINT}")
    watch = add_typed_watch(env.db(), request.chat_id, " ".join(request.args), env.settings,
                            env.taxonomy, now=_now(env))
    return Reply.text(f"Watching <code>{escape(describe_rule(watch.rule))}</code> as number "
                      f"{watch.number}: an alert quotes each new post it matches. "
                      "/watches lists this chat's watches.")


def watches_command(env: BotEnv, request: CommandRequest) -> Reply:
    if request.args:
        raise UsageError(USAGE["watches"])
    return Reply.text(render_watch_list(chat_watches(env.db(), request.chat_id)))


def unwatch_command(env: BotEnv, request: CommandRequest) -> Reply:
    if len(request.args) != 1 or not request.args[0].isdigit() or len(request.args[0]) > 6:
        raise UsageError(f"{USAGE['unwatch']} (N as /watches numbers them)")
    removed = remove_watch(env.db(), request.chat_id, int(request.args[0]))
    if removed is None:
        raise UsageError(f"This chat has no watch number {int(request.args[0])}; /watches "
                         "lists them")
    return Reply.text(f"Stopped watching <code>{escape(describe_rule(removed.rule))}</code>.")


# ---------------------------------------------------------------- admin: feeds and status


def feed_config_from_source(source: str, role_name: str | None) -> FeedConfig:
    """A FeedConfig from ``t.me/NAME``, ``@NAME`` or an http(s) URL, as typed."""
    if role_name is not None and role_name not in ROLES:
        raise UsageError(USAGE["addfeed"])
    if len(source) > LONGEST_SOURCE:
        raise UsageError(f"Cannot add {quote_input(source)}: an address is at most "
                         f"{LONGEST_SOURCE} characters")
    try:
        return feed_from_source(source, role=ROLES.get(role_name or ""))
    except ValueError as exc:
        raise UsageError(str(exc)[0].upper() + str(exc)[1:]) from None


def add_feed_command(env: BotEnv, request: CommandRequest) -> Reply:
    """Watch a new feed by the one rule for new feeds (``watch_feed``, as the CLI and OPML import
    do): a private address, or a name or source already held, is refused and nothing changes."""
    if not request.args or len(request.args) > 2:
        raise UsageError(USAGE["addfeed"])
    role = request.args[1].lower() if len(request.args) > 1 else None
    source = request.args[0]
    config = feed_config_from_source(source, role)
    try:
        feed = watch_feed(env.db(), config, env.settings)
    except FeedConflict as exc:
        fix = (f"To change it, /removefeed {exc.name} and add it again." if exc.same_source
               else "Add it under another name with: riftwatch feeds add --name NAME")
        raise UsageError(f"{exc}. {fix}") from None
    except MonitorError as exc:
        raise UsageError(f"Cannot add {quote_input(source)}: {exc.message}") from None
    return Reply.text(f"Added <b>{escape(feed.name)}</b> ({escape(feed.kind)}, "
                      f"{escape(feed.role)}): {escape(feed.url)}\n"
                      "The monitors fetch it on their next cycle.")


def _feed_name_arg(env: BotEnv, request: CommandRequest) -> str:
    if len(request.args) != 1:
        raise UsageError(USAGE[request.command])
    return resolve_feed(env.db(), request.args[0])


def remove_feed_command(env: BotEnv, request: CommandRequest) -> Reply:
    name = _feed_name_arg(env, request)
    remove_feed(env.db(), name)
    return Reply.text(f"Removed <b>{escape(name)}</b>; its stored posts stay.")


def _set_enabled(env: BotEnv, request: CommandRequest, enabled: bool) -> Reply:
    feed = set_feed_enabled(env.db(), _feed_name_arg(env, request), enabled)
    return Reply.text(f"<b>{escape(feed.name)}</b> {'resumed' if enabled else 'paused'}.")


def pause_feed_command(env: BotEnv, request: CommandRequest) -> Reply:
    return _set_enabled(env, request, enabled=False)


def resume_feed_command(env: BotEnv, request: CommandRequest) -> Reply:
    return _set_enabled(env, request, enabled=True)


def candidates_command(env: BotEnv, request: CommandRequest) -> Reply:
    """Unlisted targets of the latest model's scores, most attacked first."""
    if request.args:
        raise UsageError(USAGE["candidates"])
    db = env.db()
    version = latest_model_version(db)
    tallies = unlisted_targets(db, version, CANDIDATES_SHOWN) if version else []
    return Reply.text(render_candidates(tallies))


def discover_command(env: BotEnv, request: CommandRequest) -> Reply:
    """Unwatched channels the watched ones picked up in the window (7 days by default),
    ranked, each with the /addfeed command that watches it."""
    if len(request.args) > 1:
        raise UsageError(USAGE["discover"])
    window_text = request.args[0] if request.args else DISCOVER_WINDOW
    db = env.db()
    until = _now(env)
    found = discover_channels(db, until - _window(window_text), until, latest_model_version(db))
    shown = found[:DISCOVER_SHOWN]
    return Reply.text(render_unwatched_html(shown, f"the last {window_text}",
                                            more=len(found) - len(shown)))


def status_command(env: BotEnv, request: CommandRequest) -> Reply:
    return Reply.text(render_status(env.db(), env.db_path, env.settings, env.describe_jobs()))


COMMANDS: list[Command] = [
    Command("start", "/start", "what riftwatch is and what to type", help_text),
    Command("help", "/help", "the commands", help_text),
    Command("subscribe",
            "/subscribe [daily HH:MM [Area/City] | hourly | spikes | spreading]",
            f"get digests in this chat (daily {DEFAULT_DAILY_TIME} by default)", subscribe_chat,
            chat_admin=True),
    Command("unsubscribe", "/unsubscribe", "stop digests in this chat", unsubscribe_chat,
            chat_admin=True),
    Command("settings", "/settings", "this chat's subscription", show_settings),
    Command("summary", "/summary [6h|24h|7d] [channel] [theme]", "a digest now for that slice",
            summary),
    Command("channel", "/channel NAME [7d]", "one channel's stance mix, themes, top posts",
            channel_report),
    Command("changes", "/changes [24h|7d]",
            "critical posts deleted or edited, with what was removed", changes),
    Command("storylines", "/storylines [24h|7d]",
            "new storylines: subjects several channels took up that the previous days lacked",
            storylines),
    Command("themes", "/themes",
            f"themes in the last {DIGEST_WINDOW_HOURS} h against their baseline", themes),
    Command("trend", "/trend THEME [7d]", "chart of a theme's daily share, bloggers vs news",
            trend),
    Command("graph", "/graph [7d] [forward,mention,quote,attack]",
            "who forwards, mentions, quotes and attacks whom (a drawn graph)", graph),
    Command("search", "/search TEXT", "stored posts nearest in meaning to TEXT (any language)",
            search),
    Command("feeds", "/feeds", "watched feeds and their health", feeds),
    Command("label", "/label [#REF] supportive|critical|alarmed|neutral|wrong [theme:NAME ...]",
            "correct the model on a quoted post, its stance and the themes it carries: reply "
            "to the digest, or give its #REF (analysts)", label_post, analyst=True),
    Command("watch", WATCH_HELP,
            "alert this chat to each new post matching a phrase (any inflection), an RE2 "
            "pattern, an attacked target or a channel's critical posts", watch_command,
            chat_admin=True),
    Command("watches", "/watches", "this chat's watches, numbered", watches_command),
    Command("unwatch", "/unwatch N", "stop watch number N of /watches", unwatch_command,
            chat_admin=True),
    Command("addfeed", "/addfeed t.me/NAME|@NAME|URL [blogger|news]", "watch a feed (admin)",
            add_feed_command, admin=True),
    Command("removefeed", "/removefeed NAME", "stop watching a feed (admin)",
            remove_feed_command, admin=True),
    Command("pausefeed", "/pausefeed NAME", "pause a feed (admin)", pause_feed_command,
            admin=True),
    Command("resumefeed", "/resumefeed NAME", "resume a paused feed (admin)",
            resume_feed_command, admin=True),
    Command("candidates", "/candidates",
            "parties attacked but not on the target list, with counts (admin)",
            candidates_command, admin=True),
    Command("discover", "/discover [7d]",
            "channels the watched ones forward, mention or quote but riftwatch does not "
            "watch, ranked, each with its /addfeed (admin)", discover_command, admin=True),
    Command("status", "/status", "jobs, queue, database size, model (admin)", status_command,
            admin=True),
]
USAGE = {command.name: f"Usage: {command.usage}" for command in COMMANDS}
