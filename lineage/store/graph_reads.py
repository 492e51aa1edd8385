"""The store reads that lineage walks are made of, each one indexed query (or a few).

:class:`lineage.store.metadata_store.MetadataStore` runs them on its connections (``datasets``,
``jobs``, ``links``, ``lookup``, ``known_names``); :mod:`lineage.queries.graph` walks with them.

Every function takes an open connection and an optional ``as_of``: with it, only what the store
had heard of at or before that time counts (links whose event time is <= ``as_of``, runs first
seen by then, versions written by then), so a walk shows the graph as it stood at that moment.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select

from lineage.store import schema as t
from lineage.store.results import DatasetSummary, JobSummary
from lineage.store.schema import name_digest

TABLE, NAME, KEY = "table", "name", "key"


def aware(moment: datetime | None) -> datetime | None:
    """``moment`` as aware UTC (naive means UTC), or None."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def dataset_keys(conn: Connection, alias: str) -> list[str]:
    """The keys of the datasets that answer to ``alias`` (a key, OpenLineage name or table)."""
    query = select(t.dataset_alias.c.name).where(
        t.dataset_alias.c.alias_digest == name_digest(alias)
    ).distinct()
    return sorted(row.name for row in conn.execute(query))


def job_exists(conn: Connection, job: str) -> bool:
    query = select(t.execution_type.c.id).where(t.execution_type.c.name == job)
    return conn.execute(query).first() is not None


def known_names(conn: Connection) -> tuple[list[str], list[str]]:
    """``(table and dataset names, job names)``: for suggestions when a node is unknown."""
    aliases = conn.execute(
        select(t.dataset_alias.c.alias, t.dataset_alias.c.kind).distinct()
        .where(t.dataset_alias.c.kind.in_([TABLE, NAME]))
    ).all()
    jobs = conn.execute(select(t.execution_type.c.name)).scalars().all()
    return sorted({a.alias for a in aliases}), sorted(jobs)


def known_tables(conn: Connection) -> list[str]:
    query = select(t.dataset_alias.c.alias).distinct().where(t.dataset_alias.c.kind == TABLE)
    return sorted(conn.execute(query).scalars())


def links(
    conn: Connection, direction: str, *, keys: Iterable[str] = (), jobs: Iterable[str] = (),
    as_of: datetime | None = None,
) -> set[tuple[str, str]]:
    """``(dataset key, job)`` pairs with an event of ``direction`` (INPUT/OUTPUT) on any run,
    for the given datasets or the given jobs."""
    keys, jobs = list(keys), list(jobs)
    if not keys and not jobs:
        return set()
    conditions = [t.event.c.type == direction]
    if keys:
        conditions.append(t.artifact.c.name_digest.in_([name_digest(k) for k in keys]))
    if jobs:
        conditions.append(t.execution_type.c.name.in_(jobs))
    if as_of is not None:
        conditions.append(t.event.c.time <= aware(as_of))
    query = (
        select(t.artifact.c.name, t.execution_type.c.name.label("job")).distinct()
        .select_from(t.event)
        .join(t.artifact, t.artifact.c.id == t.event.c.artifact_id)
        .join(t.execution, t.execution.c.id == t.event.c.execution_id)
        .join(t.execution_type, t.execution_type.c.id == t.execution.c.type_id)
        .where(and_(*conditions))
    )
    return {(row.name, row.job) for row in conn.execute(query)}


def datasets(
    conn: Connection, keys: Iterable[str], as_of: datetime | None = None
) -> dict[str, DatasetSummary]:
    """The named datasets summarised across their versions (those that existed at ``as_of``)."""
    digests = {name_digest(k): k for k in keys}
    if not digests:
        return {}
    where = [t.artifact.c.name_digest.in_(list(digests))]
    base = select(t.artifact.c.name_digest).select_from(t.artifact)
    if as_of is not None:
        seen = select(t.event.c.artifact_id).where(t.event.c.time <= aware(as_of))
        where.append(t.artifact.c.id.in_(seen))
    numeric = {
        row.name_digest: row.latest for row in conn.execute(
            base.add_columns(func.max(t.artifact.c.version_number).label("latest"),
                             func.min(t.artifact.c.id).label("first_id"))
            .where(*where).group_by(t.artifact.c.name_digest)
        )
    }
    if not numeric:
        return {}
    texts = {
        row.name_digest: row.latest for row in conn.execute(
            base.add_columns(func.max(t.artifact.c.version).label("latest"))
            .where(*where, t.artifact.c.version != "", t.artifact.c.version_number.is_(None))
            .group_by(t.artifact.c.name_digest)
        )
    }
    firsts = conn.execute(
        select(t.artifact.c.name_digest, t.artifact.c.properties)
        .where(t.artifact.c.id.in_(
            select(func.min(t.artifact.c.id)).where(*where).group_by(t.artifact.c.name_digest)
        ))
    ).all()
    tables: dict[str, set[str]] = {}
    for row in conn.execute(
        select(t.dataset_alias.c.name_digest, t.dataset_alias.c.alias)
        .where(t.dataset_alias.c.name_digest.in_(list(numeric)), t.dataset_alias.c.kind == TABLE)
    ):
        tables.setdefault(row.name_digest, set()).add(row.alias)
    found = {}
    for row in firsts:
        key = digests[row.name_digest]
        latest = numeric.get(row.name_digest)
        properties = row.properties or {}
        found[key] = DatasetSummary(
            key=key,
            namespace=str(properties.get("namespace", "")),
            name=str(properties.get("name", key)),
            tables=tuple(sorted(tables.get(row.name_digest, ()))),
            latest_version=str(latest) if latest is not None else texts.get(row.name_digest),
        )
    return found


def jobs(
    conn: Connection, names: Iterable[str], as_of: datetime | None = None
) -> dict[str, JobSummary]:
    """The named jobs with their run count and latest run (as they stood at ``as_of``)."""
    names = list(names)
    if not names:
        return {}
    moment = aware(as_of)
    where = [t.execution_type.c.name.in_(names)]
    if moment is not None:
        where.append(t.execution.c.first_event_time <= moment)
    joined = select(t.execution_type.c.name.label("job")).select_from(t.execution_type).join(
        t.execution, t.execution.c.type_id == t.execution_type.c.id
    )
    counts = {row.job: row.runs for row in conn.execute(
        joined.add_columns(func.count(t.execution.c.id).label("runs"))
        .where(*where).group_by(t.execution_type.c.name)
    )}
    found = {}
    for name in names:
        if not counts.get(name):
            if moment is None and job_exists(conn, name):
                found[name] = JobSummary(name, 0, None, None, None)
            continue
        latest = conn.execute(
            joined.add_columns(t.execution.c.name.label("run_id"), t.execution.c.state,
                               t.execution.c.start_time, t.execution.c.end_time)
            .where(*where[1:], t.execution_type.c.name == name)
            .order_by(t.execution.c.first_event_time.desc(), t.execution.c.id.desc()).limit(1)
        ).first()
        found[name] = _job_summary(name, counts[name], latest, moment)
    return found


def _job_summary(name: str, runs: int, latest: Any, as_of: datetime | None) -> JobSummary:
    state, end = latest.state, latest.end_time
    if as_of is not None and end is not None and end > as_of:
        state, end = "RUNNING", None  # it had not finished yet at that time
    return JobSummary(name=name, runs=runs, latest_run_id=latest.run_id, latest_state=state,
                      latest_time=end or latest.start_time)
