"""The metadata store: OpenLineage run events recorded in the ML Metadata (MLMD) model.

* :mod:`lineage.store.metadata_store` — ``MetadataStore(url)``: ingest events, read artifacts,
  executions, contexts and runs.
* :mod:`lineage.store.schema` — the tables (SQLAlchemy Core, portable to SQLite, PostgreSQL,
  MySQL/MariaDB).
* :mod:`lineage.store.schema_upgrade` — ``upgrade(engine)``: the schema brought to the newest
  revision in place, on open, by the Alembic scripts in ``migrations/`` (``env.py``,
  ``script.py.mako``, ``versions/``).
* :mod:`lineage.store.ingestion` — one parsed event written as MLMD rows.
* :mod:`lineage.store.statements` — the row statements ingestion repeats, built once.
* :mod:`lineage.store.known_rows` — ids of rows that never change, remembered per store.
* :mod:`lineage.store.graph_reads` — the indexed reads lineage walks are made of.
* :mod:`lineage.store.results` — the frozen records the store's reads return.
"""
