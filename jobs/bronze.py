"""spark-submit job: append one landed batch of every dataset of a source to bronze."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from jobs.run import run_job, table_ref
from lineage.events.run_events import DatasetRef


def body(spark, settings, args, record) -> None:
    from lake.contract import source_contracts
    from lake.ingest import ingest_batch
    from lake.landing import batch_dir

    result = ingest_batch(
        spark, landing_root=settings.landing_root, source=args.source,
        contracts=source_contracts(args.source), logical_date=args.logical_date,
        batch_id=args.batch_id, ingested_at=datetime.now(UTC), environment=args.environment,
        force=args.force,
    )
    for dataset in result.inputs:
        folder = batch_dir(settings.landing_root, args.source, dataset, args.logical_date,
                           args.batch_id).parent.parent
        record.inputs.append(DatasetRef(location=str(folder), version=args.batch_id))
    record.outputs.extend(table_ref(spark, w) for w in result.writes.values())
    record.parameters.update(
        {f"contract.{name}": str(c.version) for name, c in result.contracts.items()})


def main(argv: list[str] | None = None) -> int:
    return run_job("bronze", __doc__, argv, body)


if __name__ == "__main__":
    sys.exit(main())
