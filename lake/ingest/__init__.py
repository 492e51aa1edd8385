"""From a source's delivery to bronze.

* :mod:`~lake.ingest.connectors` — how deliveries reach landing: files, JDBC extracts
* :mod:`~lake.ingest.landing` — the landing zone, batches and their manifests (the ledger)
* :mod:`~lake.ingest.storage` — folders and object stores through one code path
* :mod:`~lake.ingest.formats` — raw readers, one per file format
* :mod:`~lake.ingest.observed_schema` — the columns and types a landed batch holds
* :mod:`~lake.ingest.records` — raw records typed by the contract, misfits rescued
* :mod:`~lake.ingest.documents` — unstructured files: metadata and text
* :mod:`~lake.ingest.bronze` — one landed batch into bronze, with schema evolution
"""
