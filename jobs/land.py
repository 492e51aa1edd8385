"""Spark job: land a source's new delivery (files, or a database extract) as one batch."""

from __future__ import annotations

import sys

from jobs.run import JobArgs, run_job, source_args
from lineage.events.run_events import DatasetRef


def body(spark, settings, project, args, record) -> None:
    from lake.config.sources import source_of
    from lake.ingest.connectors.files import dataset_root
    from lake.ingest.connectors.registry import connector_module

    source = source_of(project, args.source)
    connector = connector_module(source.connector)
    if connector.NEEDS_SPARK:
        batches = connector.land(spark, settings, source, args.logical_date)
    else:
        batches = connector.land(settings, source, args.logical_date)
    for batch in batches:
        for dataset in batch.datasets:
            record.outputs.append(DatasetRef(
                location=dataset_root(settings.landing_root, source.name, dataset),
                version=batch.batch_id))
    record.parameters["batches"] = ",".join(b.batch_id for b in batches)


def parse_args(argv: list[str] | None) -> JobArgs:
    return source_args("land", __doc__, argv)


def main(argv: list[str] | None = None) -> int:
    return run_job(parse_args(argv), body)


if __name__ == "__main__":
    sys.exit(main())
