"""A lineage graph as an indented text tree from each root, walking the query's direction (what
``lakehouse lineage upstream|downstream`` prints)."""

from __future__ import annotations

from lineage.queries.graph import UPSTREAM, LineageGraph, LineageNode


def render_text(graph: LineageGraph) -> str:
    """The graph as an indented tree from each root, walking the query's direction.

    A node reached twice is printed once in full; later mentions end with ``(see above)``.
    """
    children: dict[str, list[str]] = {}
    for edge in graph.edges:
        parent, child = edge.source, edge.target
        if graph.direction == UPSTREAM:
            parent, child = child, parent
        children.setdefault(parent, []).append(child)
    arrow = "<-" if graph.direction == UPSTREAM else "->"
    lines: list[str] = []
    shown: set[str] = set()

    def visit(node_id: str, prefix: str, last: bool, top: bool) -> None:
        node = graph.nodes[node_id]
        repeated = node_id in shown and node_id in children
        text = _describe(node) + (" (see above)" if repeated else "")
        if top:
            lines.append(text)
            child_prefix = ""
        else:
            lines.append(f"{prefix}{'└── ' if last else '├── '}{arrow} {text}")
            child_prefix = prefix + ("    " if last else "│   ")
        if node_id in shown:
            return
        shown.add(node_id)
        kids = sorted(set(children.get(node_id, ())), key=lambda i: graph.nodes[i].label)
        for index, kid in enumerate(kids):
            visit(kid, child_prefix, index == len(kids) - 1, False)

    for root in graph.roots:
        visit(root, "", True, True)
    return "\n".join(lines)


def _describe(node: LineageNode) -> str:
    if node.kind == "job":
        state = f", last run {node.latest_state}" if node.latest_state else ""
        return f"{node.label}  [job{state}]"
    version = f" v{node.latest_version}" if node.latest_version else ""
    where = "" if node.name.endswith(node.label) else f"  {node.name}"  # table: show where
    return f"{node.label}  [dataset{version}]{where}"
