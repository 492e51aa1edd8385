"""spark-submit job: load one batch into the warehouse (SCD2 dimensions, then fact_orders)."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime

from jobs.run import read_ref, run_job, table_ref
from lineage.events.run_events import DatasetRef


def body(spark, settings, args, record) -> None:
    from warehouse.load import load_warehouse

    result = load_warehouse(spark, logical_date=args.logical_date, batch_id=args.batch_id,
                            recorded_at=datetime.now(UTC), force=args.force)
    record.inputs += [read_ref(spark, t, v) for t, v in result.inputs.items()]
    outputs = [table_ref(spark, w) for w in result.writes.values()]
    record.outputs += with_column_lineage(outputs, record.inputs)


def with_column_lineage(outputs: list[DatasetRef], inputs: list[DatasetRef]) -> list[DatasetRef]:
    """Each warehouse output with the columnLineage read off the SQL its load is equivalent to
    (the SCD2 MERGE of a dimension, the SELECT of fact_orders)."""
    from lineage.events.column_lineage import column_lineage, to_locations
    from warehouse.facts import fact_orders_sql
    from warehouse.models import DIMENSIONS, FACT_ORDERS
    from warehouse.scd2 import merge_sql

    sql = {dim.table: merge_sql(dim) for dim in DIMENSIONS} | {FACT_ORDERS: fact_orders_sql()}
    locations = {ref.table: ref.location for ref in (*inputs, *outputs) if ref.table}
    return [
        replace(ref, column_lineage=to_locations(column_lineage(sql[ref.table]), locations))
        if ref.table in sql else ref
        for ref in outputs
    ]


def main(argv: list[str] | None = None) -> int:
    return run_job("load_warehouse", __doc__, argv, body)


if __name__ == "__main__":
    sys.exit(main())
