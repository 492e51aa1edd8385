"""The metadata store: OpenLineage run events recorded in the ML Metadata model
(:mod:`lineage.store.schema`).

``MetadataStore(url)`` opens (and creates) the tables on any SQLAlchemy URL: ``sqlite://`` in
memory, ``sqlite:///path/lineage.db``, ``postgresql+psycopg://…``, ``mysql+pymysql://…``.

``ingest(event)`` is idempotent and order-tolerant: each raw event is kept once in ``ol_event``
(a repeat returns False and changes nothing), and a COMPLETE arriving before its START still
leaves the run COMPLETE, with the start time filled in when START comes. ``ingest_many(events)``
records a batch the same way in one transaction (replays and bulk loads). One event maps to:

* an execution (type = the job, name = the run id) with state, times, error and parameters;
* a ``pipeline`` context (the root job: the DAG) and a ``pipeline_run`` context (the root run),
  both associated with the execution and attributed to every artifact it touched;
* an artifact per dataset version (``(name, version)``, version '' when the event has none), with
  an INPUT or OUTPUT event linking it to the execution.

Reads for lineage queries live here too (:mod:`lineage.store.graph_reads`); graph walks are in
:mod:`lineage.queries.graph`, pictures in :mod:`lineage.views.render`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, select
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    IntegrityError,
    NoSuchModuleError,
    SQLAlchemyError,
)
from sqlalchemy.pool import StaticPool

from lineage.errors import InvalidEventError, QueryError, StoreUnavailableError, UnknownRunError
from lineage.events.parse import RunFacts, parse_run_event
from lineage.store import graph_reads
from lineage.store import schema as t
from lineage.store.ingestion import record
from lineage.store.known_rows import KnownRows
from lineage.store.results import (
    Artifact,
    Context,
    DatasetSummary,
    Execution,
    JobSummary,
    RunArtifacts,
)
from lineage.store.schema import name_digest

log = logging.getLogger(__name__)

_SQLITE_BUSY_TIMEOUT_S = 5  # below Airflow's OpenLineage execution timeout: spool, don't hang
_RETRIES = 3


class MetadataStore:
    """OpenLineage events in, MLMD artifacts/executions/contexts out, on one SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = _create_engine(url)
        self._known = KnownRows()
        try:
            from lineage.store.schema_upgrade import upgrade

            upgrade(self._engine)
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
        return self._record([(parse_run_event(event), event)]) == 1

    def ingest_many(self, events: Iterable[dict[str, Any]]) -> int:
        """Record many run events in one transaction (one commit, not one per event); the number
        that were new. Each event is recorded exactly as :meth:`ingest` would.

        All or nothing: if any event is invalid (:class:`InvalidEventError`, naming its index in
        ``events``) or the database fails (:class:`StoreUnavailableError`), none is recorded.
        """
        batch = []
        for index, event in enumerate(events):
            try:
                batch.append((parse_run_event(event), event))
            except InvalidEventError as err:
                raise InvalidEventError(f"events[{index}]: {err}") from err
        return self._record(batch) if batch else 0

    def _record(self, batch: list[tuple[RunFacts, dict[str, Any]]]) -> int:
        what = (f"event {batch[0][0].event_type} of run {batch[0][0].run_id}" if len(batch) == 1
                else f"{len(batch)} events")
        for attempt in range(1, _RETRIES + 1):
            known = self._known.begin()
            try:
                with self._engine.begin() as conn:
                    recorded = sum(record(conn, facts, event, known) for facts, event in batch)
                known.commit()
                return recorded
            except IntegrityError as err:
                # A concurrent writer inserted the same row first; the retry will see it.
                log.debug("ingest conflict (attempt %s): %s", attempt, err)
                if attempt == _RETRIES:
                    raise StoreUnavailableError(
                        f"could not record {what} in {self.safe_url} after {_RETRIES} "
                        f"attempts: {_reason(err)}"
                    ) from err
            except DataError as err:
                # The database refuses a value (too long, out of range): retrying cannot help.
                raise InvalidEventError(
                    f"the metadata store at {self.safe_url} refuses a value of {what}: "
                    f"{_reason(err)}. Retrying will not help: fix that field in the producer, or "
                    "the database (a MySQL/MariaDB store needs CHARACTER SET utf8mb4)"
                ) from err
            except SQLAlchemyError as err:
                raise StoreUnavailableError(
                    f"could not record {what} in {self.safe_url}: {_reason(err)}. The event "
                    "can be replayed once the store is back"
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

    def artifacts(
        self, name: str | None = None, context: str | None = None, *, type: str | None = None,
        limit: int | None = None,
    ) -> list[Artifact]:
        """Artifacts (dataset versions), optionally of one dataset key, one context name (a DAG
        or DAG run id) or one artifact type; with ``limit``, the newest that many, oldest first."""
        query = _artifact_query()
        if name is not None:
            query = query.where(t.artifact.c.name_digest == name_digest(name))
        if type is not None:
            query = query.where(t.artifact_type.c.name == type)
        if context is not None:
            query = query.join(
                t.attribution, t.attribution.c.artifact_id == t.artifact.c.id
            ).join(t.context, t.context.c.id == t.attribution.c.context_id).where(
                t.context.c.name == context
            )
        with self._read() as conn:
            rows = conn.execute(_newest(query, t.artifact.c.id, limit)).all()
        return sorted((_artifact(row) for row in rows), key=lambda a: a.id)

    def executions(
        self, job: str | None = None, context: str | None = None, *, limit: int | None = None
    ) -> list[Execution]:
        """Executions (runs), optionally of one job (the execution type) or in one context (DAG
        or DAG run id); with ``limit``, the newest that many, oldest first."""
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
            rows = conn.execute(_newest(query, t.execution.c.id, limit)).all()
        return sorted((_execution(row) for row in rows), key=lambda e: e.id)

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

    def datasets(
        self, keys: Iterable[str] | None = None, as_of: datetime | None = None
    ) -> dict[str, DatasetSummary]:
        """The given datasets (default: every one) summarised across their versions; with
        ``as_of``, only versions the store had heard of by then."""
        with self._read() as conn:
            if keys is None:
                keys = conn.execute(select(t.artifact.c.name).distinct()).scalars().all()
            return graph_reads.datasets(conn, keys, as_of)

    def jobs(
        self, names: Iterable[str] | None = None, as_of: datetime | None = None
    ) -> dict[str, JobSummary]:
        """The given jobs (default: every one) with their run count and latest run."""
        with self._read() as conn:
            if names is None:
                names = conn.execute(select(t.execution_type.c.name)).scalars().all()
            return graph_reads.jobs(conn, names, as_of)

    def links(
        self, direction: str, *, keys: Iterable[str] = (), jobs: Iterable[str] = (),
        as_of: datetime | None = None,
    ) -> set[tuple[str, str]]:
        """``(dataset key, job)`` pairs with an event of ``direction`` (INPUT/OUTPUT) on any run,
        for the given datasets or the given jobs (recorded at or before ``as_of``)."""
        with self._read() as conn:
            return graph_reads.links(conn, direction, keys=keys, jobs=jobs, as_of=as_of)

    def lookup(self, node: str) -> tuple[list[str], bool]:
        """``(keys of the datasets named node, whether a job is named node)``: indexed lookups."""
        with self._read() as conn:
            return graph_reads.dataset_keys(conn, node), graph_reads.job_exists(conn, node)

    def known_names(self) -> tuple[list[str], list[str], list[str]]:
        """``(table and dataset names, jobs, tables)``: what to suggest for an unknown node."""
        with self._read() as conn:
            names, jobs = graph_reads.known_names(conn)
            return names, jobs, graph_reads.known_tables(conn)

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
    sqlite_file = False
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": _SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
        if parsed.database in (None, "", ":memory:"):
            # One in-memory database shared by every connection, not one each.
            kwargs["poolclass"] = StaticPool
        else:
            sqlite_file = True
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as err:
        raise StoreUnavailableError(
            f"cannot open the metadata store at {parsed.render_as_string(hide_password=True)}: "
            f"{err}. Install the database driver named in the URL (e.g. psycopg, pymysql)"
        ) from err
    if sqlite_file:
        sqlalchemy_event.listen(engine, "connect", _sqlite_write_ahead_log)
    return engine


def _sqlite_write_ahead_log(dbapi_connection: Any, _record: Any) -> None:
    """SQLite in write-ahead-log mode: one fsync per commit instead of the rollback journal's
    several (ingestion was bound by them), and readers (the CLI, the server) never block the
    jobs writing, nor the other way round. synchronous=FULL keeps every commit durable: a job
    that saw its event recorded never loses it, even to a power cut."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except Exception as err:  # noqa: BLE001 - sqlite3.OperationalError: opened read-only
        log.debug("lineage store stays in its journal mode (%s): read-only?", err)
    try:
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


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


def _newest(query: Any, id_column: Any, limit: int | None) -> Any:
    if limit is None:
        return query.order_by(id_column)
    if limit < 1:
        raise QueryError(f"limit must be a positive number of rows or None (all), got {limit}")
    return query.order_by(id_column.desc()).limit(limit)


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
