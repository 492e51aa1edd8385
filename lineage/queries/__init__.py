"""Lineage queries over the metadata store.

* :mod:`lineage.queries.graph` — ``upstream``/``downstream``/``neighbourhood`` graphs of a
  dataset or job, to any depth, as of any time.
* :mod:`lineage.queries.diff` — what changed between two runs.
* :mod:`lineage.queries.reproduce` — a run's exact inputs, read again by Delta time travel.
* :mod:`lineage.queries.times` — the dates and timestamps queries take (``as_of``, ``since``).
"""
