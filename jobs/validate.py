"""Spark job: validate a source's bronze batches of one logical date; valid rows to
silver, failing rows to quarantine."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from jobs.run import JobArgs, read_ref, run_job, source_args, table_ref


def body(spark, settings, project, args, record) -> None:
    from lake.config.sources import source_of
    from lake.ingest.landing import Ledger
    from lake.platform.catalog import table
    from lake.quality.validate import pending_batches, validate_batch

    source = source_of(project, args.source)
    ledger = Ledger(settings.landing_root, source.name)
    wanted = list(args.batches) or [b.batch_id for b in ledger.of_date(args.logical_date)]
    batches = wanted if args.force else pending_batches(spark, source.name, wanted)
    for batch_id in batches:
        results = validate_batch(
            spark, source, logical_date=ledger.get(batch_id).logical_date, batch_id=batch_id,
            validated_at=datetime.now(UTC), gx_root=settings.gx_root,
            environment=args.environment or source.environment, force=args.force)
        for r in results:
            quality = quality_result(r)
            record.inputs.append(read_ref(spark, table(source.name, "bronze", r.dataset),
                                          r.bronze_version, quality))
            record.outputs += [table_ref(spark, r.silver), table_ref(spark, r.quarantine)]
            record.parameters[f"contract.{r.dataset}"] = str(r.contract.version)
    record.parameters["batches"] = ",".join(batches) or "none"


def quality_result(r):
    """A dataset's validation as OpenLineage data-quality facets: counts, profile metrics, every
    expectation's outcome and every anomaly (as a failed assertion)."""
    from lake.contracts.rules.registry import rules
    from lineage.events.run_events import QualityResult

    metrics = {"rows_in": r.counts.rows_in, "rows_valid": r.counts.rows_valid,
               "rows_quarantined": r.counts.rows_quarantined,
               "contract_version": r.contract.version, "anomalies": len(r.anomalies),
               **{f"failed.{rule}": n for rule, n in r.counts.by_rule.items() if n}}
    for name, p in r.profile.columns.items():
        metrics[f"{name}.null_count"] = p.nulls
        metrics.update({f"{name}.{k}": v for k, v in (("min", p.min), ("max", p.max))
                        if v is not None})
        if p.values:
            metrics[f"{name}.distinct_count"] = len(p.values)
    columns = {rule.name: rule.column for rule in rules(r.contract, r.environment)}
    assertions = [(o.rule, o.success, columns.get(o.rule)) for o in r.expectations.outcomes]
    assertions += [(f"anomaly:{a.type}", False, a.column) for a in r.anomalies]
    return QualityResult(row_count=r.counts.rows_in, metrics=metrics, assertions=tuple(assertions))


def parse_args(argv: list[str] | None) -> JobArgs:
    return source_args("validate", __doc__, argv)


def main(argv: list[str] | None = None) -> int:
    return run_job(parse_args(argv), body)


if __name__ == "__main__":
    sys.exit(main())
