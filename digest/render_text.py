"""Render a Digest as plain console text or JSON; pure formatting, no store access."""

from __future__ import annotations

import json
from datetime import datetime

from digest.model import STANCES, Digest, PostRef, ThemeRow


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "?"


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def _post_line(post: PostRef) -> str:
    link = f" {post.url}" if post.url else ""
    note = " (other language)" if post.other_language else ""
    return f"    [{post.feed_name} {_when(post.published_at)}] «{post.quote}»{note}{link}"


def _header(digest: Digest) -> list[str]:
    roles = ", ".join(f"{role} {count}" for role, count in sorted(digest.items_by_role.items()))
    scope = []
    if digest.channel_filter:
        scope.append(f"channel {digest.channel_filter}")
    if digest.theme_filter:
        scope.append(f"theme {digest.theme_filter}")
    lines = [
        f"riftwatch digest {_when(digest.since)} → {_when(digest.until)} UTC"
        + (f" ({'; '.join(scope)})" if scope else ""),
        f"Items: {digest.total_items}" + (f" ({roles})" if roles else ""),
    ]
    if digest.model_version:
        lines.append(f"Scored: {digest.scored_items} by model {digest.model_version}")
    else:
        lines.append("Scored: none yet (run `riftwatch score-pending` or wait for the pipeline)")
    return lines


def _stance_lines(digest: Digest) -> list[str]:
    mix = digest.stance
    if mix is None or mix.total == 0:
        return []
    lines = ["", f"Stance of {digest.subject_role} posts (n={mix.total}) vs their "
                 f"{digest.baseline_days}-day normal (n={mix.baseline_total}) "
                 f"and the news (n={mix.news_total}):"]
    for stance in STANCES:
        lines.append(f"  {stance:<11} {_pct(mix.shares[stance]):>4}   "
                     f"normal {_pct(mix.baseline_shares[stance]):>4}   "
                     f"news {_pct(mix.news_shares[stance]):>4}")
    return lines


def theme_sentence(row: ThemeRow, baseline_days: int) -> str:
    """'Against the Defence Ministry: 9/45 posts (20%), 3.1x its 14-day normal (z=4.2) …'."""
    return (
        f"{row.label}: {row.count}/{row.total} posts ({_pct(row.share)}), "
        f"{row.lift:.1f}x its {baseline_days}-day normal ({row.baseline_count}/"
        f"{row.baseline_total}; z={row.z:.1f}, p={row.p_value:.2g}); "
        f"news {row.news_count}/{row.news_total} ({row.news_lift:.1f}x)"
    )


def _theme_lines(digest: Digest) -> list[str]:
    if not digest.themes:
        return []
    lines = ["", "Theme spikes:" if digest.spikes else "Themes (no spike above the threshold):"]
    rows = digest.spikes or [row for row in digest.themes if row.count > 0][:5]
    for row in rows:
        lines.append(("  ▲ " if row.spike else "  · ") + theme_sentence(row, digest.baseline_days))
        lines.extend(_post_line(post) for post in digest.top_posts.get(row.theme, []))
    return lines


def _rift_lines(digest: Digest) -> list[str]:
    if not digest.rifts:
        return []
    lines = ["", "Top rifts (who attacks whom):"]
    for rift in digest.rifts[:5]:
        posts = "post" if rift.count == 1 else "posts"
        lines.append(f"  {rift.source} → {rift.target_label}: {rift.count} {posts}")
        lines.extend(_post_line(post) for post in rift.evidence)
    return lines


def _channel_lines(digest: Digest) -> list[str]:
    if not digest.channels:
        return []
    lines = ["Channels:", f"  {'channel':<22} {'role':<8} {'posts':>5} {'critical':>8}  "
                          f"{'top theme':<17} last post"]
    for row in digest.channels:
        lines.append(
            f"  {row.feed_name[:22]:<22} {row.role:<8} {row.posts:>5} "
            f"{row.stance_counts.get('critical', 0):>8}  {(row.top_theme or '-'):<17} "
            f"{_when(row.last_post_at)}"
        )
    return ["", *lines]


def _newest_lines(digest: Digest) -> list[str]:
    if not digest.newest or digest.themes:
        return []
    return ["", "Newest posts:", *(_post_line(post) for post in digest.newest)]


def _health_lines(digest: Digest) -> list[str]:
    failing = [feed for feed in digest.health if feed.last_error and feed.error_count]
    ok = sum(1 for feed in digest.health if feed.enabled and not feed.error_count)
    lines = ["", f"Feed health: {ok} ok, {len(failing)} failing"]
    lines.extend(f"  ✗ {feed.name}: {feed.last_error} (failures: {feed.error_count}, "
                 f"retry after {feed.next_retry_at})" for feed in failing)
    return lines


def render_text(digest: Digest) -> str:
    sections = (_header, _stance_lines, _theme_lines, _rift_lines, _channel_lines,
                _newest_lines, _health_lines)
    return "\n".join(line for section in sections for line in section(digest))


def render_json(digest: Digest) -> str:
    return json.dumps(digest.to_dict(), ensure_ascii=False, indent=2)
