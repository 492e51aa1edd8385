"""Running the project's DAGs through Airflow: its environment, its DAG files, its runs.

Airflow's home, database and DAGs folder come from settings (``LAKEHOUSE_AIRFLOW_HOME``,
``LAKEHOUSE_AIRFLOW_DATABASE_URL``, ``LAKEHOUSE_DAGS_FOLDER``). Airflow reads its configuration
when first imported, so :func:`configure_airflow` runs before any ``import airflow``.

:func:`run_source` runs a source's ingest DAG for a logical date with Airflow's own runner
(``dag.test()``: a DagRun and TaskInstances in Airflow's database, tasks run in this process,
Spark steps as spark-submit), then every warehouse DAG scheduled on the tables it updated, as
Airflow's scheduler would on those Asset events.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from lake.config.project import Project
from lake.config.settings import Settings
from lake.errors import LakehouseError


def airflow_environment(settings: Settings) -> dict[str, str]:
    """Environment variables for Airflow (and the spark-submit jobs it starts)."""
    from lineage.delivery.destinations import client_config

    venv_bin = str(Path(sys.executable).parent)
    transport = client_config(settings.lineage_transport, store_url=settings.lineage_url,
                              spool_dir=settings.lineage_spool_dir)
    return {
        **settings.as_env(),
        "AIRFLOW_HOME": str(settings.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": settings.airflow_database_url,
        "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "15",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps({"conn_type": "spark",
                                                  "host": settings.spark_master}),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": settings.lineage_namespace,
        # task events are emitted from a thread of the task's process, not a fork of it (a fork
        # of a process that holds a JVM gateway cost ~0.2 s per event, ten a day of a source)
        "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        # spark-submit is found on PATH; the venv's bin holds PySpark's.
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
    }


def configure_airflow(settings: Settings) -> None:
    """Point this process's Airflow at ``settings`` and create or upgrade its database."""
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    os.environ.update(airflow_environment(settings))
    from airflow.utils.db import initdb

    initdb()


@dataclass
class DagRunResult:
    dag_id: str
    logical_date: date | None
    state: str
    seconds: float
    tasks: dict[str, float] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.state == "success"


def load_dag(settings: Settings, dag_id: str) -> Any:
    """The DAG ``dag_id`` from its file in the DAGs folder; an import error names its cause."""
    from airflow.dag_processing.dagbag import DagBag

    from dags.factory import dag_file

    path = dag_file(settings, dag_id)
    if not path.is_file():
        raise LakehouseError(f"no DAG file {path}; the project declares no such source or "
                             "warehouse DAG (run `lakehouse dags sync`)")
    bag = DagBag(dag_folder=str(path))
    if bag.import_errors:
        message = next(iter(bag.import_errors.values())).strip().splitlines()[-1]
        raise LakehouseError(f"the DAG {dag_id} cannot be built: {message}")
    return bag.dags[dag_id]


def run_dag(dag: Any, logical_date: date | None, conf: dict | None = None) -> DagRunResult:
    """One run of ``dag`` with Airflow's runner; what each task took and which failed."""
    import pendulum

    started = time.perf_counter()
    when = (pendulum.datetime(logical_date.year, logical_date.month, logical_date.day, tz="UTC")
            if logical_date else None)
    dag_run = dag.test(logical_date=when, run_conf=conf or {})
    result = DagRunResult(dag.dag_id, logical_date, str(dag_run.state),
                          time.perf_counter() - started)
    for ti in dag_run.get_task_instances():
        if ti.start_date and ti.end_date:
            result.tasks[ti.task_id] = (ti.end_date - ti.start_date).total_seconds()
        if str(ti.state) not in ("success", "skipped"):
            result.failed.append(f"{ti.task_id} ({ti.state})")
    return result


def downstream_dags(project: Project, source: str) -> list[str]:
    """The warehouse DAGs scheduled on a table of ``source`` (they run after its ingest)."""
    from warehouse.models.catalog import load_models

    catalog = load_models(project)
    prefix = f"{source}_silver."
    return [name for name, models in catalog.dags().items()
            if any(t.startswith(prefix) for t in catalog.silver_inputs(tuple(models)))]


def run_source(settings: Settings, project: Project, source: str, logical_date: date, *,
               environment: str | None = None, warehouse: bool = True,
               progress: Callable[[str], None] = lambda _m: None) -> list[DagRunResult]:
    """Run ``ingest_<source>`` for ``logical_date``, then (``warehouse``) the warehouse DAGs
    that read it; stops at the first failed run."""
    from dags.factory import INGEST_PREFIX, sync_dag_files

    sync_dag_files(settings, project)
    dag = load_dag(settings, f"{INGEST_PREFIX}{source}")
    conf = {"environment": environment} if environment else {}
    progress(f"running {dag.dag_id} for {logical_date} ...")
    results = [run_dag(dag, logical_date, conf)]
    progress(_line(results[-1]))
    if not results[-1].ok or not warehouse:
        return results
    for name in downstream_dags(project, source):
        progress(f"running {name} (it reads {source}'s tables) ...")
        results.append(run_dag(load_dag(settings, name), None))
        progress(_line(results[-1]))
        if not results[-1].ok:
            break
    return results


def _line(result: DagRunResult) -> str:
    tasks = "  ".join(f"{k} {v:.0f}s" for k, v in result.tasks.items())
    return f"  {result.dag_id}: {result.state} in {result.seconds:.0f}s  {tasks}"
