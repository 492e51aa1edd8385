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


@dataclass(frozen=True)
class LedgerState:
    """What a load needs of the ledger, read once for all its models: the (batch, valid rows)
    each model has loaded from each input, and the validated batches of those inputs."""

    loaded: dict[tuple[str, str], set[tuple[str, int]]]
    validated: dict[str, list[PendingBatch]]

    def pending(self, model: str, input_table: str) -> list[PendingBatch]:
        """Batches of ``input_table`` that ``model`` has yet to load, oldest first."""
        done = self.loaded.get((model, input_table), set())
        return [b for b in self.validated.get(input_table, [])
                if (b.batch_id, b.rows_valid) not in done]


def read_state(spark: SparkSession, inputs: dict[str, str]) -> LedgerState:
    """The ledger of the models in ``inputs`` (model -> the table it reads).

    Both sides are a few rows per batch: one filtered read of each table, compared on the driver
    (a join would shuffle both and run a job per adaptive stage)."""
    from functools import partial, reduce

    from pyspark.sql import functions as F

    from lake.platform.concurrent import run_concurrently
    from lake.platform.meta_tables import BATCH_COUNTS

    if not inputs:
        return LedgerState({}, {})
    tables = {split_table(t): t for t in set(inputs.values())}
    of_inputs = reduce(lambda a, b: a | b, ((F.col("source") == s) & (F.col("dataset") == d)
                                            for s, d in sorted(tables)))

    def read(table: str, where, *columns: str) -> list:
        return spark.table(table).where(where).select(*columns).collect()

    # side by side: each read is mostly the driver's planning and a small job
    loads, counts = run_concurrently([
        partial(read, MODEL_LOADS, F.col("model").isin(sorted(inputs)), "model", "input",
                "batch_id", "rows_valid"),
        partial(read, BATCH_COUNTS, of_inputs, "source", "dataset", "_batch_id", "logical_date",
                "rows_in", "rows_valid")])
    loaded: dict[tuple[str, str], set[tuple[str, int]]] = {}
    for r in loads:
        loaded.setdefault((r["model"], r["input"]), set()).add((r["batch_id"], r["rows_valid"]))
    validated: dict[str, list[PendingBatch]] = {}
    for r in counts:
        validated.setdefault(tables[r["source"], r["dataset"]], []).append(
            PendingBatch(r["_batch_id"], r["logical_date"], r["rows_in"], r["rows_valid"]))
    for batches in validated.values():
        batches.sort(key=lambda b: b.batch_id)
    return LedgerState(loaded, validated)


@dataclass(frozen=True)
class Loaded:
    """One model's outcome for one batch of its input."""

    model: str
    input_table: str
    batch: PendingBatch
    outcome: str


def record(spark: SparkSession, loaded: list[Loaded], at: datetime) -> None:
    """Append what each model did with each batch (``outcome``: loaded, or why it was skipped),
    one commit for the whole load."""
    if not loaded:
        return
    from lake.platform.delta import delta_table, table_location

    schema = delta_table(spark, MODEL_LOADS).toDF().schema
    rows = [(x.model, x.input_table, x.batch.batch_id, x.batch.rows_valid, x.outcome, at)
            for x in loaded]
    (spark.createDataFrame(rows, schema=schema).write.format("delta").mode("append")
     .save(table_location(spark, MODEL_LOADS)))
