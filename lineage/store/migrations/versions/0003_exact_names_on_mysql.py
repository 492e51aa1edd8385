"""Names compared byte for byte on MySQL/MariaDB too (no change on SQLite or PostgreSQL).

MySQL compares ``VARCHAR`` by collation: in a database created with the defaults, jobs
``Orders`` and ``orders`` (or ``café`` and ``cafe``) were one row, and even under ``utf8mb4_bin``
``orders`` and ``orders `` were (it pads with spaces). The identity columns become ``VARBINARY``
holding the UTF-8 bytes (:class:`lineage.store.schema.ExactString`); the data is kept as it is.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lineage.events.parse import MAX_NAME, MAX_RUN_ID, MAX_VERSION

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# (table, column, length in characters): every column a row is looked up or made unique by.
COLUMNS = (
    ("artifact_type", "name", MAX_NAME),
    ("execution_type", "name", MAX_NAME),
    ("context_type", "name", MAX_NAME),
    ("artifact", "version", MAX_VERSION),
    ("execution", "name", MAX_RUN_ID),
    ("context", "name", MAX_NAME),
    ("ol_event", "run_id", MAX_RUN_ID),
    ("ol_event", "job", MAX_NAME),
)


def _on_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def upgrade() -> None:
    if not _on_mysql():
        return  # SQLite and PostgreSQL compare strings byte for byte already
    from sqlalchemy.dialects.mysql import VARBINARY

    for table, column, length in COLUMNS:
        # MODIFY keeps each value's bytes in the column's character set (utf8mb4: UTF-8).
        op.alter_column(table, column, type_=VARBINARY(4 * length),
                        existing_type=sa.String(length), existing_nullable=False)


def downgrade() -> None:
    if not _on_mysql():
        return
    for table, column, length in COLUMNS:
        op.alter_column(table, column, type_=sa.String(length),
                        existing_type=sa.VARBINARY(4 * length), existing_nullable=False)
