"""The retail example project: one file source (customers CSV, products Parquet, orders NDJSON,
documents) into an SCD2 customer and product dimension and an orders fact. Its declarations are
the YAML and SQL files beside this one; :mod:`examples.retail.generator` makes the source's daily
drops and :mod:`examples.retail.demo` runs it (``make demo``)."""
