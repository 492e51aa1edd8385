"""Pictures of a lineage graph: Mermaid, Graphviz DOT, SVG and a self-contained HTML page.

Every format shows the same thing: datasets (rounded boxes) labelled with their table name and
latest version, jobs (square boxes) with the state of their latest run, and edges the way data
flows. A dataset is green when its latest data-quality assertions all passed and red when any
failed (:func:`dataset_quality` reads them from the store); a job whose latest run failed is red.

SVG and HTML need no Graphviz or other system package: :mod:`lineage.views.layout` places the
boxes. The HTML page (its template: ``graph.html`` beside this module) carries its data, styles
and script inline (no CDN, no network fetch), so it works offline and from a file.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from lineage.errors import QueryError
from lineage.queries.graph import DOWNSTREAM, UPSTREAM, LineageGraph
from lineage.views.layout import Layout, layered_layout, path_data

if TYPE_CHECKING:
    from lineage.store.metadata_store import MetadataStore

FORMATS = ("mermaid", "dot", "svg", "html")

_CHAR_WIDTH = 7.0
_NODE_HEIGHT = 44.0
_MIN_WIDTH, _MAX_WIDTH = 96.0, 300.0
_MAX_LABEL = 38
_QUALITY_VERSIONS = 25  # the latest checked version is among a dataset's newest this many

# fill, stroke per style; shared by every format.
COLORS = {
    "dataset": ("#e8f0fe", "#4a6fa5"),
    "dataset-passed": ("#dcf3df", "#2e7d32"),
    "dataset-failed": ("#fbdad7", "#c62828"),
    "job": ("#f1f1f1", "#5f6368"),
    "job-failed": ("#fff1e6", "#c62828"),
}


@dataclass(frozen=True)
class Quality:
    """The latest data-quality assertions recorded on a dataset."""

    version: str | None
    assertions: tuple[tuple[str, bool, str | None], ...]

    @property
    def passed(self) -> bool:
        return all(success for _, success, _ in self.assertions)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(_assertion_name(n, c) for n, ok, c in self.assertions if not ok)


@dataclass(frozen=True)
class NodeView:
    """How one node is drawn, whatever the format."""

    id: str
    kind: str
    title: str
    subtitle: str
    style: str  # a key of COLORS
    root: bool
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def tooltip(self) -> str:
        return "\n".join(f"{k}: {v}" for k, v in self.details.items() if v not in (None, ""))


def dataset_quality(store: MetadataStore, graph: LineageGraph) -> dict[str, Quality]:
    """Node id -> the latest quality assertions recorded on that dataset (datasets with any)."""
    found: dict[str, Quality] = {}
    for node in graph.nodes.values():
        if node.kind != "dataset":
            continue
        recent = store.artifacts(name=node.name, limit=_QUALITY_VERSIONS)
        checked = [a for a in recent if _assertions(a.properties)]
        if not checked:
            continue
        latest = max(checked, key=lambda a: (_version_key(a.version), a.update_time))
        found[node.id] = Quality(version=latest.version,
                                 assertions=_assertions(latest.properties))
    return found


def render(graph: LineageGraph, fmt: str, quality: dict[str, Quality] | None = None,
           title: str | None = None) -> str:
    """``graph`` in one of :data:`FORMATS`."""
    if fmt == "mermaid":
        return to_mermaid(graph, quality)
    if fmt == "dot":
        return to_dot(graph, quality)
    if fmt == "svg":
        return to_svg(graph, quality, title)
    if fmt == "html":
        return to_html(graph, quality, title)
    raise QueryError(f"graph format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def views(graph: LineageGraph, quality: dict[str, Quality] | None = None) -> list[NodeView]:
    """What each node shows (title, subtitle, colour, details), sorted by id."""
    quality = quality or {}
    roots = set(graph.roots)
    result = []
    for node in sorted(graph.nodes.values(), key=lambda n: n.id):
        if node.kind == "job":
            failed = node.latest_state in ("FAILED", "CANCELED")
            result.append(NodeView(
                id=node.id, kind="job", title=_shorten(node.label),
                subtitle=f"job · {node.latest_state.lower()}" if node.latest_state else "job",
                style="job-failed" if failed else "job", root=node.id in roots,
                details={"job": node.name, "latest run": node.latest_run_id,
                         "state": node.latest_state},
            ))
            continue
        check = quality.get(node.id)
        subtitle = f"v{node.latest_version}" if node.latest_version else "unversioned"
        style = "dataset"
        details: dict[str, Any] = {"dataset": node.label, "location": node.name,
                                   "latest version": node.latest_version}
        if check is not None:
            style = "dataset-passed" if check.passed else "dataset-failed"
            subtitle += " · quality " + ("passed" if check.passed else "failed")
            details["quality"] = (
                f"{len(check.assertions)} assertions passed at v{check.version}" if check.passed
                else f"failed at v{check.version}: {', '.join(check.failed)}"
            )
        result.append(NodeView(id=node.id, kind="dataset", title=_shorten(node.label),
                               subtitle=subtitle, style=style, root=node.id in roots,
                               details=details))
    return result


def to_mermaid(graph: LineageGraph, quality: dict[str, Quality] | None = None) -> str:
    """A Mermaid flowchart (left to right): datasets rounded, jobs square."""
    nodes = views(graph, quality)
    ids = {v.id: f"n{i}" for i, v in enumerate(nodes)}
    lines = ["flowchart LR"]
    for style, (fill, stroke) in COLORS.items():
        lines.append(f"    classDef {style.replace('-', '_')} fill:{fill},stroke:{stroke},"
                     "color:#202124")
    for v in nodes:
        label = f'"{_mermaid_text(v.title)}<br/>{_mermaid_text(v.subtitle)}"'
        shape = f"({label})" if v.kind == "dataset" else f"[{label}]"
        lines.append(f"    {ids[v.id]}{shape}")
    for edge in graph.edges:
        lines.append(f"    {ids[edge.source]} --> {ids[edge.target]}")
    by_style: dict[str, list[str]] = {}
    for v in nodes:
        by_style.setdefault(v.style, []).append(ids[v.id])
    for style, members in by_style.items():
        lines.append(f"    class {','.join(members)} {style.replace('-', '_')}")
    return "\n".join(lines) + "\n"


def to_dot(graph: LineageGraph, quality: dict[str, Quality] | None = None) -> str:
    """A Graphviz digraph (``dot -Tsvg`` draws it)."""
    lines = [
        "digraph lineage {",
        '    graph [rankdir=LR, fontname="Helvetica", nodesep=0.3, ranksep=0.7];',
        '    node [fontname="Helvetica", fontsize=11, shape=box];',
        '    edge [color="#7a869a", arrowsize=0.7];',
    ]
    for v in views(graph, quality):
        fill, stroke = COLORS[v.style]
        style = "rounded,filled" if v.kind == "dataset" else "filled"
        pen = ", penwidth=2" if v.root else ""
        label = _dot_id(f"{v.title}\n{v.subtitle}")
        lines.append(
            f"    {_dot_id(v.id)} [label={label}, "
            f'style="{style}", fillcolor="{fill}", color="{stroke}"{pen}, '
            f"tooltip={_dot_id(v.tooltip)}];"
        )
    for edge in graph.edges:
        lines.append(f"    {_dot_id(edge.source)} -> {_dot_id(edge.target)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(graph: LineageGraph, quality: dict[str, Quality] | None = None,
           title: str | None = None) -> str:
    """A standalone SVG drawn by the built-in layered layout."""
    nodes = views(graph, quality)
    placed = _layout(graph, nodes)
    esc = html.escape
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{placed.width:.0f}" '
        f'height="{placed.height:.0f}" viewBox="0 0 {placed.width:.0f} {placed.height:.0f}" '
        'font-family="Helvetica, Arial, sans-serif" font-size="12">',
        f"<title>{esc(title or _default_title(graph))}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#7a869a"/></marker></defs>',
        '<g class="edges">',
    ]
    for route in placed.routes:
        dash = ' stroke-dasharray="5,4"' if route.back else ""
        out.append(
            f'<g class="edge" data-source="{esc(route.source)}" data-target="{esc(route.target)}">'
            f'<path d="{path_data(route.points)}" fill="none" stroke="#7a869a" '
            f'stroke-width="1.4"{dash} marker-end="url(#arrow)"/></g>'
        )
    out.append('</g><g class="nodes">')
    for v in nodes:
        box = placed.boxes[v.id]
        fill, stroke = COLORS[v.style]
        rx = 14 if v.kind == "dataset" else 2
        out.append(
            f'<g class="node {v.kind} {v.style}" data-id="{esc(v.id)}" data-kind="{v.kind}" '
            f'transform="translate({box.x:.1f},{box.y:.1f})"><title>{esc(v.tooltip)}</title>'
            f'<rect width="{box.width:.1f}" height="{box.height:.1f}" rx="{rx}" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{2.5 if v.root else 1.2}"/>'
            f'<text x="{box.width / 2:.1f}" y="18" text-anchor="middle" font-weight="bold" '
            f'fill="#202124">{esc(v.title)}</text>'
            f'<text x="{box.width / 2:.1f}" y="34" text-anchor="middle" font-size="11" '
            f'fill="#5f6368">{esc(v.subtitle)}</text></g>'
        )
    out.append("</g></svg>")
    return "\n".join(out) + "\n"


def to_html(graph: LineageGraph, quality: dict[str, Quality] | None = None,
            title: str | None = None) -> str:
    """A self-contained page whose inline script draws the graph (pan, zoom, node details)."""
    nodes = views(graph, quality)
    placed = _layout(graph, nodes)
    data = {
        "title": title or _default_title(graph),
        "direction": graph.direction,
        "width": round(placed.width, 1),
        "height": round(placed.height, 1),
        "colors": COLORS,
        "nodes": [
            {"id": v.id, "kind": v.kind, "title": v.title, "subtitle": v.subtitle,
             "style": v.style, "root": v.root, "details": v.details,
             "x": round(placed.boxes[v.id].x, 1), "y": round(placed.boxes[v.id].y, 1),
             "w": round(placed.boxes[v.id].width, 1), "h": round(placed.boxes[v.id].height, 1)}
            for v in nodes
        ],
        "edges": [
            {"source": r.source, "target": r.target, "back": r.back, "d": path_data(r.points)}
            for r in placed.routes
        ],
    }
    payload = (json.dumps(data, default=str, sort_keys=True)
               .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    template = resources.files("lineage.views").joinpath("graph.html").read_text(encoding="utf-8")
    fills = {"TITLE": html.escape(data["title"]), "DATA": payload}
    return re.sub(r"__LINEAGE_(TITLE|DATA)__", lambda m: fills[m.group(1)], template)


# ------------------------------------------------------------------ helpers


def _layout(graph: LineageGraph, nodes: list[NodeView]) -> Layout:
    sizes = {
        v.id: (min(_MAX_WIDTH, max(_MIN_WIDTH, _CHAR_WIDTH * max(len(v.title), len(v.subtitle))
                                   + 28)), _NODE_HEIGHT)
        for v in nodes
    }
    return layered_layout(sizes, [(e.source, e.target) for e in graph.edges])


def _default_title(graph: LineageGraph) -> str:
    roots = ", ".join(graph.nodes[r].label for r in graph.roots if r in graph.nodes)
    way = {UPSTREAM: "upstream of", DOWNSTREAM: "downstream of"}.get(graph.direction, "around")
    return f"Lineage {way} {roots}" if roots else "Lineage"


def _shorten(label: str) -> str:
    """Long paths keep their last parts: ``…/orders/2024-01-31/orders.csv``."""
    if len(label) <= _MAX_LABEL:
        return label
    parts = label.rstrip("/").split("/")
    tail = parts.pop()
    while parts and len(parts[-1]) + len(tail) + 2 <= _MAX_LABEL:
        tail = f"{parts.pop()}/{tail}"
    if len(tail) > _MAX_LABEL - 1:
        tail = tail[-(_MAX_LABEL - 1):]
    return f"…/{tail}" if parts else f"…{tail}"


def _assertions(properties: dict[str, Any]) -> tuple[tuple[str, bool, str | None], ...]:
    found = (properties.get("quality") or {}).get("assertions") or []
    return tuple(
        (str(a.get("assertion")), bool(a.get("success")), a.get("column"))
        for a in found if isinstance(a, dict)
    )


def _assertion_name(name: str, column: str | None) -> str:
    return f"{name}({column})" if column else name


def _version_key(version: str | None) -> tuple[int, int, str]:
    if version is None:
        return (0, 0, "")
    return (2, int(version), "") if version.isdigit() else (1, 0, version)


def _mermaid_text(text: str) -> str:
    return (text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;")
            .replace(">", "#gt;"))


def _dot_id(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
