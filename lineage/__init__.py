"""Lineage: OpenLineage events for our jobs, the MLMD-shaped metadata store, lineage queries.

Modules (import what you need; nothing is imported or opened here):

* :mod:`lineage.naming` — dataset namespace/name by the OpenLineage naming spec.
* :mod:`lineage.events` — ``run_event(...)`` builds START/COMPLETE/FAIL events with facets.
* :mod:`lineage.emitter` — ``make_client``, ``emit_safely`` (never raises), ``replay_spool``.
* :mod:`lineage.transport` — ``StoreTransport``, an openlineage-python transport into the store.
* :mod:`lineage.store` — ``MetadataStore(url)``: ingest events, read artifacts/executions/contexts.
* :mod:`lineage.queries` — ``upstream``/``downstream`` graphs, ``render_text``, ``to_dict``,
  ``diff_runs``.
"""
