"""spark-submit job: validate one bronze batch; valid rows to silver, failing rows to quarantine."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from jobs.run import read_ref, run_job, table_ref
from lineage.events import QualityResult


def body(spark, settings, args, record) -> None:
    from lake.contract import source_contracts
    from lake.quarantine import validate_batch

    results = validate_batch(
        spark, contracts=source_contracts(args.source), logical_date=args.logical_date,
        batch_id=args.batch_id, validated_at=datetime.now(UTC), gx_root=settings.gx_root,
        force=args.force,
    )
    for r in results:
        quality = QualityResult(
            row_count=r.counts.rows_in,
            metrics={"rows_in": r.counts.rows_in, "rows_valid": r.counts.rows_valid,
                     "rows_quarantined": r.counts.rows_quarantined,
                     **{f"failed.{rule}": n for rule, n in r.counts.by_rule.items() if n}},
            assertions=tuple((o.rule or o.expectation, o.success, o.column)
                             for o in r.expectations.outcomes),
        )
        record.inputs.append(read_ref(spark, f"bronze.{r.dataset}", r.bronze_version, quality))
        record.outputs += [table_ref(spark, r.silver), table_ref(spark, r.quarantine)]


def main(argv: list[str] | None = None) -> int:
    return run_job("validate", __doc__, argv, body)


if __name__ == "__main__":
    sys.exit(main())
