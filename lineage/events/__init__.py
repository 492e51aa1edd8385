"""OpenLineage run events: built for our jobs, named by the spec, parsed when they come in.

* :mod:`lineage.events.run_events` — ``run_event(...)`` builds START/COMPLETE/FAIL events from
  :class:`DatasetRef`, :class:`ParentRun` and :class:`QualityResult`; ``to_json``.
* :mod:`lineage.events.quality_facets` — the ``dataQualityMetrics``/``dataQualityAssertions``
  facets.
* :mod:`lineage.events.column_lineage` — the column lineage of a SQL transform (sqlglot).
* :mod:`lineage.events.naming` — dataset namespace/name by the OpenLineage naming spec.
* :mod:`lineage.events.parse` — an incoming event's JSON read into typed facts, with the field
  limits the store keeps.
"""
