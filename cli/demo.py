"""``lakehouse demo``: run ``retail_daily`` for N days through Airflow, then summarise the result."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from lake.errors import LakehouseError
from lake.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ZONE_TABLES = ("bronze", "silver", "quarantine", "meta", "warehouse")


@dataclass
class DayRun:
    logical_date: date
    state: str
    seconds: float
    tasks: dict[str, float] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


def generate_drops(settings: Settings, start: date, days: int, seed: int) -> list[date]:
    """Write the retail source's drop for each day (the upstream system, outside the lake)."""
    from lake.demo_source import generate_drop

    dates = [start + timedelta(days=i) for i in range(days)]
    for day in dates:
        generate_drop(settings.source_drop("retail", day), day, seed)
    return dates


def run_days(settings: Settings, dates: list[date], progress) -> list[DayRun]:
    """Run ``retail_daily`` once per date with ``dag.test()``; stops at the first failed day."""
    import pendulum

    from cli.airflow_env import DAGS_FOLDER, configure_airflow
    from lake.demo_source import environment_of

    configure_airflow(settings)
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    if bag.import_errors:
        raise LakehouseError(f"the dags folder has import errors: {bag.import_errors}")
    dag = bag.dags["retail_daily"]
    runs = []
    for day in dates:
        progress(f"running retail_daily for {day} ({environment_of(day)} feed) ...")
        started = time.perf_counter()
        conf = {"environment": environment_of(day)}
        dag_run = dag.test(logical_date=pendulum.datetime(day.year, day.month, day.day, tz="UTC"),
                           run_conf=conf)
        run = DayRun(day, str(dag_run.state), time.perf_counter() - started)
        for ti in dag_run.get_task_instances():
            if ti.start_date and ti.end_date:
                run.tasks[ti.task_id] = (ti.end_date - ti.start_date).total_seconds()
            if str(ti.state) != "success":
                run.failed.append(f"{ti.task_id} ({ti.state})")
        progress(f"  {day}: {run.state} in {run.seconds:.0f}s  "
                 + "  ".join(f"{k} {v:.0f}s" for k, v in run.tasks.items()))
        runs.append(run)
        if run.state != "success":
            break
    return runs


def summarize(spark: SparkSession, settings: Settings) -> dict[str, Any]:
    """Tables with rows and Delta versions, quarantine counts per rule, where to look next."""
    from lake.contract_registry import CONTRACT_VERSIONS
    from lake.delta_io import table_version
    from lake.tables import ANOMALIES, BATCH_COUNTS

    tables = []
    for db in ZONE_TABLES:
        for t in sorted(r.tableName for r in spark.sql(f"SHOW TABLES IN {db}").collect()):
            name = f"{db}.{t}"
            tables.append({"table": name, "rows": spark.table(name).count(),
                           "version": table_version(spark, name)})
    rules: dict[str, dict[str, int]] = {}
    for row in (
        spark.table(BATCH_COUNTS)
        .selectExpr("dataset", "explode(rule_counts) AS (rule, n)")
        .groupBy("dataset", "rule").sum("n").orderBy("dataset", "rule").collect()
    ):
        rules.setdefault(row["dataset"], {})[row["rule"]] = row["sum(n)"]
    anomalies: dict[str, dict[str, int]] = {}
    for row in (
        spark.table(ANOMALIES).selectExpr("dataset", "explode(anomalies) AS a")
        .groupBy("dataset", "a.type").count().orderBy("dataset", "type").collect()
    ):
        anomalies.setdefault(row["dataset"], {})[row["type"]] = row["count"]
    contracts = {
        r["dataset"]: r["version"]
        for r in spark.table(CONTRACT_VERSIONS).groupBy("dataset").agg({"version": "max"})
        .withColumnRenamed("max(version)", "version").collect()
    }
    docs = settings.gx_root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    return {
        "tables": tables,
        "contract_versions": dict(sorted(contracts.items())),
        "anomalies_by_type": anomalies,
        "quarantine_by_rule": rules,
        "data_docs": str(docs) if docs.exists() else None,
        "lineage_store": settings.lineage_url,
        "landing": settings.landing_root,
    }


def render_summary(summary: dict[str, Any], runs: list[DayRun]) -> str:
    lines = ["", "Runs:"]
    for r in runs:
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in r.tasks.items())
        lines.append(f"  {r.logical_date}  {r.state:<8} {r.seconds:6.1f}s  ({stages})")
    lines += ["", f"  {'table':<28} {'rows':>8} {'version':>8}"]
    for t in summary["tables"]:
        lines.append(f"  {t['table']:<28} {t['rows']:>8} {t['version']!s:>8}")
    lines += ["", "Contract versions in effect (lakehouse contract history DATASET):"]
    lines += [f"  {dataset:<10} v{version}" for dataset, version in
              summary["contract_versions"].items()]
    lines += ["", "Anomalies over all batches (lakehouse quality report DATASET):"]
    for dataset, kinds in summary["anomalies_by_type"].items():
        lines.append(f"  {dataset:<10} " + ", ".join(f"{k} {n}" for k, n in kinds.items()))
    lines += ["", "Quarantined rows by rule:"]
    for dataset, rules in summary["quarantine_by_rule"].items():
        for rule, n in rules.items():
            lines.append(f"  {dataset:<10} {rule:<40} {n:>6}")
    lines += [
        "",
        f"Data Docs:      {summary['data_docs'] or '(not built)'}",
        f"Lineage store:  {summary['lineage_store']}",
        f"Landing zone:   {summary['landing']}",
        "",
        "Next: lakehouse sql \"SELECT * FROM warehouse.dim_customer WHERE NOT is_current\"",
        "      lakehouse quality report orders",
        "      lakehouse contract history orders",
        "      lakehouse lineage upstream warehouse.fact_orders",
    ]
    return "\n".join(lines)
