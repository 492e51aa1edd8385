"""The JSON shapes of lineage: graphs (:func:`to_dict`) and the store's records
(:func:`jsonable`), as the server's API and the CLI's ``--format json`` give them."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from lineage.queries.graph import LineageGraph


def to_dict(graph: LineageGraph) -> dict[str, Any]:
    """The graph as plain JSON-ready data."""
    return {
        "direction": graph.direction,
        "roots": list(graph.roots),
        "depth": graph.depth,
        "nodes": [
            {
                "kind": n.kind,
                "id": n.id,
                "label": n.label,
                "name": n.name,
                "latest_version": n.latest_version,
                "latest_state": n.latest_state,
                "latest_run_id": n.latest_run_id,
            }
            for n in sorted(graph.nodes.values(), key=lambda n: n.id)
        ],
        "edges": [
            {"source": e.source, "target": e.target, "kind": e.kind}
            for e in sorted(graph.edges, key=lambda e: (e.source, e.target))
        ],
    }


def jsonable(value: Any) -> Any:
    """Records (dataclasses), datetimes and tuples as plain JSON data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
