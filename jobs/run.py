"""What every spark-submit job shares: arguments, the session, and its OpenLineage run.

:func:`lineage_run` emits START, then COMPLETE with the datasets the job recorded, or FAIL with the
error. The parent run (the Airflow task, and the DAG run as root) comes from the
``spark.openlineage.parent*`` settings that Airflow's SparkSubmitOperator injects. Lineage never
fails a job: events the store cannot take are spooled and replayed later.
"""

from __future__ import annotations

import argparse
import logging
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from lake.delta_io import TableWrite
from lake.errors import LakehouseError
from lake.settings import Settings
from lineage.events.run_events import DatasetRef, ParentRun, QualityResult

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobArgs:
    job: str
    logical_date: date
    source: str
    force: bool
    environment: str | None = None

    @property
    def batch_id(self) -> str:
        from lake.landing import batch_id_for

        return batch_id_for(self.logical_date)


def parse_args(job: str, description: str, argv: list[str] | None) -> JobArgs:
    parser = argparse.ArgumentParser(prog=f"jobs/{job}.py", description=description)
    parser.add_argument("--ds", required=True, type=date.fromisoformat,
                        help="logical date of the batch, YYYY-MM-DD")
    parser.add_argument("--source", default="retail", help="source system (default: retail)")
    parser.add_argument("--force", action="store_true",
                        help="rewrite the batch even if it was already committed")
    parser.add_argument("--environment", default=None,
                        help="environment the batch comes from, as its contracts declare it "
                             "(e.g. TRAINING or SERVING; default: each contract's default)")
    ns = parser.parse_args(argv)
    environment = ns.environment if ns.environment not in (None, "", "default") else None
    return JobArgs(job, ns.ds, ns.source, ns.force, environment)


@dataclass
class RunRecord:
    """Datasets a run read and wrote, filled in by the job body."""

    inputs: list[DatasetRef] = field(default_factory=list)
    outputs: list[DatasetRef] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)  # added to COMPLETE/FAIL


def table_ref(spark: SparkSession, write: TableWrite,
              quality: QualityResult | None = None) -> DatasetRef:
    """A written Delta table as a lineage dataset: location, name, version, schema, rows."""
    from lake.delta_io import delta_table

    schema = _schema(delta_table(spark, write.table).toDF())
    return DatasetRef(location=write.location, table=write.table, version=write.version,
                      schema=schema, row_count=write.rows, quality=quality)


def read_ref(spark: SparkSession, table: str, version: int | None,
             quality: QualityResult | None = None) -> DatasetRef:
    """A Delta table read at ``version``, as a lineage input."""
    from lake.delta_io import delta_table, table_location

    schema = _schema(delta_table(spark, table).toDF())
    return DatasetRef(location=table_location(spark, table), table=table, version=version,
                      schema=schema, quality=quality)


def _schema(df) -> tuple[tuple[str, str], ...]:
    return tuple((f.name, f.dataType.simpleString()) for f in df.schema)


def parent_run(spark: SparkSession) -> ParentRun | None:
    conf = spark.conf  # a lookup per key; SparkContext.getConf() would copy the whole conf
    run_id = conf.get("spark.openlineage.parentRunId", None)
    if not run_id:
        return None
    return ParentRun(
        namespace=conf.get("spark.openlineage.parentJobNamespace", "lakehouse"),
        job_name=conf.get("spark.openlineage.parentJobName", "unknown"),
        run_id=run_id,
        root_namespace=conf.get("spark.openlineage.rootParentJobNamespace", None),
        root_job_name=conf.get("spark.openlineage.rootParentJobName", None),
        root_run_id=conf.get("spark.openlineage.rootParentRunId", None),
    )


@contextmanager
def lineage_run(spark: SparkSession, settings: Settings, args: JobArgs) -> Iterator[RunRecord]:
    """Emit START now, COMPLETE (with the recorded datasets) or FAIL when the block ends."""
    from lineage.delivery.emitter import emit_safely, make_client
    from lineage.events.run_events import run_event

    client = make_client(settings.lineage_url, settings.lineage_spool_dir,
                         settings.lineage_transport)
    common = {
        "namespace": settings.lineage_namespace,
        "job_name": f"{args.source}.{args.job}",
        "run_id": str(uuid.uuid4()),
        "parent": parent_run(spark),
        "nominal_time": datetime.combine(args.logical_date, time(0), tzinfo=UTC),
        "parameters": {"ds": args.logical_date.isoformat(), "source": args.source,
                       "batch_id": args.batch_id, "force": str(args.force).lower(),
                       "environment": args.environment or "default"},
    }
    emit_safely(client, run_event("START", event_time=datetime.now(UTC), **common))
    record = RunRecord()
    try:
        yield record
    except BaseException as err:
        message = f"{type(err).__name__}: {err}"
        emit_safely(client, run_event("FAIL", event_time=datetime.now(UTC), error=message,
                                      inputs=record.inputs, outputs=record.outputs,
                                      **_with_parameters(common, record)))
        raise
    emit_safely(client, run_event("COMPLETE", event_time=datetime.now(UTC),
                                  inputs=record.inputs, outputs=record.outputs,
                                  **_with_parameters(common, record)))


def _with_parameters(common: dict, record: RunRecord) -> dict:
    return {**common, "parameters": {**common["parameters"], **record.parameters}}


def run_job(job: str, description: str, argv: list[str] | None,
            body: Callable[[SparkSession, Settings, JobArgs, RunRecord], None]) -> int:
    """Parse arguments, start Spark, run ``body`` inside a lineage run; 0 on success.

    A :class:`LakehouseError` prints its message (what failed and what to do) and returns 2.
    """
    from lake.settings import load_settings
    from lake.spark import ensure_databases, get_session

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("great_expectations", "py4j"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args = parse_args(job, description, argv)
    try:
        settings = load_settings()
        spark = get_session(settings, app_name=f"lakehouse-{job}")
        ensure_databases(spark, settings)
        with lineage_run(spark, settings, args) as record:
            body(spark, settings, args, record)
    except LakehouseError as err:
        print(f"{job} failed for {args.logical_date}: {err}", file=sys.stderr)
        return 2
    return 0
