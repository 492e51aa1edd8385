"""The state of the project's data: per source and table, the last run and its state, freshness,
rows, quarantined rows and contract version; per warehouse model, its rows and last load.

    from lakehouse.status import project_status
    report = project_status(spark, settings, project)

Run states come from Airflow's database, batches from the landing ledger, counts from the
``meta`` tables, row counts from the Delta logs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from lake.config.project import Project
    from lake.config.settings import Settings


def last_dag_runs(settings: Settings, dag_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The latest run of each DAG in Airflow's database (none yet: absent)."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(settings.airflow_database_url)
    try:
        if not dag_ids or not inspect(engine).has_table("dag_run"):
            return {}
        query = text("SELECT dag_id, state, logical_date, run_after, end_date FROM dag_run "
                     "WHERE dag_id = :dag ORDER BY run_after DESC LIMIT 1")
        out = {}
        with engine.connect() as conn:
            for dag_id in dag_ids:
                row = conn.execute(query, {"dag": dag_id}).mappings().first()
                if row:
                    out[dag_id] = {"state": row["state"],
                                   "logical_date": _moment(row["logical_date"]),
                                   "ended": _moment(row["end_date"])}
        return out
    finally:
        engine.dispose()


def _moment(value: Any) -> datetime | None:
    """A database timestamp (SQLite gives text) as an aware datetime."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _rows(spark: SparkSession, table: str) -> int | None:
    if not spark.catalog.tableExists(table):
        return None
    return spark.sql(f"SELECT count(*) AS n FROM {table}").first()["n"]


def _age(moment: Any, now: datetime) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int((now - moment).total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{max(seconds, 0)}s ago"


def project_status(spark: SparkSession, settings: Settings, project: Project,
                   sources: list[str] | None = None,
                   now: datetime | None = None) -> dict[str, Any]:
    """The status report as plain data (see module doc)."""
    from pyspark.sql import functions as F

    from dags.factory import INGEST_PREFIX
    from lake.config.sources import load_sources
    from lake.errors import ConfigError
    from lake.ingest.landing import Ledger
    from lake.platform.catalog import table
    from lake.platform.meta_tables import BATCH_COUNTS, CONTRACT_VERSIONS, create_meta_tables
    from warehouse.ledger import MODEL_LOADS
    from warehouse.models.catalog import load_models

    now = now or datetime.now(UTC)
    create_meta_tables(spark)
    good, bad = load_sources(project)
    names = sources or sorted([*good, *bad])
    runs = last_dag_runs(settings, [f"{INGEST_PREFIX}{n}" for n in names])
    versions = {(r[0], r[1]): r[2] for r in spark.table(CONTRACT_VERSIONS)
                .groupBy("source", "dataset").agg(F.max("version")).collect()}
    validated = {(r[0], r[1]): (r[2], r[3]) for r in spark.table(BATCH_COUNTS)
                 .groupBy("source", "dataset")
                 .agg(F.max("validated_at"), F.max("_batch_id")).collect()}
    report_sources = []
    for name in names:
        if name in bad:
            report_sources.append({"source": name, "error": str(bad[name])})
            continue
        source = good[name]
        batches = Ledger(settings.landing_root, name).batches()
        last = max(batches, key=lambda b: b.landed_at) if batches else None
        run = runs.get(f"{INGEST_PREFIX}{name}")
        tables = []
        for dataset in source.datasets:
            validated_at, batch = validated.get((name, dataset), (None, None))
            tables.append({
                "dataset": dataset, "table": table(name, "silver", dataset)
                if dataset in source.structured else table(name, "bronze", dataset),
                "rows": _rows(spark, table(name, "silver" if dataset in source.structured
                                           else "bronze", dataset)),
                "quarantined": _rows(spark, table(name, "quarantine", dataset))
                if dataset in source.structured else None,
                "contract_version": versions.get((name, dataset)),
                "last_batch": batch, "validated": validated_at,
                "freshness": _age(validated_at, now)})
        report_sources.append({
            "source": name, "dag": f"{INGEST_PREFIX}{name}",
            "last_run": run,
            "last_run_state": run["state"] if run else "never run",
            "last_landed": last and {"batch": last.batch_id, "at": last.landed_at,
                                     "files": len(last.files)},
            "freshness": _age(last.landed_at, now) if last else None,
            "tables": tables})
    models = []
    loads = {}
    if spark.catalog.tableExists(MODEL_LOADS):
        loads = {r[0]: (r[1], r[2]) for r in spark.table(MODEL_LOADS).groupBy("model")
                 .agg(F.max("loaded_at"), F.count(F.lit(1))).collect()}
    try:
        catalog = load_models(project)
        declared = {name: type(catalog.model(name)).__name__.lower() for name in catalog.order}
    except ConfigError as err:
        declared = {}
        models.append({"model": "-", "error": str(err)})
    for model, kind in declared.items():
        at, count = loads.get(model, (None, 0))
        models.append({"model": model, "kind": kind, "table": f"warehouse.{model}",
                       "rows": _rows(spark, f"warehouse.{model}"), "last_load": at,
                       "freshness": _age(at, now), "batches_loaded": count})
    return {"project": str(project.root), "at": now, "sources": report_sources,
            "warehouse": models}
