"""Which batches each warehouse model has loaded: ``meta.model_loads``.

A model's new work is every validated batch of the table it reads (``meta.batch_counts``) that it
has not loaded with the same number of valid rows: a new batch, or an old one that quarantine
replay added rows to. Both reads are small metadata tables, so a load's cost follows the new data,
not the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MODEL_LOADS = "meta.model_loads"
MODEL_LOADS_DDL = ("model STRING NOT NULL, input STRING NOT NULL, batch_id STRING NOT NULL, "
                   "rows_valid BIGINT NOT NULL, outcome STRING NOT NULL, "
                   "loaded_at TIMESTAMP NOT NULL")


@dataclass(frozen=True)
class PendingBatch:
    batch_id: str
    logical_date: date
    rows_in: int
    rows_valid: int


def split_table(table: str) -> tuple[str, str]:
    """``retail_silver.orders`` -> (``retail``, ``orders``)."""
    database, _, dataset = table.partition(".")
    return database.rsplit("_", 1)[0], dataset


def pending(spark: SparkSession, model: str, input_table: str) -> list[PendingBatch]:
    """Batches of ``input_table`` that ``model`` has yet to load, oldest first.

    Both sides are a few rows per batch: each is one filtered read, compared on the driver (a
    join would shuffle both and run a job per adaptive stage)."""
    from pyspark.sql import functions as F

    from lake.platform.meta_tables import BATCH_COUNTS

    source, dataset = split_table(input_table)
    done = {(r["batch_id"], r["rows_valid"]) for r in
            spark.table(MODEL_LOADS).where((F.col("model") == model)
                                           & (F.col("input") == input_table))
            .select("batch_id", "rows_valid").collect()}
    counts = (spark.table(BATCH_COUNTS)
              .where((F.col("source") == source) & (F.col("dataset") == dataset))
              .select("_batch_id", "logical_date", "rows_in", "rows_valid").collect())
    return sorted((PendingBatch(r["_batch_id"], r["logical_date"], r["rows_in"], r["rows_valid"])
                   for r in counts if (r["_batch_id"], r["rows_valid"]) not in done),
                  key=lambda b: b.batch_id)


def record(spark: SparkSession, model: str, input_table: str,
           loaded: list[tuple[PendingBatch, str]], at: datetime) -> None:
    """Append what ``model`` did with each batch (``outcome``: loaded, or why it was skipped)."""
    if not loaded:
        return
    from lake.platform.delta import delta_table, table_location

    schema = delta_table(spark, MODEL_LOADS).toDF().schema
    rows = [(model, input_table, b.batch_id, b.rows_valid, outcome, at) for b, outcome in loaded]
    (spark.createDataFrame(rows, schema=schema).write.format("delta").mode("append")
     .save(table_location(spark, MODEL_LOADS)))
