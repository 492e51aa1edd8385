"""Connectors: how a source's deliveries reach the landing zone, one module per kind.

* :mod:`~lake.ingest.connectors.registry` — connector names -> modules
* :mod:`~lake.ingest.connectors.files` — files from a folder or an object-store prefix
* :mod:`~lake.ingest.connectors.jdbc` — database extracts over JDBC, full or incremental
"""
