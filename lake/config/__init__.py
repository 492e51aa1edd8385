"""Settings and the user's declarations; nothing here needs Spark.

* :mod:`~lake.config.settings` — typed ``LAKEHOUSE_*`` settings and connections
* :mod:`~lake.config.project` — the project folder (``lakehouse.yaml``) and its layout
* :mod:`~lake.config.sources` — ``source.yaml``: deliveries, datasets, their contracts
* :mod:`~lake.config.loading` — reading declaration files, errors naming file, key and fix
"""
