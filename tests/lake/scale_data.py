"""Generated bronze rows for validation at scale (tests and ``make bench``)."""

from __future__ import annotations

from datetime import datetime

COLUMNS = [{"name": "id", "type": "string", "nullable": False},
           {"name": "customer", "type": "string", "nullable": False},
           {"name": "qty", "type": "int", "nullable": False, "min": 1, "max": 100},
           {"name": "amount", "type": "double", "nullable": False, "min": 0, "drift": 0.2},
           {"name": "pay", "type": "string", "accepted_values": ["card", "cash"], "drift": 0.2}]


def bronze_rows(spark, rows: int, batch_id: str = "20260601-001"):
    """``rows`` bronze rows of batch ``batch_id``; every 20th is bad in one of five ways (5%)."""
    from pyspark.sql import functions as F

    i = F.col("id")
    fault = F.when(i % 20 == 0, (i / 20 % 5).cast("int"))
    return spark.range(rows).select(
        F.when(fault == 0, None).otherwise(F.concat(F.lit("o"), i.cast("string"))).alias("id"),
        F.when(fault == 1, F.lit("unknown")).otherwise(
            F.concat(F.lit("c"), (i % 1000).cast("string"))).alias("customer"),
        F.when(fault == 2, 0).otherwise(i % 7 + 1).cast("int").alias("qty"),
        # i / 1e7 keeps every row distinct (no accidental exact duplicates)
        F.when(fault == 3, -1.0).otherwise(i % 97 + i / 1e7).alias("amount"),
        F.when(fault == 4, "bitcoin").when(i % 3 == 0, "cash").otherwise("card").alias("pay"),
        F.lit(None).cast("string").alias("_rescued_data"), F.lit("gen").alias("_source_file"),
        F.lit(datetime(2026, 6, 1)).cast("timestamp").alias("_ingested_at"),
        F.lit(batch_id).alias("_batch_id"), F.concat(F.lit("r"), i.cast("string")).alias(
            "_record_id"))


def known_customers(spark):
    """The customer keys the generated rows reference (one fault names an unknown one)."""
    from pyspark.sql import functions as F

    return spark.range(1000).select(
        F.concat(F.lit("c"), F.col("id").cast("string")).alias("customer"))
