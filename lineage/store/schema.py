"""The metadata store's tables: the ML Metadata (MLMD) data model, plus the raw OpenLineage events.

MLMD (https://github.com/google/ml-metadata) in SQLAlchemy Core, portable to SQLite, PostgreSQL and
MySQL: only generic types, no dialect SQL, and every unique key short enough for MySQL's 3072-byte
index limit (long dataset names are indexed through a SHA-256 digest, :func:`name_digest`).
Columns are as wide as the fields :mod:`lineage.events.parse` lets in (its ``MAX_*`` limits).

* ``artifact_type`` / ``execution_type`` / ``context_type``: the kinds, with a JSON property schema.
* ``artifact``: one dataset version (``version`` is ``''`` when the dataset has none), unique on
  ``(name, version)``; ``name`` is the dataset key (:func:`lineage.events.naming.dataset_key`).
* ``execution``: one run; its type is the OpenLineage job, its name the run id.
* ``context``: a ``pipeline`` (the DAG, the root job) or a ``pipeline_run`` (the DAG run).
* ``event`` (artifact ↔ execution, INPUT/OUTPUT), ``attribution`` (artifact ↔ context),
  ``association`` (execution ↔ context).
* ``dataset_alias``: each name a dataset answers to (table, OpenLineage name, key) -> its key.
* ``ol_event``: every raw event once, unique on ``(run_id, event_type, job, repeat_key)``.

The tables are created and upgraded by the Alembic migrations in :mod:`lineage.store.migrations`; a
change here needs a migration there.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from lineage.events.parse import MAX_NAME, MAX_RUN_ID, MAX_VERSION


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    PostgreSQL keeps the offset (``timestamptz``); SQLite and MySQL have no offset, so they store
    the UTC wall time and get UTC attached back on read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))  # keep microseconds
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class ExactString(TypeDecorator[str]):
    """A name compared byte for byte on every backend: ``VARCHAR`` on SQLite and PostgreSQL
    (which compare bytes already), ``VARBINARY`` holding the UTF-8 bytes on MySQL/MariaDB.

    MySQL compares ``VARCHAR`` by collation: a database created with the defaults is case- and
    accent-insensitive (jobs ``Orders`` and ``orders`` would become one), and even
    ``utf8mb4_bin`` pads with spaces (``orders`` and ``orders `` would). ``length`` is in
    characters; the binary column holds up to 4 bytes per character.
    """

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import VARBINARY

            return dialect.type_descriptor(VARBINARY(4 * self.length))
        return dialect.type_descriptor(String(self.length))

    def process_bind_param(self, value: str | None, dialect: Any) -> Any:
        if value is not None and dialect.name in ("mysql", "mariadb"):
            return value.encode("utf-8")
        return value

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        if isinstance(value, bytes | bytearray):
            return bytes(value).decode("utf-8")
        return value


metadata = MetaData()

_TS = UtcDateTime()


def name_digest(name: str) -> str:
    """SHA-256 of a dataset key or alias: the short, indexable stand-in the ``*_digest`` columns
    hold for names of any length."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def _type_table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", ExactString(MAX_NAME), nullable=False, unique=True),
        Column("properties", JSON, nullable=False, default=dict),
    )


artifact_type = _type_table("artifact_type")
execution_type = _type_table("execution_type")
context_type = _type_table("context_type")

artifact = Table(
    "artifact",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("type_id", ForeignKey("artifact_type.id"), nullable=False),
    Column("uri", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("name_digest", String(64), nullable=False, index=True),
    Column("version", ExactString(MAX_VERSION), nullable=False, default=""),
    Column("properties", JSON, nullable=False, default=dict),
    Column("state", String(32), nullable=False),
    Column("create_time", _TS, nullable=False),
    Column("update_time", _TS, nullable=False),
    # The version as a number when it is one (Delta's are): "latest" is an index lookup.
    Column("version_number", BigInteger),
    UniqueConstraint("name_digest", "version", name="uq_artifact_name_version"),
    Index("ix_artifact_name_version_number", "name_digest", "version_number"),
)

execution = Table(
    "execution",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("type_id", ForeignKey("execution_type.id"), nullable=False),
    Column("name", ExactString(MAX_RUN_ID), nullable=False, index=True),
    Column("properties", JSON, nullable=False, default=dict),
    Column("state", String(16), nullable=False),
    Column("start_time", _TS),
    Column("end_time", _TS),
    Column("error", Text),
    Column("create_time", _TS, nullable=False),
    Column("update_time", _TS, nullable=False),
    # The earliest event time heard for the run: what --as-of filters runs on.
    Column("first_event_time", _TS),
    UniqueConstraint("type_id", "name", name="uq_execution_type_name"),
    Index("ix_execution_type_first_event", "type_id", "first_event_time"),
)

context = Table(
    "context",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("type_id", ForeignKey("context_type.id"), nullable=False),
    Column("name", ExactString(MAX_NAME), nullable=False),
    Column("properties", JSON, nullable=False, default=dict),
    Column("create_time", _TS, nullable=False),
    UniqueConstraint("type_id", "name", name="uq_context_type_name"),
)

event = Table(
    "event",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("artifact_id", ForeignKey("artifact.id"), nullable=False, index=True),
    Column("execution_id", ForeignKey("execution.id"), nullable=False, index=True),
    Column("type", String(8), nullable=False),
    Column("time", _TS, nullable=False),
    UniqueConstraint("artifact_id", "execution_id", "type", name="uq_event"),
    Index("ix_event_artifact_type_time", "artifact_id", "type", "time"),
    Index("ix_event_execution_type_time", "execution_id", "type", "time"),
)

attribution = Table(
    "attribution",
    metadata,
    Column("artifact_id", ForeignKey("artifact.id"), primary_key=True),
    Column("context_id", ForeignKey("context.id"), primary_key=True, index=True),
)

association = Table(
    "association",
    metadata,
    Column("execution_id", ForeignKey("execution.id"), primary_key=True),
    Column("context_id", ForeignKey("context.id"), primary_key=True, index=True),
)

dataset_alias = Table(
    "dataset_alias",
    metadata,
    # Every name a dataset answers to (its key, OpenLineage name, catalog tables) -> the key.
    Column("alias_digest", String(64), primary_key=True),
    Column("name_digest", String(64), primary_key=True),
    Column("alias", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", String(8), nullable=False),  # key, name (OpenLineage) or table
)

ol_event = Table(
    "ol_event",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", ExactString(MAX_RUN_ID), nullable=False),
    Column("event_type", String(16), nullable=False),
    Column("job", ExactString(MAX_NAME), nullable=False),
    Column("job_namespace", String(MAX_NAME), nullable=False),
    # '' for START/COMPLETE/FAIL/ABORT (once per run); the event time for RUNNING/OTHER, which a
    # run may send many times.
    Column("repeat_key", String(64), nullable=False, default=""),
    Column("event_time", _TS, nullable=False),
    Column("ingest_time", _TS, nullable=False),
    Column("payload", JSON, nullable=False),
    UniqueConstraint("run_id", "event_type", "job", "repeat_key", name="uq_ol_event"),
    Index("ix_ol_event_time", "event_time", "id"),
)
