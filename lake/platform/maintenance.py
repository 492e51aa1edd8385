"""Upkeep of the lake's and the warehouse's Delta tables: compact the small files daily appends
leave (clustering or Z-ordering them as the model's layout declares; the files OPTIMIZE writes
carry fresh min/max/null-count statistics, which data skipping reads), and remove files no
version inside the declared time-travel window needs. (Spark's ``ANALYZE TABLE`` does not apply
to Delta tables, which Spark reads as v2 tables: Delta keeps statistics per file instead.)

The retention guard: VACUUM never removes a file a version younger than the project's
``maintenance.time_travel_days`` reads (nor younger than the table's own
``delta.deletedFileRetentionDuration``), and each table keeps its transaction log at least that
long (``delta.logRetentionDuration``), so ``versionAsOf``/``timestampAsOf`` inside the window
keep working. A shorter retention is refused, never applied.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lake.errors import LakehouseError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

_INTERVAL = re.compile(r"^\s*interval\s+(\d+)\s+(second|minute|hour|day|week)s?\s*$", re.I)
_HOURS = {"second": 1 / 3600, "minute": 1 / 60, "hour": 1, "day": 24, "week": 168}
DELTA_DEFAULT_FILE_RETENTION_HOURS = 168  # delta.deletedFileRetentionDuration's default
DELTA_DEFAULT_LOG_RETENTION_HOURS = 720  # delta.logRetentionDuration's default


@dataclass(frozen=True)
class TablePlan:
    """One table to keep up: ``zorder_by`` for a partitioned table's OPTIMIZE (a clustered table
    is clustered by plain OPTIMIZE); ``target_file_bytes``: the file size OPTIMIZE aims at
    (default Delta's, 1 GiB)."""

    table: str
    zorder_by: tuple[str, ...] = ()
    target_file_bytes: int | None = None


@dataclass(frozen=True)
class Upkeep:
    """What maintenance did to one table."""

    table: str
    files_before: int
    files_after: int
    files_compacted: int
    files_vacuumed: int
    retained_hours: int
    version_before: int
    version_after: int
    dry_run: bool = False


def retention_hours(time_travel_days: int, properties: dict[str, str]) -> int:
    """Hours VACUUM keeps unreferenced files: the declared window, or the table's own
    ``delta.deletedFileRetentionDuration`` when that is longer."""
    if time_travel_days < 1:
        raise LakehouseError(f"time_travel_days must be at least 1, got {time_travel_days}: "
                             "VACUUM would break time travel to the versions of the last day")
    declared = time_travel_days * 24
    table = _hours(properties.get("delta.deletedFileRetentionDuration"),
                   DELTA_DEFAULT_FILE_RETENTION_HOURS)
    return max(declared, table)


def maintain(spark: SparkSession, plans: list[TablePlan], *, time_travel_days: int,
             dry_run: bool = False, progress: Callable[[str], None] | None = None
             ) -> list[Upkeep]:
    """OPTIMIZE, refresh statistics and VACUUM each table of ``plans`` (``dry_run``: only say
    what VACUUM would remove)."""
    done = []
    for i, plan in enumerate(plans, 1):
        if progress:
            progress(f"[{i}/{len(plans)}] {plan.table}")
        done.append(_maintain_table(spark, plan, time_travel_days, dry_run))
    return done


def _maintain_table(spark: SparkSession, plan: TablePlan, days: int, dry_run: bool) -> Upkeep:
    from lake.platform.delta import latest_version

    detail = spark.sql(f"DESCRIBE DETAIL {plan.table}").select(
        "numFiles", "properties", "clusteringColumns", "location").first()
    version_before = latest_version(spark, detail["location"])
    properties = dict(detail["properties"] or {})
    hours = retention_hours(days, properties)
    compacted = 0
    if not dry_run:
        _keep_log(spark, plan.table, properties, hours)
        zorder = f" ZORDER BY ({', '.join(plan.zorder_by)})" if plan.zorder_by and not \
            detail["clusteringColumns"] else ""
        metrics = _optimize(spark, f"OPTIMIZE {plan.table}{zorder}", plan.target_file_bytes)
        compacted = int(metrics["metrics"]["numFilesRemoved"]) if metrics else 0
    vacuumed = _vacuum(spark, plan.table, hours, dry_run)
    after = spark.sql(f"DESCRIBE DETAIL {plan.table}").select("numFiles").first()["numFiles"]
    log.info("%s: %s files -> %s (%s compacted, %s vacuumed, retaining %sh)", plan.table,
             detail["numFiles"], after, compacted, vacuumed, hours)
    return Upkeep(plan.table, int(detail["numFiles"]), int(after), compacted, vacuumed, hours,
                  version_before, latest_version(spark, detail["location"]), dry_run)


def _optimize(spark: SparkSession, sql: str, target_bytes: int | None):
    key = "spark.databricks.delta.optimize.maxFileSize"
    before = spark.conf.get(key, None)
    if target_bytes:
        spark.conf.set(key, str(target_bytes))
    try:
        return spark.sql(sql).select("metrics").first()
    finally:
        if target_bytes:
            if before is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, before)


def _keep_log(spark: SparkSession, table: str, properties: dict[str, str], hours: int) -> None:
    """The transaction log kept at least ``hours``: time travel needs the log as well as the
    files."""
    kept = _hours(properties.get("delta.logRetentionDuration"), DELTA_DEFAULT_LOG_RETENTION_HOURS)
    if kept < hours:
        spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES ("
                  f"'delta.logRetentionDuration' = 'interval {hours} hours')")


def _vacuum(spark: SparkSession, table: str, hours: int, dry_run: bool) -> int:
    if dry_run:
        return spark.sql(f"VACUUM {table} RETAIN {hours} HOURS DRY RUN").count()
    before = _removed_files(spark, table)
    spark.sql(f"VACUUM {table} RETAIN {hours} HOURS")
    return _removed_files(spark, table) - before


def _removed_files(spark: SparkSession, table: str) -> int:
    """Files VACUUM deleted so far, from the table's history (VACUUM END commits)."""
    from pyspark.sql import functions as F

    rows = spark.sql(f"DESCRIBE HISTORY {table}").where(F.col("operation") == "VACUUM END") \
        .select(F.sum(F.col("operationMetrics")["numDeletedFiles"].cast("long")).alias("n")) \
        .first()
    return int(rows["n"] or 0)


def _hours(interval: str | None, default: int) -> int:
    if not interval:
        return default
    m = _INTERVAL.match(interval)
    if not m:
        return default
    return int(int(m[1]) * _HOURS[m[2].lower()])
