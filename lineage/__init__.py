"""Lineage: OpenLineage events for our jobs, the MLMD-shaped metadata store, lineage queries.

Modules (import what you need; nothing is imported or opened here):

* :mod:`lineage.naming` — dataset namespace/name by the OpenLineage naming spec.
* :mod:`lineage.events` — ``run_event(...)`` builds START/COMPLETE/FAIL events with facets
  (:mod:`lineage.quality` the data-quality ones).
* :mod:`lineage.column_lineage` — the columnLineage of a SQL transform (sqlglot), with subtypes.
* :mod:`lineage.emitter` — ``make_client``, ``emit_safely`` (never raises), ``replay_spool``.
* :mod:`lineage.transports` — transports from settings (store, file, console, HTTP, several);
  :mod:`lineage.transport` the store transport; :mod:`lineage.spool` events waiting for replay.
* :mod:`lineage.store` — ``MetadataStore(url)``: ingest events, read artifacts/executions/contexts
  (tables in :mod:`lineage.schema`, migrations in :mod:`lineage.migrations`, writes in
  :mod:`lineage.recording` and :mod:`lineage.rows`).
* :mod:`lineage.queries` — ``upstream``/``downstream`` graphs, ``render_text``, ``to_dict``;
  :mod:`lineage.diff` run diffs; :mod:`lineage.reproduce` a run's inputs by time travel.
* :mod:`lineage.render` — Mermaid, DOT, SVG and HTML pictures; :mod:`lineage.server` the HTTP
  server (events in, queries and graph pages out).
"""
