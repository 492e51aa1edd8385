"""The lake: settings and declarations, Spark and Delta plumbing, contracts, ingestion, quality.

* :mod:`lake.config` — typed settings; the project of declarations (sources and their datasets)
* :mod:`lake.platform` — the Spark session recipe, Delta reads and writes, catalog and zone tables
* :mod:`lake.contracts` — the contract model, rule kinds, versions, evolution, inference
* :mod:`lake.ingest` — connectors, the landing zone and its ledger, raw readers per format, bronze
* :mod:`lake.quality` — row flags, validation, quarantine and replay, profiles, anomalies, reports
* :mod:`lake.errors` — the platform's one error tree

Dependencies point one way: quality -> ingest -> contracts -> platform -> config.
"""
