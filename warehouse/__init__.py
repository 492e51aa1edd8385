"""The warehouse: declared dimensions, facts and views, loaded from silver.

* :mod:`warehouse.models` — the declarations, typed and checked (no Spark)
* :mod:`warehouse.load` — a load: every model in order, the batches each has not loaded yet
* :mod:`warehouse.ledger` — which batches each model has loaded (``meta.model_loads``)
* :mod:`warehouse.dimensions`, :mod:`warehouse.scd2`, :mod:`warehouse.scd1` — dimension tables
  and the MERGE that keeps their history
* :mod:`warehouse.facts` — fact tables: lookups as of event time, inferred members, the MERGE
* :mod:`warehouse.views` — views and marts
* :mod:`warehouse.sql_parts` — literals and SQL pieces the loads are written with
* :mod:`warehouse.sql` — analyst SQL
"""
