"""Spark job: append a source's landed batches of one logical date to bronze."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from jobs.run import JobArgs, run_job, source_args, table_ref
from lineage.events.run_events import DatasetRef


def body(spark, settings, project, args, record) -> None:
    from lake.config.sources import source_of
    from lake.ingest.bronze import ingest_batch, ingested_batches
    from lake.ingest.connectors.files import dataset_root
    from lake.ingest.landing import Ledger

    source = source_of(project, args.source)
    ledger = Ledger(settings.landing_root, source.name)
    batches = [ledger.get(b) for b in args.batches] or ledger.of_date(args.logical_date)
    if not args.force:
        done = ingested_batches(spark, source.name, [b.batch_id for b in batches])
        batches = [b for b in batches if b.batch_id not in done]
    for batch in batches:
        result = ingest_batch(spark, source, batch, ingested_at=datetime.now(UTC),
                              environment=args.environment or source.environment,
                              force=args.force)
        for dataset in result.inputs:
            record.inputs.append(DatasetRef(
                location=dataset_root(settings.landing_root, source.name, dataset),
                version=batch.batch_id))
        record.outputs.extend(table_ref(spark, w) for w in result.writes.values())
        record.parameters.update(
            {f"contract.{name}": str(c.version) for name, c in result.contracts.items()})
    record.parameters["batches"] = ",".join(b.batch_id for b in batches) or "none"


def parse_args(argv: list[str] | None) -> JobArgs:
    return source_args("bronze", __doc__, argv)


def main(argv: list[str] | None = None) -> int:
    return run_job(parse_args(argv), body)


if __name__ == "__main__":
    sys.exit(main())
