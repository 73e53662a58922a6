"""Render an amplification graph as JSON, GEXF (for Gephi) or a PNG drawing.

Formats given data only; never reads the store (``digest.graph`` composes). CSV is written
by the CLI through the byod row writer, which neutralises spreadsheet formulas.
"""

from __future__ import annotations

import io
from typing import Any

import networkx as nx
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from digest.graph import AmplificationGraph
from digest.telegram_html import escape, fit_caption
from store.edges import EDGE_KINDS

EDGE_COLUMNS = ["source", "target", "kind", "count", "first_seen", "last_seen", "items"]
KIND_COLOURS = {"forward": "#2471a3", "mention": "#7d3c98", "quote": "#1e8449",
                "attack": "#c0392b"}
_CRITICAL_MAP = LinearSegmentedColormap.from_list("critical", ["#d5dbdb", "#c0392b"])
TARGET_COLOUR = "#f5b041"


def edge_rows(result: AmplificationGraph) -> list[dict[str, Any]]:
    """One row per edge, CSV columns, items space-separated."""
    return [{"source": edge.source, "target": edge.target, "kind": edge.kind,
             "count": edge.count, "first_seen": edge.first_seen, "last_seen": edge.last_seen,
             "items": " ".join(str(item) for item in edge.items)} for edge in result.edges]


def graph_json(result: AmplificationGraph) -> dict[str, Any]:
    """Window, nodes, edges (items as id lists) and named communities, JSON-ready."""
    graph = result.graph
    return {
        "since": result.since.isoformat(), "until": result.until.isoformat(),
        "kinds": list(result.kinds),
        "nodes": [{"id": name, **data} for name, data in graph.nodes(data=True)],
        "edges": [{"source": edge.source, "target": edge.target, "kind": edge.kind,
                   "count": edge.count, "first_seen": edge.first_seen,
                   "last_seen": edge.last_seen, "items": edge.items} for edge in result.edges],
        "communities": [{"name": community.name, "members": community.members}
                        for community in result.communities],
    }


def graph_gexf(result: AmplificationGraph) -> bytes:
    """The graph as GEXF 1.2 (Gephi reads it; so does ``networkx.read_gexf``)."""
    buffer = io.BytesIO()
    nx.write_gexf(result.graph, buffer)
    return buffer.getvalue()


def _drawn_nodes(graph: nx.MultiDiGraph, max_nodes: int) -> list[str]:
    degree = dict(graph.degree(weight="count"))
    ranked = sorted(graph.nodes, key=lambda name: (-degree.get(name, 0),
                                                   -graph.nodes[name]["posts"], name))
    return ranked[:max_nodes]


def _node_colour(data: dict[str, Any]) -> Any:
    if data["kind"] != "channel":
        return TARGET_COLOUR
    return _CRITICAL_MAP(float(data["critical_share"]))


def _draw_edges_of_kind(axes: Any, graph: nx.MultiDiGraph, positions: dict[str, Any],
                        kind: str) -> None:
    chosen = [(u, v, data) for u, v, data in graph.edges(data=True) if data["kind"] == kind]
    if not chosen:
        return
    bend = 0.08 * (EDGE_KINDS.index(kind) + 1)  # kinds between one pair stay apart
    nx.draw_networkx_edges(graph, positions, ax=axes, edgelist=[(u, v) for u, v, _ in chosen],
                           width=[min(1 + data["count"] / 2, 6) for *_, data in chosen],
                           edge_color=KIND_COLOURS[kind], arrows=True, arrowsize=12,
                           connectionstyle=f"arc3,rad={bend}", node_size=400, alpha=0.8)


def render_graph_png(result: AmplificationGraph, max_nodes: int = 60, dpi: int = 110) -> bytes:
    """Nodes sized by posts and coloured by share critical (targets amber); edges coloured
    by kind, width by count. A bare Agg ``Figure``: safe off the main thread."""
    graph = result.graph.subgraph(_drawn_nodes(result.graph, max_nodes))
    figure = Figure(figsize=(9, 7), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_axis_off()
    positions = nx.spring_layout(nx.Graph(graph), seed=15, weight=None) if graph else {}
    nodes = list(graph.nodes(data=True))
    nx.draw_networkx_nodes(graph, positions, ax=axes, nodelist=[name for name, _ in nodes],
                           node_size=[120 + 25 * min(int(data["posts"]), 80) for _, data in nodes],
                           node_color=[_node_colour(data) for _, data in nodes],
                           edgecolors="#333333", linewidths=0.6)
    for kind in EDGE_KINDS:
        _draw_edges_of_kind(axes, graph, positions, kind)
    nx.draw_networkx_labels(graph, positions, ax=axes, font_size=7,
                            labels={name: name for name in graph.nodes})
    axes.legend(handles=[Line2D([0], [0], color=KIND_COLOURS[kind], label=kind)
                         for kind in result.kinds], loc="lower left", fontsize=7, frameon=False)
    axes.set_title(f"Amplification {result.since:%Y-%m-%d %H:%M} → {result.until:%Y-%m-%d %H:%M} "
                   "UTC (node colour: share critical)", fontsize=9)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def graph_caption(result: AmplificationGraph, top: int = 5) -> str:
    """A Telegram HTML caption (≤ 1,024 characters) for the PNG: window, busiest edges,
    communities; every name escaped."""
    lines = [f"<b>Amplification</b> {result.since:%d %b %H:%M} – {result.until:%d %b %H:%M} UTC "
             f"· {escape(', '.join(result.kinds))}",
             f"{result.graph.number_of_nodes()} nodes, {len(result.edges)} edges"]
    lines += [f"{escape(edge.source)} → {escape(edge.target)} {edge.kind} ×{edge.count}"
              for edge in result.edges[:top]]
    if result.communities:
        lines.append("Communities: " + "; ".join(
            f"{escape(community.name)} ({len(community.members)})"
            for community in result.communities[:top]))
    return fit_caption("\n".join(lines))
