"""Index-backed lineage queries: numeric versions, dataset aliases, first-seen times.

* ``artifact.version_number``: the Delta version as a number (NULL when the version is not one),
  indexed with the dataset, so "latest version" is an index lookup, not a scan of every version.
* ``dataset_alias``: every name a dataset answers to (store key, OpenLineage name, catalog tables),
  so resolving ``warehouse.fact_orders`` is one indexed lookup.
* ``execution.first_event_time``: when the store first heard of a run, for ``--as-of`` queries.
* indexes on ``event`` for walks filtered by direction and time.

Existing rows are backfilled, so a store upgraded in place answers like a new one.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

from lineage.store.schema import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("artifact") as batch:
        batch.add_column(sa.Column("version_number", sa.BigInteger, nullable=True))
    op.create_index("ix_artifact_name_version_number", "artifact",
                    ["name_digest", "version_number"])
    with op.batch_alter_table("execution") as batch:
        batch.add_column(sa.Column("first_event_time", UtcDateTime(), nullable=True))
    op.create_index("ix_execution_type_first_event", "execution",
                    ["type_id", "first_event_time"])
    op.create_index("ix_event_artifact_type_time", "event", ["artifact_id", "type", "time"])
    op.create_index("ix_event_execution_type_time", "event", ["execution_id", "type", "time"])
    alias = op.create_table(
        "dataset_alias",
        sa.Column("alias_digest", sa.String(64), primary_key=True),
        sa.Column("name_digest", sa.String(64), primary_key=True),
        sa.Column("alias", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
    )
    _backfill(alias)


def _backfill(alias: sa.Table) -> None:
    conn = op.get_bind()
    artifact = sa.table("artifact", sa.column("id", sa.Integer), sa.column("name", sa.Text),
                        sa.column("version", sa.String), sa.column("properties", sa.JSON),
                        sa.column("version_number", sa.BigInteger))
    execution = sa.table("execution", sa.column("start_time", UtcDateTime()),
                         sa.column("end_time", UtcDateTime()),
                         sa.column("create_time", UtcDateTime()),
                         sa.column("first_event_time", UtcDateTime()))
    aliases: dict[tuple[str, str], dict[str, str]] = {}
    rows = conn.execute(sa.select(artifact.c.id, artifact.c.name, artifact.c.version,
                                  artifact.c.properties)).all()
    for row in rows:
        if row.version and row.version.isdigit():
            conn.execute(sa.update(artifact).where(artifact.c.id == row.id)
                         .values(version_number=int(row.version)))
        properties = row.properties or {}
        names = [(row.name, "key"), (properties.get("name"), "name")]
        names += [(table, "table") for table in properties.get("tables") or ()]
        for name, kind in names:
            key = (_digest(str(name)), _digest(row.name))
            if name and key not in aliases:
                aliases[key] = {"alias_digest": key[0], "name_digest": key[1],
                                "alias": str(name), "name": row.name, "kind": kind}
    if aliases:
        conn.execute(sa.insert(alias), list(aliases.values()))
    conn.execute(sa.update(execution).values(first_event_time=sa.func.coalesce(
        execution.c.start_time, execution.c.end_time, execution.c.create_time)))


def _digest(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def downgrade() -> None:
    op.drop_table("dataset_alias")
    op.drop_index("ix_event_execution_type_time", table_name="event")
    op.drop_index("ix_event_artifact_type_time", table_name="event")
    op.drop_index("ix_execution_type_first_event", table_name="execution")
    with op.batch_alter_table("execution") as batch:
        batch.drop_column("first_event_time")
    op.drop_index("ix_artifact_name_version_number", table_name="artifact")
    with op.batch_alter_table("artifact") as batch:
        batch.drop_column("version_number")
