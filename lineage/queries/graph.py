"""The lineage graph of a dataset or job: upstream, downstream, or both ways.

A graph alternates dataset -> job -> dataset. A job node is an OpenLineage job (the store's
execution type) aggregated over all its runs; a dataset node is a dataset across all its versions.
Edges always point the way data flows: ``dataset -> job`` (the job read it, INPUT) and
``job -> dataset`` (the job wrote it, OUTPUT), whichever direction the query walks.

``depth`` counts jobs: ``upstream(store, "silver.orders", depth=1)`` is the jobs that wrote
silver.orders and what they read; ``depth=0`` is the node alone; ``None`` walks to the sources.
Pictures of a graph are in :mod:`lineage.views`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lineage.errors import InvalidLocationError, QueryError, UnknownNodeError
from lineage.events.naming import location_key

if TYPE_CHECKING:
    from datetime import datetime

    from lineage.store.metadata_store import MetadataStore
    from lineage.store.results import DatasetSummary, JobSummary

UPSTREAM = "upstream"
DOWNSTREAM = "downstream"
BOTH = "both"
DIRECTIONS = (UPSTREAM, DOWNSTREAM, BOTH)
_MAX_SUGGESTIONS = 10


@dataclass(frozen=True)
class LineageNode:
    """A dataset (across versions) or a job (across runs)."""

    kind: str  # "dataset" or "job"
    id: str  # "dataset:<key>" or "job:<name>"
    label: str  # the table name if known, else the path; the job name
    name: str  # the dataset key (namespace + name as a URI) or the job name
    latest_version: str | None = None  # datasets: latest version seen
    latest_state: str | None = None  # jobs: state of the latest run
    latest_run_id: str | None = None  # jobs: the latest run


@dataclass(frozen=True)
class LineageEdge:
    """Data flowing from ``source`` to ``target`` (node ids); kind INPUT or OUTPUT."""

    source: str
    target: str
    kind: str


@dataclass(frozen=True)
class LineageGraph:
    """The result of :func:`upstream` / :func:`downstream`."""

    direction: str
    roots: tuple[str, ...]
    depth: int | None
    nodes: dict[str, LineageNode] = field(default_factory=dict)
    edges: tuple[LineageEdge, ...] = ()


def upstream(
    store: MetadataStore, node: str, depth: int | None = None, *, as_of: datetime | None = None
) -> LineageGraph:
    """Everything ``node`` was computed from, to ``depth`` jobs back (None: all the way).

    With ``as_of``, the graph as it stood then: only links recorded by events at or before that
    time, versions and run states as they were (``"what fed this table on date D"``).
    """
    return _walk(store, node, depth, UPSTREAM, as_of)


def downstream(
    store: MetadataStore, node: str, depth: int | None = None, *, as_of: datetime | None = None
) -> LineageGraph:
    """Everything computed from ``node``, to ``depth`` jobs on (None: all the way); ``as_of``
    as in :func:`upstream`."""
    return _walk(store, node, depth, DOWNSTREAM, as_of)


def neighbourhood(
    store: MetadataStore, node: str, *, direction: str = BOTH, depth: int | None = None,
    as_of: datetime | None = None,
) -> LineageGraph:
    """The lineage graph of ``node``: upstream, downstream or both ways (merged)."""
    if direction not in DIRECTIONS:
        raise QueryError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    walks = [upstream, downstream] if direction == BOTH else (
        [upstream] if direction == UPSTREAM else [downstream]
    )
    graphs = [walk(store, node, depth, as_of=as_of) for walk in walks]
    if len(graphs) == 1:
        return graphs[0]
    nodes = {**graphs[0].nodes, **graphs[1].nodes}
    edges = sorted(set(graphs[0].edges) | set(graphs[1].edges), key=lambda e: (e.source, e.target))
    return LineageGraph(direction=BOTH, roots=graphs[0].roots, depth=depth, nodes=nodes,
                        edges=tuple(edges))


def resolve(store: MetadataStore, node: str) -> tuple[list[str], list[str]]:
    """``(dataset keys, job names)`` that ``node`` names: a dataset key, a table name (symlink),
    an OpenLineage dataset name, a path or URI, or a job. :class:`UnknownNodeError` if none."""
    keys, is_job = store.lookup(node)
    if not keys:
        try:
            keys = store.lookup(location_key(node))[0]
        except InvalidLocationError:
            keys = []
    if keys:
        return keys, []
    if is_job:
        return [], [node]
    names, jobs, tables = store.known_names()
    close = difflib.get_close_matches(node, sorted(set(names) | set(jobs)),
                                      n=_MAX_SUGGESTIONS, cutoff=0.6)
    raise UnknownNodeError(node, close, tables[:_MAX_SUGGESTIONS])


def _walk(
    store: MetadataStore, node: str, depth: int | None, direction: str, as_of: datetime | None
) -> LineageGraph:
    if depth is not None and depth < 0:
        raise QueryError(
            f"depth must be None (no limit) or a number of jobs >= 0, got {depth}"
        )
    if as_of is not None and (as_of.tzinfo is None or as_of.utcoffset() is None):
        raise QueryError(f"as_of {as_of!r} has no timezone: pass an aware datetime (UTC)")
    keys, jobs = resolve(store, node)
    if as_of is not None and not (store.datasets(keys, as_of) or store.jobs(jobs, as_of)):
        raise QueryError(
            f"{node!r} was not in the lineage store as of {as_of.isoformat()}: nothing about it "
            "had been recorded by then; pass a later --as-of, or none for the graph as it is now"
        )
    # Upstream: a dataset's neighbours are the jobs that wrote it (OUTPUT), a job's are what it
    # read (INPUT). Downstream the other way round.
    to_jobs, to_datasets = ("OUTPUT", "INPUT") if direction == UPSTREAM else ("INPUT", "OUTPUT")
    edges: set[LineageEdge] = set()
    seen_keys, seen_jobs = set(keys), set(jobs)
    frontier_keys, frontier_jobs = set(keys), set(jobs)
    hops = 0
    while frontier_keys or frontier_jobs:
        if frontier_keys and (depth is None or hops < depth):
            hops += 1
            for key, job in store.links(to_jobs, keys=frontier_keys, as_of=as_of):
                edges.add(_edge(key, job, to_jobs))
                if job not in seen_jobs:
                    seen_jobs.add(job)
                    frontier_jobs.add(job)
        frontier_keys = set()
        for key, job in store.links(to_datasets, jobs=frontier_jobs, as_of=as_of):
            edges.add(_edge(key, job, to_datasets))
            if key not in seen_keys:
                seen_keys.add(key)
                frontier_keys.add(key)
        frontier_jobs = set()
    datasets = store.datasets(seen_keys, as_of)
    job_summaries = store.jobs(seen_jobs, as_of)
    nodes = {f"dataset:{k}": _dataset_node(datasets[k]) for k in seen_keys if k in datasets}
    nodes.update({f"job:{j}": _job_node(job_summaries[j]) for j in seen_jobs
                  if j in job_summaries})
    roots = tuple(f"dataset:{k}" for k in keys) + tuple(f"job:{j}" for j in jobs)
    return LineageGraph(direction=direction, roots=roots, depth=depth, nodes=nodes,
                        edges=tuple(sorted(edges, key=lambda e: (e.source, e.target))))


def _edge(key: str, job: str, kind: str) -> LineageEdge:
    if kind == "INPUT":
        return LineageEdge(source=f"dataset:{key}", target=f"job:{job}", kind=kind)
    return LineageEdge(source=f"job:{job}", target=f"dataset:{key}", kind=kind)


def _dataset_node(summary: DatasetSummary) -> LineageNode:
    return LineageNode(
        kind="dataset",
        id=f"dataset:{summary.key}",
        label=summary.tables[0] if summary.tables else summary.name,
        name=summary.key,
        latest_version=summary.latest_version,
    )


def _job_node(summary: JobSummary) -> LineageNode:
    return LineageNode(
        kind="job",
        id=f"job:{summary.name}",
        label=summary.name,
        name=summary.name,
        latest_state=summary.latest_state,
        latest_run_id=summary.latest_run_id,
    )
