"""spark-submit job: load one batch into the warehouse (SCD2 dimensions, then fact_orders)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from jobs.run import read_ref, run_job, table_ref


def body(spark, settings, args, record) -> None:
    from warehouse.load import load_warehouse

    result = load_warehouse(spark, logical_date=args.logical_date, batch_id=args.batch_id,
                            recorded_at=datetime.now(UTC), force=args.force)
    record.inputs += [read_ref(spark, t, v) for t, v in result.inputs.items()]
    record.outputs += [table_ref(spark, w) for w in result.writes.values()]


def main(argv: list[str] | None = None) -> int:
    return run_job("load_warehouse", __doc__, argv, body)


if __name__ == "__main__":
    sys.exit(main())
