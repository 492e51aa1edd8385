"""Delivery: a job's events reach the store or an HTTP endpoint, and lineage never fails the job.

* :mod:`lineage.delivery.emitter` — ``make_client`` and ``emit_safely`` (never raises).
* :mod:`lineage.delivery.destinations` — the transport setting (``store``, ``file:PATH``,
  ``console``, ``http://…``, ``none``, several) parsed into openlineage-python's config.
* :mod:`lineage.delivery.spooling_transport` — the one spooling transport, in front of the store
  or of an HTTP endpoint.
* :mod:`lineage.delivery.spool` — events waiting on disk, drained oldest first.
* :mod:`lineage.delivery.replay` — deliver what is spooled (``lakehouse lineage replay``).
"""
