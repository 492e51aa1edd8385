"""The ML Metadata schema and the raw OpenLineage events, as the walking skeleton created them.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lineage.events.parse import MAX_NAME, MAX_RUN_ID
from lineage.store.schema import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _type_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(MAX_NAME), nullable=False, unique=True),
        sa.Column("properties", sa.JSON, nullable=False),
    )


def upgrade() -> None:
    for name in ("artifact_type", "execution_type", "context_type"):
        _type_table(name)
    op.create_table(
        "artifact",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("type_id", sa.Integer, sa.ForeignKey("artifact_type.id"), nullable=False),
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_digest", sa.String(64), nullable=False),
        sa.Column("version", sa.String(255), nullable=False),
        sa.Column("properties", sa.JSON, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("create_time", UtcDateTime(), nullable=False),
        sa.Column("update_time", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("name_digest", "version", name="uq_artifact_name_version"),
    )
    op.create_index("ix_artifact_name_digest", "artifact", ["name_digest"])
    op.create_table(
        "execution",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("type_id", sa.Integer, sa.ForeignKey("execution_type.id"), nullable=False),
        sa.Column("name", sa.String(MAX_RUN_ID), nullable=False),
        sa.Column("properties", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("start_time", UtcDateTime()),
        sa.Column("end_time", UtcDateTime()),
        sa.Column("error", sa.Text),
        sa.Column("create_time", UtcDateTime(), nullable=False),
        sa.Column("update_time", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("type_id", "name", name="uq_execution_type_name"),
    )
    op.create_index("ix_execution_name", "execution", ["name"])
    op.create_table(
        "context",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("type_id", sa.Integer, sa.ForeignKey("context_type.id"), nullable=False),
        sa.Column("name", sa.String(MAX_NAME), nullable=False),
        sa.Column("properties", sa.JSON, nullable=False),
        sa.Column("create_time", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("type_id", "name", name="uq_context_type_name"),
    )
    op.create_table(
        "event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("artifact_id", sa.Integer, sa.ForeignKey("artifact.id"), nullable=False),
        sa.Column("execution_id", sa.Integer, sa.ForeignKey("execution.id"), nullable=False),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("time", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("artifact_id", "execution_id", "type", name="uq_event"),
    )
    op.create_index("ix_event_artifact_id", "event", ["artifact_id"])
    op.create_index("ix_event_execution_id", "event", ["execution_id"])
    op.create_table(
        "attribution",
        sa.Column("artifact_id", sa.Integer, sa.ForeignKey("artifact.id"), primary_key=True),
        sa.Column("context_id", sa.Integer, sa.ForeignKey("context.id"), primary_key=True),
    )
    op.create_index("ix_attribution_context_id", "attribution", ["context_id"])
    op.create_table(
        "association",
        sa.Column("execution_id", sa.Integer, sa.ForeignKey("execution.id"), primary_key=True),
        sa.Column("context_id", sa.Integer, sa.ForeignKey("context.id"), primary_key=True),
    )
    op.create_index("ix_association_context_id", "association", ["context_id"])
    op.create_table(
        "ol_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.String(MAX_RUN_ID), nullable=False),
        sa.Column("event_type", sa.String(16), nullable=False),
        sa.Column("job", sa.String(MAX_NAME), nullable=False),
        sa.Column("job_namespace", sa.String(MAX_NAME), nullable=False),
        sa.Column("repeat_key", sa.String(64), nullable=False),
        sa.Column("event_time", UtcDateTime(), nullable=False),
        sa.Column("ingest_time", UtcDateTime(), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.UniqueConstraint("run_id", "event_type", "job", "repeat_key", name="uq_ol_event"),
    )
    op.create_index("ix_ol_event_time", "ol_event", ["event_time", "id"])


def downgrade() -> None:
    for name in ("ol_event", "association", "attribution", "event", "context", "execution",
                 "artifact", "context_type", "execution_type", "artifact_type"):
        op.drop_table(name)
