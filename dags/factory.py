"""Airflow DAGs built from the project's declarations: one ingest DAG per source, and the
warehouse DAGs, scheduled on the data they read.

``ingest_<source>`` (the source's schedule): ``wait_for_delivery`` (files with ``complete_when``:
a sensor) -> ``land`` -> ``bronze`` -> ``validate``; the Spark steps run ``jobs/``. Its tasks
declare the landing, bronze, silver and quarantine tables as Asset outlets.

``<dag>`` of the warehouse (``warehouse`` unless models say otherwise): one Spark step running
``jobs/load_warehouse.py``, scheduled on any update of the silver tables its models read
(Airflow data-aware scheduling), its outlets the models' tables.

How a Spark step runs is a setting (``spark_tasks``): a spark-submit per task (clusters), or the
job in the task's own process on its Spark session (local masters: ``lakehouse run`` runs a DAG's
tasks in one process, so one warm Spark application serves them all).

Airflow reports import errors per file, so each DAG has its own small file in the DAGs folder
(:func:`sync_dag_files`, run by ``lakehouse dags sync`` and by every ``lakehouse run``): a broken
declaration breaks only its own DAG, with an import error naming the file, the key and the fix.
Building a DAG reads declarations only: no Spark, no database, no network.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lake.config.project import Project
    from lake.config.settings import Settings
    from lake.config.sources import Source

JOBS = Path(__file__).resolve().parent.parent / "jobs"
STUB_MARK = "# lakehouse: generated DAG file"
INGEST_PREFIX = "ingest_"


@functools.cache
def _context(env_key: tuple) -> tuple[Settings, Project]:
    from lake.config.project import find_project
    from lake.config.settings import load_settings

    settings = load_settings()
    return settings, find_project(settings.project)


def context() -> tuple[Settings, Project]:
    """Settings and project of this process (read once per process and environment)."""
    import os

    return _context(tuple(sorted((k, v) for k, v in os.environ.items()
                                 if k.startswith("LAKEHOUSE_"))))


def asset_uri(location: str) -> str:
    """An Airflow Asset URI for a storage location (``s3a://`` is ``s3://``)."""
    if "://" not in location:
        return f"file://{location}"
    scheme, rest = location.split("://", 1)
    return f"{'s3' if scheme in ('s3a', 's3n') else scheme}://{rest}"


def table_asset(settings: Settings, table: str):
    from airflow.sdk import Asset

    from lake.platform.catalog import storage_location

    return Asset(name=table, uri=asset_uri(storage_location(settings, table)))


@functools.cache
def _submit_settings(env_key: tuple) -> tuple[dict, dict]:
    from lake.platform.session import spark_conf

    settings, _ = context()
    return spark_conf(settings, short_lived=True), settings.as_env()


def _spark_job(settings: Settings, task_id: str, job: str, args: list[str], *, name: str,
               inlets: list, outlets: list, doc: str):
    import os

    if not settings.submits_spark_jobs:
        from airflow.providers.standard.operators.python import PythonOperator

        return PythonOperator(
            task_id=task_id, python_callable=run_spark_task, op_kwargs={"job": job, "argv": args},
            inlets=inlets, outlets=outlets, doc_md=doc)
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    conf, env = _submit_settings(tuple(sorted((k, v) for k, v in os.environ.items()
                                              if k.startswith("LAKEHOUSE_"))))
    return SparkSubmitOperator(
        task_id=task_id, application=str(JOBS / f"{job}.py"), application_args=args,
        conn_id="spark_default", conf=dict(conf), env_vars=dict(env), name=name, inlets=inlets,
        outlets=outlets, openlineage_inject_parent_job_info=True, doc_md=doc)


def run_spark_task(job: str, argv: list[str], ti=None) -> None:
    """A Spark step in the task's process: ``jobs/<job>.py`` with the rendered ``argv``, its
    lineage run the child of this task's (as SparkSubmitOperator's injected parent would be)."""
    from airflow.providers.openlineage.plugins.macros import (
        lineage_job_name,
        lineage_job_namespace,
        lineage_root_job_name,
        lineage_root_run_id,
        lineage_run_id,
    )

    from jobs.run import run_in_task
    from lineage.events.run_events import ParentRun

    namespace = lineage_job_namespace()
    parent = ParentRun(namespace=namespace, job_name=lineage_job_name(ti),
                       run_id=lineage_run_id(ti), root_namespace=namespace,
                       root_job_name=lineage_root_job_name(ti),
                       root_run_id=lineage_root_run_id(ti)) if ti is not None else None
    run_in_task(job, argv, parent)


@contextmanager
def declared_in_project() -> Iterator[None]:
    """Airflow shows a DAG file's whole traceback as its import error: keep it to our message
    (file, key, fix) rather than the validation library's chain."""
    from lake.errors import ConfigError

    try:
        yield
    except ConfigError as err:
        raise ConfigError(str(err)) from None


def ingest_dag(source_name: str):
    """The ingest DAG of source ``source_name``."""
    with declared_in_project():
        return _ingest_dag(source_name)


def _ingest_dag(source_name: str):
    import pendulum
    from airflow.sdk import Asset, Param, dag, task

    from lake.config.sources import source_of
    from lake.ingest.connectors.files import dataset_root
    from lake.platform.catalog import table

    settings, project = context()
    source = source_of(project, source_name)
    landing = [Asset(name=f"landing.{source.name}.{d}",
                     uri=asset_uri(dataset_root(settings.landing_root, source.name, d)))
               for d in source.datasets]
    bronze = [table_asset(settings, table(source.name, "bronze", d)) for d in source.datasets]
    silver = [table_asset(settings, table(source.name, "silver", d)) for d in source.structured]
    quarantine = [table_asset(settings, table(source.name, "quarantine", d))
                  for d in source.structured]
    args = ["--source", source.name, "--ds", "{{ ds }}",
            "--environment", "{{ params.environment }}"]
    tz = project.defaults.timezone

    @dag(
        dag_id=f"{INGEST_PREFIX}{source.name}",
        schedule=source.schedule,
        start_date=pendulum.datetime(source.start_date.year, source.start_date.month,
                                     source.start_date.day, tz=tz),
        catchup=False,
        max_active_runs=1,
        default_args={"owner": source.owner, "retries": source.retries,
                      "retry_delay": timedelta(seconds=project.defaults.retry_delay_seconds)},
        doc_md=_ingest_doc(source),
        tags=["lakehouse", "ingest", source.name, *source.header.tags],
        params={"environment": Param(source.environment or "default", type="string",
                                     description="environment of the delivery, as the "
                                                 "contracts declare them")},
    )
    def ingest():
        steps = []
        complete_when = getattr(source.deliveries, "complete_when", None)
        if complete_when is not None:
            wait = source.deliveries.wait

            @task.sensor(poke_interval=wait.poke_seconds, timeout=wait.timeout_minutes * 60,
                         mode="reschedule", doc_md="Wait until the delivery is complete.")
            def wait_for_delivery(ds: str | None = None):
                from datetime import date

                from airflow.sdk import PokeReturnValue

                from lake.ingest.connectors.files import is_complete

                folder = source.deliveries.folder(settings, str(project.root),
                                                  date.fromisoformat(ds))
                done, why = is_complete(source, folder)
                if not done:
                    print(f"delivery not complete: {why}")
                return PokeReturnValue(is_done=done)

            steps.append(wait_for_delivery())
        if source.connector == "files":
            @task(outlets=landing, doc_md="Land the delivery's new files as one batch.")
            def land(ds: str | None = None) -> list[str]:
                from datetime import date

                from lake.ingest.connectors.files import land as land_files

                batches = land_files(settings, source, date.fromisoformat(ds))
                return [b.batch_id for b in batches]

            steps.append(land())
        else:
            steps.append(_spark_job(settings, "land", "land", args[:4], outlets=landing,
                                    inlets=[], name=f"{source.name}-land-{{{{ ds_nodash }}}}",
                                    doc="Extract the new rows as one batch (`jobs/land.py`)."))
        steps.append(_spark_job(settings, "bronze", "bronze", args, inlets=landing, outlets=bronze,
                                name=f"{source.name}-bronze-{{{{ ds_nodash }}}}",
                                doc="Type the date's landed batches into bronze."))
        steps.append(_spark_job(settings, "validate", "validate", args, inlets=bronze,
                                outlets=silver + quarantine,
                                name=f"{source.name}-validate-{{{{ ds_nodash }}}}",
                                doc="Validate the batches: silver, quarantine, anomaly reports."))
        for before, after in zip(steps, steps[1:], strict=False):
            before >> after

    return ingest()


def _ingest_doc(source: Source) -> str:
    datasets = "\n".join(f"- `{n}`" + (" (unstructured)" if d.unstructured else "")
                         for n, d in source.datasets.items())
    return (f"### ingest_{source.name}\n\n{source.header.description}\n\n"
            f"Source `{source.name}` ({source.connector}), owned by {source.owner}, declared in "
            f"`{source.project.relative(source.file)}`. Datasets:\n\n{datasets}\n\n"
            "Tasks: land the delivery as a batch, type it into bronze, validate it into silver "
            "and quarantine. Every step is idempotent for its logical date.")


def warehouse_dag(dag_name: str):
    """The warehouse DAG ``dag_name``: its models, loaded whenever a table they read changes."""
    with declared_in_project():
        return _warehouse_dag(dag_name)


def _warehouse_dag(dag_name: str):
    from airflow.sdk import AssetAny, dag

    from warehouse.models.catalog import load_models

    settings, project = context()
    catalog = load_models(project)
    models = catalog.dags().get(dag_name)
    if not models:
        from lake.errors import ConfigError

        raise ConfigError(f"no warehouse models in DAG {dag_name!r}; run `lakehouse dags sync` "
                          "to remove stale DAG files")
    reads = catalog.silver_inputs(tuple(models))
    written = [catalog.model(m).table for m in models]
    external = sorted({t for m in models for t in catalog.reads(m)
                       if t.startswith("warehouse.") and t not in written})
    inlets = [table_asset(settings, t) for t in (*reads, *external)]

    @dag(
        dag_id=dag_name,
        schedule=AssetAny(*inlets) if inlets else None,
        **_project_dag_args(project),
        doc_md=(f"### {dag_name}\n\nWarehouse models, in load order: "
                + ", ".join(f"`{m}`" for m in models)
                + ".\n\nRuns when any table they read changes; each model loads only the batches "
                  "it has not loaded yet."),
        tags=["lakehouse", "warehouse"],
    )
    def load():
        _spark_job(settings, "load", "load_warehouse", ["--dag", dag_name], inlets=inlets,
                   outlets=[table_asset(settings, t) for t in written],
                   name=f"{dag_name}-load", doc="Load the models (`jobs/load_warehouse.py`).")

    return load()


MAINTENANCE_DAG = "lakehouse_maintenance"


def _project_dag_args(project: Project) -> dict:
    """What the project's own DAGs (warehouse, maintenance) take from lakehouse.yaml's defaults."""
    import pendulum

    d = project.defaults
    return {"start_date": pendulum.datetime(d.start_date.year, d.start_date.month,
                                            d.start_date.day, tz=d.timezone),
            "catchup": False, "max_active_runs": 1,
            "default_args": {"owner": d.owner, "retries": d.retries,
                             "retry_delay": timedelta(seconds=d.retry_delay_seconds)}}


def maintenance_dag():
    """Compact, cluster and vacuum the project's tables on ``maintenance.schedule``."""
    with declared_in_project():
        return _maintenance_dag()


def _maintenance_dag():
    from airflow.sdk import dag

    settings, project = context()
    upkeep = project.config.maintenance

    @dag(
        dag_id=MAINTENANCE_DAG,
        schedule=upkeep.schedule,
        **_project_dag_args(project),
        doc_md=(f"### {MAINTENANCE_DAG}\n\nOPTIMIZE every zone, metadata and warehouse table "
                "(clustered or Z-ordered as the models' `layout` declares), then VACUUM files "
                f"older than the time-travel window ({upkeep.time_travel_days} days, "
                "`maintenance.time_travel_days` in lakehouse.yaml), never younger."),
        tags=["lakehouse", "maintenance"],
    )
    def maintenance():
        _spark_job(settings, "maintain", "maintain", [], inlets=[], outlets=[],
                   name=MAINTENANCE_DAG, doc="Compact and vacuum (`jobs/maintain.py`).")

    return maintenance()


def dag_files(project: Project) -> dict[str, str]:
    """DAG file name -> its content, for every source and warehouse DAG of the project."""
    files = {f"{INGEST_PREFIX}{name}.py": _stub(f"{INGEST_PREFIX}{name}", "ingest_dag", name,
                                               project.relative(project.source_file(name)))
             for name in project.source_names()}
    from lake.errors import ConfigError
    from warehouse.models.catalog import load_models

    try:
        dags = load_models(project).dags()
    except ConfigError:  # a broken model declaration: the DAG file reports it on import
        dags = {"warehouse": []}
    for name in dags:
        files[f"{name}.py"] = _stub(name, "warehouse_dag", name, "warehouse/")
    files[f"{MAINTENANCE_DAG}.py"] = _stub(MAINTENANCE_DAG, "maintenance_dag", None,
                                           "lakehouse.yaml")
    return files


def _stub(dag_id: str, builder: str, arg: str | None, declared_in: str) -> str:
    return (f'"""Airflow DAG {dag_id}, built from the lakehouse project\'s declarations '
            f"({declared_in}).\n\nGenerated by `lakehouse dags sync`: edit the declarations, not "
            f'this file."""\n{STUB_MARK}\nfrom dags.factory import {builder}\n\n'
            f"dag = {builder}({'' if arg is None else repr(arg)})\n")


def sync_dag_files(settings: Settings, project: Project) -> list[str]:
    """Write the project's DAG files into the DAGs folder and remove stale generated ones;
    the names of the DAG files now there."""
    folder = Path(settings.dags_folder)
    folder.mkdir(parents=True, exist_ok=True)
    wanted = dag_files(project)
    for path in folder.glob("*.py"):
        if path.name not in wanted and STUB_MARK in path.read_text(errors="replace"):
            path.unlink()
    for name, text in wanted.items():
        path = folder / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    return sorted(wanted)


def dag_file(settings: Settings, dag_id: str) -> Path:
    return Path(settings.dags_folder) / f"{dag_id}.py"
