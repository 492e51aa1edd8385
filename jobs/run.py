"""What every Spark job shares: arguments, settings and the project, the session, and its
OpenLineage run.

A job runs two ways, with the same body: spark-submit of ``jobs/<job>.py`` (:func:`run_job`, on a
cluster), or inside an Airflow task's process (:func:`run_in_task`), on the process's Spark
session, which stays warm across the tasks that process runs (``lakehouse run`` runs a DAG's
tasks in one process).

:func:`lineage_run` emits START, then COMPLETE with the datasets the job recorded, or FAIL with the
error. The parent run (the Airflow task, and the DAG run as root) comes from the
``spark.openlineage.parent*`` settings that Airflow's SparkSubmitOperator injects, or from the
task itself when the job runs in its process. Lineage never fails a job: events the store cannot
take are spooled and replayed later.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from lake.config.project import Project
from lake.config.settings import Settings
from lake.errors import LakehouseError
from lake.platform.delta import TableWrite
from lineage.events.run_events import DatasetRef, ParentRun, QualityResult

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobArgs:
    job: str
    source: str | None = None
    logical_date: date | None = None
    batches: tuple[str, ...] = ()
    force: bool = False
    environment: str | None = None
    dag: str | None = None
    models: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    dry_run: bool = False

    @property
    def lineage_job(self) -> str:
        return f"{self.source or self.dag or 'warehouse'}.{self.job}"


def source_parser(job: str, description: str) -> argparse.ArgumentParser:
    """Arguments of a job that works on one source's batches of one logical date."""
    parser = argparse.ArgumentParser(prog=f"jobs/{job}.py", description=description)
    parser.add_argument("--source", required=True, help="a source declared in the project")
    parser.add_argument("--ds", required=True, type=date.fromisoformat,
                        help="logical date of the run, YYYY-MM-DD")
    parser.add_argument("--batch", action="append", default=[], dest="batches",
                        help="one batch id (yyyymmdd-nnn) to process; repeat for several "
                             "(default: the date's batches not processed yet)")
    parser.add_argument("--force", action="store_true",
                        help="process the batches again even if they were already committed")
    parser.add_argument("--environment", default=None,
                        help="environment the batches come from, as its contracts declare it "
                             "(e.g. TRAINING or SERVING; default: the source's)")
    return parser


def source_args(job: str, description: str, argv: list[str] | None) -> JobArgs:
    ns = source_parser(job, description).parse_args(argv)
    environment = ns.environment if ns.environment not in (None, "", "default") else None
    return JobArgs(job, ns.source, ns.ds, tuple(ns.batches), ns.force, environment)


@dataclass
class RunRecord:
    """Datasets a run read and wrote, filled in by the job body."""

    inputs: list[DatasetRef] = field(default_factory=list)
    outputs: list[DatasetRef] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)  # added to COMPLETE/FAIL


def table_ref(spark: SparkSession, write: TableWrite,
              quality: QualityResult | None = None) -> DatasetRef:
    """A written Delta table as a lineage dataset: location, name, version, schema, rows."""
    from lake.platform.delta import delta_table

    schema = _schema(delta_table(spark, write.table).toDF())
    return DatasetRef(location=write.location, table=write.table, version=write.version,
                      schema=schema, row_count=write.rows, quality=quality)


def read_ref(spark: SparkSession, table: str, version: int | None,
             quality: QualityResult | None = None) -> DatasetRef:
    """A Delta table read at ``version``, as a lineage input."""
    from lake.platform.delta import delta_table, table_location

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
def lineage_run(spark: SparkSession, settings: Settings, args: JobArgs,
                parent: ParentRun | None = None) -> Iterator[RunRecord]:
    """Emit START now, COMPLETE (with the recorded datasets) or FAIL when the block ends; the
    parent run is ``parent``, else the one Spark's settings name."""
    from lineage.delivery.emitter import emit_safely, make_client
    from lineage.events.run_events import run_event

    client = make_client(settings.lineage_url, settings.lineage_spool_dir,
                         settings.lineage_transport)
    started = datetime.now(UTC)
    parameters = {"force": str(args.force).lower()}
    if args.source:
        parameters.update({"source": args.source, "environment": args.environment or "default"})
    if args.logical_date:
        parameters["ds"] = args.logical_date.isoformat()
    if args.batches:
        parameters["batches"] = ",".join(args.batches)
    common = {
        "namespace": settings.lineage_namespace,
        "job_name": args.lineage_job,
        "run_id": str(uuid.uuid4()),
        "parent": parent or parent_run(spark),
        "nominal_time": datetime.combine(args.logical_date, time(0), tzinfo=UTC)
        if args.logical_date else started,
        "parameters": parameters,
    }
    emit_safely(client, run_event("START", event_time=started, **common))
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


Body = Callable[[Any, Settings, Project, JobArgs, RunRecord], Any]
JOBS = ("land", "bronze", "validate", "load_warehouse", "maintain")


def execute(args: JobArgs, body: Body, parent: ParentRun | None = None) -> None:
    """Load settings and the project, get this process's Spark session, and run ``body``
    inside a lineage run. A :class:`LakehouseError` propagates (what failed and what to do)."""
    from lake.config.project import find_project
    from lake.config.settings import load_settings
    from lake.platform.catalog import ensure_databases
    from lake.platform.session import get_session

    settings = load_settings()
    project = find_project(settings.project)
    spark = get_session(settings, app_name=f"lakehouse-{args.job}")
    ensure_databases(spark, settings, [args.source] if args.source else [])
    with lineage_run(spark, settings, args, parent) as record:
        body(spark, settings, project, args, record)


def run_job(args: JobArgs, body: Body) -> int:
    """spark-submit entry point: :func:`execute`; 0 on success. A :class:`LakehouseError`
    prints its message and returns 2."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("great_expectations", "py4j"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    what = " ".join(x for x in (args.source, args.logical_date and args.logical_date.isoformat(),
                                args.dag) if x)
    try:
        execute(args, body)
    except LakehouseError as err:
        print(f"{args.job} failed for {what}: {err}", file=sys.stderr)
        return 2
    return 0


def run_in_task(job: str, argv: list[str], parent: ParentRun | None = None) -> None:
    """Run ``jobs/<job>.py`` with ``argv`` in this process (an Airflow task's); raises
    :class:`LakehouseError` when it fails."""
    if job not in JOBS:
        raise LakehouseError(f"no job {job!r}; the jobs are {', '.join(JOBS)}")
    module = importlib.import_module(f"jobs.{job}")
    execute(module.parse_args(argv), module.body, parent)
