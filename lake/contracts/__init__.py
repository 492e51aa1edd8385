"""Dataset contracts.

* :mod:`~lake.contracts.model` — the typed contract (columns, keys, references, rules)
* :mod:`~lake.contracts.reading` — reading a contract file
* :mod:`~lake.contracts.rules` — the row rules a contract implies, one module per kind
* :mod:`~lake.contracts.tables` — the bronze, silver and quarantine tables a contract implies
* :mod:`~lake.contracts.versions` — contract versions (``meta.contract_versions``)
* :mod:`~lake.contracts.evolution` — schema changes of a landed batch and the evolution policy
* :mod:`~lake.contracts.inference` — proposing a contract from landed data
"""
