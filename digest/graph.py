"""Compose the amplification graph of a window (networkx): who forwards, mentions, quotes and
attacks whom, each node with its posts and share critical, and its Louvain communities.

Reads stored edges and counts; never extracts edges or renders (``digest.graph_render``).
Every name and label in the graph is ``printable``, so each format written from it (CSV, JSON,
GEXF, PNG, a Telegram caption) is free of control and bidi characters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import networkx as nx
import sqlite_utils

from config.errors import RiftwatchError
from config.themes import Taxonomy
from digest.printable import printable
from store.edges import EDGE_KINDS, Edge, edges_between
from store.posts import channel_tallies
from store.scores import latest_model_version

LOUVAIN_SEED = 15  # communities are the same on every run over the same edges


class UnknownKindError(RiftwatchError, ValueError):
    """An edge kind that is not one of EDGE_KINDS; ``str()`` names the kinds there are."""


def parse_kinds(text: str | None) -> tuple[str, ...]:
    """'forward,quote' → ('forward', 'quote'); None or '' → every kind."""
    if not text:
        return EDGE_KINDS
    kinds = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [kind for kind in kinds if kind not in EDGE_KINDS]
    if unknown or not kinds:
        raise UnknownKindError(f"unknown edge kind {', '.join(unknown) or text[:40]!r}; "
                               f"kinds: {', '.join(EDGE_KINDS)}")
    return kinds


@dataclass
class Community:
    """One Louvain community, named after its busiest member."""

    name: str
    members: list[str]


@dataclass
class AmplificationGraph:
    """The graph of one window with the plain data renderers need."""

    since: datetime
    until: datetime
    kinds: tuple[str, ...]
    graph: nx.MultiDiGraph
    edges: list[Edge]
    communities: list[Community] = field(default_factory=list)


@dataclass(frozen=True)
class ChannelActivity:
    name: str
    title: str | None
    role: str
    posts: int
    critical: int


def channel_activity(db: sqlite_utils.Database, since: datetime, until: datetime
                     ) -> dict[str, ChannelActivity]:
    """Posts and critical posts (latest model) per feed in [since, until), in one query."""
    return {tally.name: ChannelActivity(tally.name, tally.title, tally.role, tally.posts,
                                        tally.stances["critical"])
            for tally in channel_tallies(db, latest_model_version(db), since, until)}


def _node_attributes(name: str, activity: dict[str, ChannelActivity],
                     target_labels: dict[str, str], attacked: dict[str, int]) -> dict[str, Any]:
    if name in activity:
        channel = activity[name]
        share = channel.critical / channel.posts if channel.posts else 0.0
        return {"label": printable(channel.title or name), "kind": "channel",
                "role": channel.role, "posts": channel.posts, "critical_share": round(share, 4)}
    kind = "target" if name in target_labels else "external"
    return {"label": printable(target_labels.get(name, name)), "kind": kind, "role": kind,
            "posts": attacked.get(name, 0), "critical_share": 0.0}


def _printable_edges(edges: list[Edge]) -> list[Edge]:
    """``edges`` with ``printable`` names, busiest first; two edges whose names differ only in
    dropped characters become one, with the posts of both."""
    merged: dict[tuple[str, str, str], Edge] = {}
    for edge in edges:
        key = (printable(edge.source), printable(edge.target), edge.kind)
        other = merged.get(key)
        if other is None:
            unchanged = key[:2] == (edge.source, edge.target)
            merged[key] = edge if unchanged else replace(edge, source=key[0], target=key[1])
            continue
        items = sorted({*edge.items, *other.items})
        merged[key] = Edge(*key, count=len(items), items=items,
                           first_seen=min(edge.first_seen, other.first_seen),
                           last_seen=max(edge.last_seen, other.last_seen))
    return sorted(merged.values(),
                  key=lambda edge: (-edge.count, edge.source, edge.target, edge.kind))


def build_graph(db: sqlite_utils.Database, since: datetime, until: datetime,
                kinds: Sequence[str] = EDGE_KINDS, taxonomy: Taxonomy | None = None
                ) -> AmplificationGraph:
    """The graph of [since, until): one edge per (source, target, kind), keyed by kind."""
    edges = _printable_edges(edges_between(db, since, until, kinds))
    activity = channel_activity(db, since, until)
    labels = {target.name: target.label for target in taxonomy.targets} if taxonomy else {}
    attacked: dict[str, int] = defaultdict(int)
    for edge in edges:
        if edge.kind == "attack":
            attacked[edge.target] += edge.count
    graph = nx.MultiDiGraph()
    names = sorted({name for edge in edges for name in (edge.source, edge.target)}
                   | {name for name, channel in activity.items() if channel.role == "blogger"})
    for name in names:
        graph.add_node(name, **_node_attributes(name, activity, labels, attacked))
    for edge in edges:
        graph.add_edge(edge.source, edge.target, key=edge.kind, kind=edge.kind,
                       count=edge.count, first_seen=edge.first_seen, last_seen=edge.last_seen,
                       items=" ".join(str(item) for item in edge.items))
    result = AmplificationGraph(since, until, tuple(kinds), graph, edges)
    result.communities = louvain_communities(graph)
    for community in result.communities:
        for member in community.members:
            graph.nodes[member]["community"] = community.name
    return result


def louvain_communities(graph: nx.MultiDiGraph) -> list[Community]:
    """Louvain over the undirected graph weighted by edge counts, largest community first."""
    undirected = nx.Graph()
    undirected.add_nodes_from(graph.nodes)
    for source, target, data in graph.edges(data=True):
        if source == target:
            continue
        weight = undirected.get_edge_data(source, target, {"weight": 0})["weight"]
        undirected.add_edge(source, target, weight=weight + data["count"])
    groups = nx.community.louvain_communities(undirected, weight="weight", seed=LOUVAIN_SEED)
    communities = []
    for members in sorted(groups, key=lambda group: (-len(group), sorted(group))):
        busiest = max(sorted(members), key=lambda name: graph.nodes[name]["posts"])
        communities.append(Community(f"around {busiest}", sorted(members)))
    return communities
