"""Spark and Delta plumbing shared by every job.

* :mod:`~lake.platform.session` — the Spark session recipe (Delta, Hive catalog, pinned jars)
* :mod:`~lake.platform.catalog` — database and table names per source and zone, their creation
* :mod:`~lake.platform.delta` — the idempotent batch writer, table versions, MERGE guards
* :mod:`~lake.platform.tables` — creating tables with their CHECK constraints
* :mod:`~lake.platform.meta_tables` — the shared metadata tables (``meta.*``)
"""
