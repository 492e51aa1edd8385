"""The metadata store: OpenLineage run events recorded in the ML Metadata model (see schema.py).

``MetadataStore(url)`` opens (and creates) the tables on any SQLAlchemy URL: ``sqlite://`` in
memory, ``sqlite:///path/lineage.db``, ``postgresql+psycopg://…``, ``mysql+pymysql://…``.

``ingest(event)`` is idempotent and order-tolerant: each raw event is kept once in ``ol_event``
(a repeat returns False and changes nothing), and a COMPLETE arriving before its START still
leaves the run COMPLETE, with the start time filled in when START comes. One event maps to:

* an execution (type = the job, name = the run id) with state, times, error and parameters;
* a ``pipeline`` context (the root job: the DAG) and a ``pipeline_run`` context (the root run),
  both associated with the execution and attributed to every artifact it touched;
* an artifact per dataset version (``(name, version)``, version '' when the event has none), with
  an INPUT or OUTPUT event linking it to the execution.

Reads for lineage queries live here too; graph walking and rendering are in :mod:`lineage.queries`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from lineage import schema as t
from lineage.errors import StoreUnavailableError, UnknownRunError
from lineage.parse import parse_run_event
from lineage.recording import merge, name_digest, record
from lineage.records import Artifact, Context, DatasetSummary, Execution, JobSummary, RunArtifacts

log = logging.getLogger(__name__)

_SQLITE_BUSY_TIMEOUT_S = 5  # below Airflow's OpenLineage execution timeout: spool, don't hang
_RETRIES = 3


class MetadataStore:
    """OpenLineage events in, MLMD artifacts/executions/contexts out, on one SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = _create_engine(url)
        try:
            t.metadata.create_all(self._engine)
        except SQLAlchemyError as err:
            self._engine.dispose()
            raise StoreUnavailableError(
                f"cannot open the metadata store at {self.safe_url}: {_reason(err)}. Check that "
                "the database is up and writable (for SQLite, that the folder exists), or point "
                "the lineage URL elsewhere"
            ) from err

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for messages and logs."""
        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except ArgumentError:
            return "<unparsable URL>"

    def close(self) -> None:
        """Release the connection pool."""
        self._engine.dispose()

    def ingest(self, event: dict[str, Any]) -> bool:
        """Record one OpenLineage run event; True if new, False if already recorded.

        Raises :class:`InvalidEventError` if the event is not a usable run event (retrying will not
        help) and :class:`StoreUnavailableError` if the database fails (retry later).
        """
        facts = parse_run_event(event)
        for attempt in range(1, _RETRIES + 1):
            try:
                with self._engine.begin() as conn:
                    return record(conn, facts, event)
            except IntegrityError as err:
                # A concurrent writer inserted the same row first; the retry will see it.
                log.debug("ingest conflict (attempt %s): %s", attempt, err)
                if attempt == _RETRIES:
                    raise StoreUnavailableError(
                        f"could not record event {facts.event_type} of run {facts.run_id} in "
                        f"{self.safe_url} after {_RETRIES} attempts: {_reason(err)}"
                    ) from err
            except SQLAlchemyError as err:
                raise StoreUnavailableError(
                    f"could not record event {facts.event_type} of run {facts.run_id} in "
                    f"{self.safe_url}: {_reason(err)}. The event can be replayed once the store "
                    "is back"
                ) from err
        raise AssertionError("unreachable")  # pragma: no cover

    def events(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """The raw events, oldest first (by event time), from ``since`` on if given."""
        query = select(t.ol_event.c.payload).order_by(t.ol_event.c.event_time, t.ol_event.c.id)
        if since is not None:
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            query = query.where(t.ol_event.c.event_time >= since)
        with self._read() as conn:
            return [row.payload for row in conn.execute(query)]

    def artifacts(self, name: str | None = None, context: str | None = None) -> list[Artifact]:
        """Artifacts (dataset versions), optionally of one dataset key or one context name."""
        query = _artifact_query()
        if name is not None:
            query = query.where(t.artifact.c.name_digest == name_digest(name))
        if context is not None:
            query = query.join(
                t.attribution, t.attribution.c.artifact_id == t.artifact.c.id
            ).join(t.context, t.context.c.id == t.attribution.c.context_id).where(
                t.context.c.name == context
            )
        with self._read() as conn:
            return [_artifact(row) for row in conn.execute(query.order_by(t.artifact.c.id))]

    def executions(self, job: str | None = None, context: str | None = None) -> list[Execution]:
        """Executions (runs), optionally of one job or in one context (DAG or DAG run id)."""
        query = _execution_query()
        if job is not None:
            query = query.where(t.execution_type.c.name == job)
        if context is not None:
            query = query.join(
                t.association, t.association.c.execution_id == t.execution.c.id
            ).join(t.context, t.context.c.id == t.association.c.context_id).where(
                t.context.c.name == context
            )
        with self._read() as conn:
            return [_execution(row) for row in conn.execute(query.order_by(t.execution.c.id))]

    def contexts(self, kind: str | None = None) -> list[Context]:
        """Contexts: ``pipeline`` (DAGs) and ``pipeline_run`` (DAG runs)."""
        query = select(t.context, t.context_type.c.name.label("type_name")).join(
            t.context_type, t.context_type.c.id == t.context.c.type_id
        )
        if kind is not None:
            query = query.where(t.context_type.c.name == kind)
        with self._read() as conn:
            return [
                Context(id=r.id, type=r.type_name, name=r.name, properties=dict(r.properties))
                for r in conn.execute(query.order_by(t.context.c.id))
            ]

    def run(self, run_id: str) -> RunArtifacts:
        """One run with the exact dataset versions it read and wrote.

        Where the run reported a dataset both without a version (START) and with one (COMPLETE),
        only the versioned artifact is listed.
        """
        with self._read() as conn:
            row = conn.execute(
                _execution_query().where(t.execution.c.name == run_id)
            ).first()
            if row is None:
                raise UnknownRunError(
                    f"no run {run_id!r} in the metadata store: list runs with "
                    "`lakehouse lineage events` and pass a run id from there"
                )
            linked = conn.execute(
                _artifact_query().add_columns(t.event.c.type.label("direction"))
                .join(t.event, t.event.c.artifact_id == t.artifact.c.id)
                .where(t.event.c.execution_id == row.id)
                .order_by(t.artifact.c.id)
            ).all()
        sides: dict[str, list[Artifact]] = {"INPUT": [], "OUTPUT": []}
        for link in linked:
            sides[link.direction].append(_artifact(link))
        return RunArtifacts(
            execution=_execution(row),
            inputs=tuple(_prefer_versioned(sides["INPUT"])),
            outputs=tuple(_prefer_versioned(sides["OUTPUT"])),
        )

    def datasets(self, keys: Iterable[str] | None = None) -> dict[str, DatasetSummary]:
        """Every dataset (or those with the given keys), summarised across its versions."""
        query = select(
            t.artifact.c.name, t.artifact.c.version, t.artifact.c.properties,
            t.artifact.c.update_time,
        )
        if keys is not None:
            query = query.where(t.artifact.c.name_digest.in_([name_digest(k) for k in keys]))
        with self._read() as conn:
            rows = conn.execute(query.order_by(t.artifact.c.id)).all()
        by_key: dict[str, list[Any]] = {}
        for row in rows:
            by_key.setdefault(row.name, []).append(row)
        return {key: _summary(key, versions) for key, versions in by_key.items()}

    def jobs(self, names: Iterable[str] | None = None) -> dict[str, JobSummary]:
        """Every job (or the named ones) with its run count and latest run."""
        query = select(
            t.execution_type.c.name.label("job"), t.execution.c.name.label("run_id"),
            t.execution.c.state, t.execution.c.start_time, t.execution.c.end_time,
        ).join(t.execution, t.execution.c.type_id == t.execution_type.c.id, isouter=True)
        if names is not None:
            query = query.where(t.execution_type.c.name.in_(list(names)))
        with self._read() as conn:
            rows = conn.execute(query).all()
        grouped: dict[str, list[Any]] = {}
        for row in rows:
            grouped.setdefault(row.job, [])
            if row.run_id is not None:
                grouped[row.job].append(row)
        return {name: _job_summary(name, runs) for name, runs in grouped.items()}

    def links(
        self, direction: str, *, keys: Iterable[str] = (), jobs: Iterable[str] = ()
    ) -> set[tuple[str, str]]:
        """``(dataset key, job)`` pairs with an event of ``direction`` (INPUT/OUTPUT) on any run,
        for the given datasets or the given jobs."""
        keys, jobs = list(keys), list(jobs)
        if not keys and not jobs:
            return set()
        conditions = []
        if keys:
            conditions.append(t.artifact.c.name_digest.in_([name_digest(k) for k in keys]))
        if jobs:
            conditions.append(t.execution_type.c.name.in_(jobs))
        query = (
            select(t.artifact.c.name, t.execution_type.c.name.label("job")).distinct()
            .select_from(t.event)
            .join(t.artifact, t.artifact.c.id == t.event.c.artifact_id)
            .join(t.execution, t.execution.c.id == t.event.c.execution_id)
            .join(t.execution_type, t.execution_type.c.id == t.execution.c.type_id)
            .where(t.event.c.type == direction, and_(*conditions))
        )
        with self._read() as conn:
            return {(row.name, row.job) for row in conn.execute(query)}

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                yield conn
        except SQLAlchemyError as err:
            raise StoreUnavailableError(
                f"cannot read the metadata store at {self.safe_url}: {_reason(err)}"
            ) from err


# -------------------------------------------------------------------- helpers


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise StoreUnavailableError(
            f"metadata store URL {url!r} is not a SQLAlchemy URL: write it like "
            "sqlite:///path/to/lineage.db, sqlite:// (in memory) or "
            "postgresql+psycopg://user@host/db"
        ) from err
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": _SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
        if parsed.database in (None, "", ":memory:"):
            # One in-memory database shared by every connection, not one each.
            kwargs["poolclass"] = StaticPool
    else:
        kwargs["pool_pre_ping"] = True
    try:
        return create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as err:
        raise StoreUnavailableError(
            f"cannot open the metadata store at {parsed.render_as_string(hide_password=True)}: "
            f"{err}. Install the database driver named in the URL (e.g. psycopg, pymysql)"
        ) from err


def _reason(err: Exception) -> str:
    return str(getattr(err, "orig", None) or err).splitlines()[0]


def _artifact_query() -> Any:
    return select(t.artifact, t.artifact_type.c.name.label("type_name")).join(
        t.artifact_type, t.artifact_type.c.id == t.artifact.c.type_id
    )


def _execution_query() -> Any:
    return select(t.execution, t.execution_type.c.name.label("job")).join(
        t.execution_type, t.execution_type.c.id == t.execution.c.type_id
    )


def _artifact(row: Any) -> Artifact:
    return Artifact(
        id=row.id, type=row.type_name, uri=row.uri, name=row.name, version=row.version or None,
        state=row.state, properties=dict(row.properties), create_time=row.create_time,
        update_time=row.update_time,
    )


def _execution(row: Any) -> Execution:
    return Execution(
        id=row.id, job=row.job, run_id=row.name, state=row.state,
        properties=dict(row.properties), start_time=row.start_time, end_time=row.end_time,
        error=row.error,
    )


def _prefer_versioned(artifacts: list[Artifact]) -> list[Artifact]:
    versioned = {a.name for a in artifacts if a.version is not None}
    return [a for a in artifacts if a.version is not None or a.name not in versioned]


def version_order(version: str) -> tuple[int, int | str]:
    """Sort key for versions: Delta's integers numerically, anything else after, as text."""
    return (0, int(version)) if version.isdigit() else (1, version)


def _summary(key: str, rows: list[Any]) -> DatasetSummary:
    properties: dict[str, Any] = {}
    for row in sorted(rows, key=lambda r: r.update_time):
        properties = merge(properties, dict(row.properties))
    tables = sorted({name for row in rows for name in row.properties.get("tables") or ()})
    versions = [row.version for row in rows if row.version]
    return DatasetSummary(
        key=key,
        namespace=str(properties.get("namespace", "")),
        name=str(properties.get("name", key)),
        tables=tuple(tables),
        latest_version=max(versions, key=version_order) if versions else None,
    )


def _job_summary(name: str, runs: list[Any]) -> JobSummary:
    if not runs:
        return JobSummary(name=name, runs=0, latest_run_id=None, latest_state=None,
                          latest_time=None)
    oldest = datetime.min.replace(tzinfo=UTC)
    latest = max(runs, key=lambda r: r.start_time or r.end_time or oldest)
    return JobSummary(
        name=name, runs=len(runs), latest_run_id=latest.run_id, latest_state=latest.state,
        latest_time=latest.end_time or latest.start_time,
    )

