"""Render a ``Digest`` as Telegram HTML messages: escaped, trimmed, split at Telegram's limits.

Formats plain digest data only; never reads the store or computes numbers.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from config.themes import STANCE_NAMES
from digest import sections
from digest.model import (
    TELEGRAM_QUOTE_CHARS,
    ChangedPost,
    Digest,
    PostRef,
    StorylineReport,
    ThemeRow,
    trim_quote,
)
from digest.printable import escape_html, printable
from digest.spreading_render import render_spreading_html

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024

_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>")
_TOKEN_RE = re.compile(r"(<[^>]*>|&#?\w+;|\s+)")
_SPACE_RE = re.compile(r"\s+")
_POST_REF_RE = re.compile(r"<code>#(\d+)</code>")


# ---------------------------------------------------------------- escaping and trimming


def escape(text: object) -> str:
    """Escape untrusted text for Telegram HTML text (``<``, ``>``, ``&``; no control or bidi
    characters): ``digest.printable.escape_html``."""
    return escape_html(text)


def link(url: str | None, text: str) -> str:
    """An ``<a>`` around escaped ``text`` when ``url`` is http(s); else the escaped text."""
    if url and len(url) <= 2000 and re.match(r"^https?://", url, re.IGNORECASE):
        return f'<a href="{html.escape(printable(url), quote=True)}">{escape(text)}</a>'
    return escape(text)


# ---------------------------------------------------------------- splitting


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units); counting raw HTML errs on the safe side."""
    return len(text.encode("utf-16-le")) // 2


def _apply_tags(stack: list[tuple[str, str]], fragment: str) -> list[tuple[str, str]]:
    """The open-tag stack after ``fragment``: push opening tags, pop to the matching closer."""
    result = list(stack)
    for match in _TAG_RE.finditer(fragment):
        closing, name = match.group(1), match.group(2).lower()
        if not closing:
            result.append((name, match.group(0)))
            continue
        for index in range(len(result) - 1, -1, -1):
            if result[index][0] == name:
                del result[index:]
                break
    return result


def _closers(stack: Sequence[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


@dataclass
class _Packer:
    """Greedy packing of unbreakable fragments into chunks that close and reopen open tags."""

    limit: int
    chunks: list[str] = field(default_factory=list)
    body: str = ""
    units: int = 0
    stack: list[tuple[str, str]] = field(default_factory=list)
    has_content: bool = False

    def add(self, fragment: str) -> bool:
        after = _apply_tags(self.stack, fragment)
        size = telegram_length(fragment)
        if self.units + size + telegram_length(_closers(after)) > self.limit:
            return False
        self.body += fragment
        self.units += size
        self.stack = after
        self.has_content = self.has_content or bool(fragment.strip())
        return True

    def flush(self) -> None:
        if self.has_content:
            self.chunks.append(self.body + _closers(self.stack))
        self.body = "".join(tag for _, tag in self.stack)
        self.units = telegram_length(self.body)
        self.has_content = False

    def add_or_break(self, fragment: str) -> None:
        """Add a fragment, starting a new chunk if needed; hard-split a word longer than a chunk."""
        if self.add(fragment):
            return
        self.flush()
        if fragment.isspace() or self.add(fragment):
            return
        if fragment.startswith("<"):
            raise ValueError(f"a tag longer than the limit {self.limit}: {fragment[:40]}…")
        for char in fragment:
            if not self.add(char):
                self.flush()
                if not self.add(char):
                    raise ValueError(f"limit {self.limit} is too small for the open tags")


def split_html(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split Telegram HTML into messages of at most ``limit`` units.

    Breaks on line boundaries; a line longer than a message is broken between words (or inside
    a word as a last resort), never inside a tag or an entity. Tags open at a break are closed
    at the end of one message and reopened at the start of the next.
    """
    packer = _Packer(limit)
    for number, line in enumerate(text.split("\n")):
        joined = ("\n" if number and packer.has_content else "") + line
        if packer.add(joined):
            continue
        packer.flush()
        if packer.add(line):
            continue
        for token in _TOKEN_RE.split(line):
            if token:
                packer.add_or_break(token)
    packer.flush()
    return packer.chunks or [""]


def fit_caption(text: str, limit: int = CAPTION_LIMIT) -> str:
    """The first ``limit`` units of ``text``, cut on a line or word boundary, tags balanced."""
    chunks = split_html(text, limit - 1)
    return chunks[0] + ("…" if len(chunks) > 1 else "")


# ---------------------------------------------------------------- numbers and times


def share_percent(share: float) -> str:
    """A share as a percentage: one decimal below 10%, none above, a dash when unknown."""
    if share is None or math.isnan(share):
        return "–"
    value = share * 100
    return f"{value:.1f}%" if value < 10 else f"{value:.0f}%"


def posts_word(count: int) -> str:
    """"post" or "posts" for ``count``."""
    return "post" if count == 1 else "posts"


def lift_phrase(row: ThemeRow, baseline_days: int) -> str:
    """A theme's lift in words: ``3.1× its 14-day normal (z=4.2)``, or why there is none."""
    kind = sections.lift_kind(row)
    if kind is sections.LiftKind.NONE_NOW:
        return "none now"
    if kind is sections.LiftKind.NEW:
        return f"new (absent from the {baseline_days}-day normal)"
    if kind is sections.LiftKind.NO_BASELINE:
        return "no baseline yet"
    return f"{row.lift:.1f}× its {baseline_days}-day normal (z={row.z:.1f})"


def when(moment: datetime | None, with_date: bool = True) -> str:
    """A moment in UTC as ``25 Nov 08:00`` (or ``08:00``), ``?`` when unknown."""
    if moment is None:
        return "?"
    return sections.in_utc(moment).strftime("%d %b %H:%M" if with_date else "%H:%M")


def _source_name(title: str | None, name: str) -> str:
    return title or name


# ---------------------------------------------------------------- digest sections


def _header(header: sections.Header) -> list[str]:
    scope = []
    if header.channel_filter:
        scope.append(f"channel <b>{escape(header.channel_filter)}</b>")
    if header.theme_filter:
        scope.append(f"theme <b>{escape(header.theme_filter)}</b>")
    title = "<b>riftwatch digest</b>" + (" · " + ", ".join(scope) if scope else "")
    roles = ", ".join(f"{count} {escape(role)}"
                      for role, count in sorted(header.items_by_role.items()))
    model = f" (model {escape(header.model_version)})" if header.model_version else ""
    counts = f"<b>{header.total_items}</b> {posts_word(header.total_items)}"
    return [
        title,
        f"{when(header.since)} – {when(header.until)} UTC",
        counts + (f": {roles}" if roles else "") + f" · {header.scored_items} scored{model}",
    ]


def _no_posts(_: sections.NoPosts) -> list[str]:
    return ["No posts in this window."]


def _spikes(spikes: sections.Spikes) -> list[str]:
    lines = [f"<b>Spikes</b> (against the {spikes.baseline_days}-day normal)"]
    for row in spikes.rows:
        lines.append(
            f"🔺 <b>{escape(row.label)}</b>: {lift_phrase(row, spikes.baseline_days)} · "
            f"{row.count} of {row.total} {escape(spikes.subject_role)} posts "
            f"({share_percent(row.share)}) · news {share_percent(row.news_share)}"
        )
    return lines


def _stance_unscored(_: sections.StanceUnscored) -> list[str]:
    return ["<b>Stance</b>: not scored yet — the classifier has not scored this window."]


def _stance_none_scored(section: sections.StanceNoneScored) -> list[str]:
    return [f"<b>Stance</b>: no scored {escape(section.subject_role)} posts in this window."]


def _stance(stance: sections.Stance) -> list[str]:
    return [f"<b>Stance of {escape(stance.subject_role)} posts</b> ({stance.mix.total} posts · "
            f"now / {stance.baseline_days}-day normal / news)",
            *(f"{row.stance} {share_percent(row.share)} / {share_percent(row.baseline_share)} / "
              f"{share_percent(row.news_share)}" for row in stance.rows)]


def _themes(themes: sections.Themes) -> list[str]:
    lines = [f"<b>Themes</b> (share of {escape(themes.subject_role)} posts · lift · news)"]
    for row in themes.rows:
        mark = " 🔺" if row.spike else ""
        new = sections.lift_kind(row) is sections.LiftKind.NEW
        lines.append(f"• {escape(row.label)} {share_percent(row.share)} · "
                     f"{'new' if new else f'{row.lift:.1f}×'} · "
                     f"news {share_percent(row.news_share)}{mark}")
    return lines


def post_ref(item_id: int) -> str:
    """A quoted post's short ref, ``#1234`` (its item id) in <code> so a tap copies it."""
    return f"<code>#{int(item_id)}</code>"


def quoted_item_ids(html_text: str) -> list[int]:
    """The item ids of the posts a rendered message quotes, first mention first.

    Only refs written by ``post_ref`` match: quoted text is escaped, so a post cannot fake one.
    """
    return list(dict.fromkeys(int(found) for found in _POST_REF_RE.findall(html_text)))


def _post_figures(post: PostRef) -> str:
    """Stored figures beside a quoted post, each named: ``(stance critical 0.46 · theme 0.60)``."""
    figures = []
    if post.stance:
        figures.append(f"stance {escape(post.stance)}" + (
            f" {post.stance_probability:.2f}" if post.stance_probability is not None else ""))
    if post.theme_probability is not None:
        figures.append(f"theme {post.theme_probability:.2f}")
    return f" ({' · '.join(figures)})" if figures else ""


def post_line(post: PostRef, quote_chars: int = TELEGRAM_QUOTE_CHARS) -> str:
    """One quoted post as a digest prints it: who, when, figures, the quote and its ref."""
    who = link(post.url, _source_name(post.feed_title, post.feed_name))
    quote = trim_quote(post.quote, quote_chars)
    note = " (other language)" if post.other_language else ""
    return (f"• {who} {when(post.published_at)}{_post_figures(post)}: "
            f"<i>«{escape(quote)}»</i>{sections.change_mark(post)}{note} "
            f"{post_ref(post.item_id)}")


def _more(count: int) -> list[str]:
    return [f"… and {count} more"] if count else []


def _rifts(rifts: sections.Rifts) -> list[str]:
    lines = ["<b>Rifts</b> (who attacks whom)"]
    for rift in rifts.rifts:
        lines.append(f"• <b>{escape(_source_name(rift.source_title, rift.source))}</b> → "
                     f"{escape(rift.target_label)}: {rift.count} {posts_word(rift.count)}")
        lines.extend("  " + post_line(post) for post in rift.evidence)
    return lines + _more(rifts.more)


def _new_targets(section: sections.NewTargets) -> list[str]:
    lines = ["<b>New targets</b> (first attacked in this window)"]
    for target in section.targets:
        name, tally = sections.new_target_words(target)
        lines.append(f"• {escape(name)}: {escape(tally)}")
    return lines + _more(section.more)


def _top_posts(top: sections.TopPosts) -> list[str]:
    return sections.word_groups("<b>Top posts</b>", top.groups,
                                lambda label: f"<i>{escape(label)}</i>", post_line)


def _newest(newest: sections.Newest) -> list[str]:
    return ["<b>Newest posts</b>", *(post_line(post) for post in newest.posts)]


def _channels(channels: sections.Channels) -> list[str]:
    lines = ["<b>Channels</b>"]
    for row in channels.rows:
        mix = ", ".join(f"{stance} {row.stance_counts[stance]}" for stance in STANCE_NAMES
                        if row.stance_counts.get(stance))
        top = f" · top: {escape(channels.theme_labels[row.top_theme])}" if row.top_theme else ""
        lines.append(f"• {escape(_source_name(row.title, row.feed_name))} ({escape(row.role)}) "
                     f"{row.posts} {posts_word(row.posts)}" + (f": {mix}" if mix else "") + top)
    return lines + _more(channels.more)


def _health(health: sections.Health) -> list[str]:
    summary = f"<i>Feeds: {health.ok} ok"
    if health.failing:
        names = ", ".join(escape(feed.name) for feed in health.failing[:5])
        more = ", …" if len(health.failing) > 5 else ""
        summary += f", {len(health.failing)} failing ({names}{more})"
    return [summary + "</i>"]


_SPAN_TAGS = {"strong": "b", "emphasis": "i", "code": "code", "removed": "s", "added": "u"}


def _span(span: sections.Span) -> str:
    tag = _SPAN_TAGS.get(span.style)
    text = f"<{tag}>{escape(span.text)}</{tag}>" if tag else escape(span.text)
    return link(span.url, span.text) if span.url and not tag else text


def _block(block: sections.Block) -> list[str]:
    return [f"<b>{escape(block.title)}</b>", *("".join(map(_span, line)) for line in block.lines)]


WORDING: dict[type, Callable[[Any], list[str]]] = {
    sections.Header: _header, sections.NoPosts: _no_posts, sections.Spikes: _spikes,
    sections.StanceUnscored: _stance_unscored, sections.StanceNoneScored: _stance_none_scored,
    sections.Stance: _stance, sections.Themes: _themes, sections.Rifts: _rifts,
    sections.NewTargets: _new_targets,
    sections.TopPosts: _top_posts, sections.Newest: _newest, sections.Channels: _channels,
    sections.Health: _health, sections.Block: _block,
    sections.SpreadingSection: lambda section: render_spreading_html(
        section.spreading).splitlines(),
}


def render_changes(changes: Sequence[ChangedPost], shown: int, window: str) -> str:
    """``/changes``: the critical posts deleted or edited in the last ``window``."""
    block = sections.changes_block(changes, shown)
    if block is None:
        return f"No critical post was deleted or edited in the last {escape(window)}."
    return "\n".join(_block(block))


def render_storylines(report: StorylineReport | None, shown: int, window: str) -> str:
    """``/storylines``: the new storylines of the last ``window``, and how many others
    continue from the earlier days."""
    block = sections.storylines_block(report, shown)
    lines = _block(block) if block is not None else [
        f"No new storyline among the critical posts of the last {escape(window)}."]
    if report is not None and (carried := len(report.storylines) - len(report.new)):
        lines.append(f"{carried} other storyline{'s' * (carried > 1)} of the last "
                     f"{escape(window)} continue{'s' * (carried == 1)} from the previous "
                     f"{report.novelty_days} days.")
    return "\n".join(lines)


def render_digest(digest: Digest, limits: sections.SectionLimits | None = None) -> str:
    """The whole digest as one Telegram HTML text, each line with balanced tags."""
    return sections.word_sections(sections.digest_sections(digest, limits), WORDING)


def render_digest_messages(digest: Digest, limit: int = MESSAGE_LIMIT,
                           limits: sections.SectionLimits | None = None) -> list[str]:
    """The digest split into Telegram messages of at most ``limit`` characters."""
    return split_html(render_digest(digest, limits), limit)


def render_spike_alert(digest: Digest, row: ThemeRow,
                       quote_chars: int = TELEGRAM_QUOTE_CHARS) -> str:
    """A short alert for one spiking theme with its best evidence."""
    lines = [
        f"🔺 <b>Spike: {escape(row.label)}</b>",
        f"{when(digest.since)} – {when(digest.until, with_date=False)} UTC: "
        f"{lift_phrase(row, digest.baseline_days)}",
        f"{row.count} of {row.total} {escape(digest.subject_role)} posts "
        f"({share_percent(row.share)}); news {share_percent(row.news_share)}",
    ]
    lines += [post_line(post, quote_chars) for post in digest.top_posts.get(row.theme, [])[:3]]
    return "\n".join(lines)
