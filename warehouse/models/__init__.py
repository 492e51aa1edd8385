"""Warehouse models as declarations (typed), read from the project's ``warehouse/`` folder.

* :mod:`~warehouse.models.dimension` — SCD type 1/2 dimensions (``<name>.yaml``)
* :mod:`~warehouse.models.fact` — facts: the SELECT that builds them plus a header (``<name>.sql``)
* :mod:`~warehouse.models.view` — views and marts, plain SQL (``views/<name>.sql``)
* :mod:`~warehouse.models.sql_check` — what model SQL may read (one read-only SELECT, known tables)
* :mod:`~warehouse.models.catalog` — every model of a project, checked together, in load order
"""
