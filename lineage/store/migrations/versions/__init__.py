"""Alembic revisions of the metadata store's schema, one file per change (see
:mod:`lineage.store.schema_upgrade` for how to add one)."""
