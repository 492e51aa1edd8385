"""The warehouse load of one batch: SCD2 dimensions first, then the facts that reference them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from lake.delta_io import TableWrite
from warehouse.facts import load_fact_orders
from warehouse.models import DIMENSIONS
from warehouse.scd2 import load_dimension

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass(frozen=True)
class WarehouseLoad:
    inputs: dict[str, int]          # silver table -> Delta version read
    writes: dict[str, TableWrite]


def load_warehouse(spark: SparkSession, *, logical_date: date, batch_id: str,
                   recorded_at: datetime, force: bool = False) -> WarehouseLoad:
    from lake.delta_io import table_version

    effective_at = datetime.combine(logical_date, time(0), tzinfo=UTC)
    inputs = {t: table_version(spark, t) for t in (*(d.source for d in DIMENSIONS), "silver.orders")}
    writes = {}
    for dim in DIMENSIONS:
        snapshot = spark.table(dim.source).where(f"_batch_id = '{batch_id}'")
        writes[dim.table] = load_dimension(spark, dim, snapshot, effective_at=effective_at,
                                           batch_id=batch_id, recorded_at=recorded_at)
    fact = load_fact_orders(spark, batch_id, recorded_at, force=force)
    writes[fact.table] = fact
    return WarehouseLoad(inputs, writes)
