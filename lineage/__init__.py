"""Lineage: OpenLineage events for our jobs, their delivery, the MLMD-shaped metadata store,
lineage queries and the views of them.

Subpackages, each depending only on those listed after it (nothing is imported or opened here):

* :mod:`lineage.views` — pictures of a lineage graph (Mermaid, DOT, SVG, HTML, text), JSON
  shapes, and the HTTP server (events in, queries and graph pages out).
* :mod:`lineage.queries` — upstream/downstream graphs, run diffs, a run's inputs by time travel.
* :mod:`lineage.delivery` — getting events from a job to the store or an HTTP endpoint without
  ever failing the job: the client, the spooling transport, the spool and its replay.
* :mod:`lineage.store` — ``MetadataStore(url)``: the ML Metadata schema, its migrations,
  events recorded as rows, and the records its reads return.
* :mod:`lineage.events` — building OpenLineage run events (facets, column lineage, dataset
  naming) and parsing the ones that come in.

:mod:`lineage.errors` is the package's one error tree; every subpackage may use it.
"""
