"""Render a Digest as plain console text or JSON; pure formatting, no store access.

Words the sections ``digest.sections`` chooses; the Telegram HTML formatter words the same ones.
What it returns is ``digest.printable``: no name or quote brings a control or bidi character.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from digest import sections as s
from digest.model import Digest, PostRef, ThemeRow
from digest.printable import printable_data, printable_lines
from digest.search import SearchHit
from digest.spreading_render import render_spreading_text


def _when(moment: datetime | None) -> str:
    return s.in_utc(moment).strftime("%Y-%m-%d %H:%M") if moment else "?"


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def _post_line(post: PostRef) -> str:
    link = f" {post.url}" if post.url else ""
    note = " (other language)" if post.other_language else ""
    return (f"    [{post.feed_name} {_when(post.published_at)}] «{post.quote}»"
            f"{s.change_mark(post)}{note}{link}")


def _more(count: int) -> list[str]:
    return [f"  … and {count} more"] if count else []


def _lift(row: ThemeRow, baseline_days: int) -> str:
    kind = s.lift_kind(row)
    if kind is s.LiftKind.NEW:
        return f"new, absent from its {baseline_days}-day normal"
    if kind is s.LiftKind.NO_BASELINE:
        return "no baseline yet"
    return f"{row.lift:.1f}x its {baseline_days}-day normal"


def theme_sentence(row: ThemeRow, baseline_days: int) -> str:
    """'Against the Defence Ministry: 9/45 posts (20%), 3.1x its 14-day normal (z=4.2) …'."""
    return (
        f"{row.label}: {row.count}/{row.total} posts ({_pct(row.share)}), "
        f"{_lift(row, baseline_days)} ({row.baseline_count}/"
        f"{row.baseline_total}; z={row.z:.1f}, p={row.p_value:.2g}); "
        f"news {row.news_count}/{row.news_total} ({row.news_lift:.1f}x)"
    )


def _header(header: s.Header) -> list[str]:
    roles = ", ".join(f"{role} {count}" for role, count in sorted(header.items_by_role.items()))
    scope = []
    if header.channel_filter:
        scope.append(f"channel {header.channel_filter}")
    if header.theme_filter:
        scope.append(f"theme {header.theme_filter}")
    lines = [
        f"riftwatch digest {_when(header.since)} → {_when(header.until)} UTC"
        + (f" ({'; '.join(scope)})" if scope else ""),
        f"Items: {header.total_items}" + (f" ({roles})" if roles else ""),
    ]
    if header.model_version:
        lines.append(f"Scored: {header.scored_items} by model {header.model_version}")
    else:
        lines.append("Scored: none yet (run `riftwatch score-pending` or wait for the pipeline)")
    return lines


def _no_posts(_: s.NoPosts) -> list[str]:
    return ["No posts in this window."]


def _spikes(spikes: s.Spikes) -> list[str]:
    return ["Theme spikes:",
            *("  ▲ " + theme_sentence(row, spikes.baseline_days) for row in spikes.rows)]


def _stance_unscored(_: s.StanceUnscored) -> list[str]:
    return ["Stance: not scored yet (the classifier has not scored this window)"]


def _stance_none_scored(section: s.StanceNoneScored) -> list[str]:
    return [f"Stance: no scored {section.subject_role} posts in this window"]


def _stance(stance: s.Stance) -> list[str]:
    mix = stance.mix
    return [f"Stance of {stance.subject_role} posts (n={mix.total}) vs their "
            f"{stance.baseline_days}-day normal (n={mix.baseline_total}) "
            f"and the news (n={mix.news_total}):",
            *(f"  {row.stance:<11} {_pct(row.share):>4}   normal {_pct(row.baseline_share):>4}"
              f"   news {_pct(row.news_share):>4}" for row in stance.rows)]


def _themes(themes: s.Themes) -> list[str]:
    lines = [f"Themes (share of {themes.subject_role} posts, lift, news):"]
    for row in themes.rows:
        lines.append(("  ▲ " if row.spike else "  · ")
                     + f"{row.label} {_pct(row.share)}, {_lift(row, themes.baseline_days)}, "
                     f"news {_pct(row.news_share)}")
    return lines


def _rifts(rifts: s.Rifts) -> list[str]:
    lines = ["Top rifts (who attacks whom):"]
    for rift in rifts.rifts:
        posts = "post" if rift.count == 1 else "posts"
        lines.append(f"  {rift.source} → {rift.target_label}: {rift.count} {posts}")
        lines.extend(_post_line(post) for post in rift.evidence)
    return lines + _more(rifts.more)


def _new_targets(section: s.NewTargets) -> list[str]:
    lines = ["New targets (first attacked in this window):"]
    for target in section.targets:
        name, tally = s.new_target_words(target)
        lines.append(f"  {name}: {tally}")
    return lines + _more(section.more)


def _top_posts(top: s.TopPosts) -> list[str]:
    return s.word_groups("Top posts:", top.groups, lambda label: f"  {label}:", _post_line)


def _newest(newest: s.Newest) -> list[str]:
    return ["Newest posts:", *(_post_line(post) for post in newest.posts)]


def _channels(channels: s.Channels) -> list[str]:
    lines = ["Channels:", f"  {'channel':<22} {'role':<8} {'posts':>5} {'critical':>8}  "
                          f"{'top theme':<17} last post"]
    for row in channels.rows:
        lines.append(
            f"  {row.feed_name[:22]:<22} {row.role:<8} {row.posts:>5} "
            f"{row.stance_counts.get('critical', 0):>8}  {(row.top_theme or '-'):<17} "
            f"{_when(row.last_post_at)}"
        )
    return lines + _more(channels.more)


def _health(health: s.Health) -> list[str]:
    lines = [f"Feed health: {health.ok} ok, {len(health.failing)} failing"]
    lines.extend(f"  ✗ {feed.name}: {feed.last_error} (failures: {feed.error_count}, "
                 f"retry after {feed.next_retry_at})" for feed in health.failing)
    return lines


_SPAN_MARKS = {"removed": "[-{}-]", "added": "{{+{}+}}"}


def _span(span: s.Span) -> str:
    text = _SPAN_MARKS.get(span.style, "{}").format(span.text)
    return f"{text} ({span.url})" if span.url and span.url != span.text else text


def _block(block: s.Block) -> list[str]:
    return [f"{block.title}:", *("  " + "".join(map(_span, line)) for line in block.lines)]


WORDING: dict[type, Callable[[Any], list[str]]] = {
    s.Header: _header, s.NoPosts: _no_posts, s.Spikes: _spikes,
    s.StanceUnscored: _stance_unscored, s.StanceNoneScored: _stance_none_scored, s.Stance: _stance,
    s.Themes: _themes, s.Rifts: _rifts,
    s.NewTargets: _new_targets, s.TopPosts: _top_posts, s.Newest: _newest,
    s.Channels: _channels, s.Health: _health, s.Block: _block,
    s.SpreadingSection: lambda section: render_spreading_text(section.spreading).splitlines(),
}


def render_text(digest: Digest, limits: s.SectionLimits | None = None) -> str:
    """The whole digest as plain text, ``limits`` rows a section (the default settings')."""
    return printable_lines(s.word_sections(s.digest_sections(digest, limits), WORDING))


def render_json(digest: Digest) -> str:
    """The digest's data as indented JSON, every string ``printable``."""
    return json.dumps(printable_data(digest.to_dict()), ensure_ascii=False, indent=2)


def render_search_text(hits: list[SearchHit]) -> str:
    """Search hits, nearest first: rank, similarity, #ref, feed, time, stance, quote, copies,
    link."""
    lines = []
    for rank, hit in enumerate(hits, start=1):
        post = hit.post
        stance = f" {post.stance}" if post.stance else ""
        link = f" {post.url}" if post.url else ""
        copies = f" (+{hit.copies - 1} copies)" if hit.copies > 1 else ""
        lines.append(f"{rank:>3}. {hit.similarity:.2f} #{post.item_id} [{post.feed_name} "
                     f"{_when(post.published_at)}{stance}] «{post.quote}»{copies}{link}")
    return printable_lines("\n".join(lines)) if lines else "no stored post matched"
