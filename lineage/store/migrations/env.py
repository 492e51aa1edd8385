"""Alembic's entry point for the packaged migrations: always run on the caller's connection."""

from __future__ import annotations

from alembic import context

from lineage.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
