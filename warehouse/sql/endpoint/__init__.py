"""The warm SQL endpoint (``lakehouse serve sql``): PostgreSQL's wire protocol over one
long-lived Spark application.

* :mod:`~warehouse.sql.endpoint.server` — the listener, its sessions, cancel requests
* :mod:`~warehouse.sql.endpoint.session` — one client's conversation: login, queries, streaming
* :mod:`~warehouse.sql.endpoint.wire` — the protocol's messages (pure)
* :mod:`~warehouse.sql.endpoint.scram` — SCRAM-SHA-256 login (pure)
* :mod:`~warehouse.sql.endpoint.parameters` — SET/SHOW/BEGIN answered by the endpoint (pure)
* :mod:`~warehouse.sql.endpoint.binding` — ``$n`` parameters bound as literals
* :mod:`~warehouse.sql.endpoint.values` — Spark types and values as PostgreSQL's
* :mod:`~warehouse.sql.endpoint.remote` — ``lakehouse sql`` through a running endpoint
"""
