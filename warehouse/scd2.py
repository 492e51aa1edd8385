"""SCD2 dimensions loaded with one Delta MERGE per daily snapshot.

For a snapshot effective at ``effective_at`` (the logical date):
- a new business key gets a first version;
- a key whose tracked columns changed gets its current version closed (``valid_to``) and a new
  version opened, both in the same commit;
- a current key missing from the snapshot (deleted upstream) is closed, never removed;
- an unchanged key is left alone.

Every row says when it was true (``valid_from``/``valid_to``, business time) and when the platform
learned it (``recorded_at``, ``_batch_id``). Surrogate keys are ``xxhash64(key, valid_from)``: stable
across re-runs and environments. A batch is merged at most once (Delta transaction id).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from lake.delta_io import TableWrite, delta_table, idempotent_dml, table_location
from lake.errors import LakehouseError
from lake.tables import create_table
from warehouse.models import Dimension

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

log = logging.getLogger(__name__)

MERGE_KEY = "_merge_key"


def dimension_ddl(dim: Dimension) -> str:
    cols = [f"{dim.surrogate_key} BIGINT NOT NULL"]
    cols += [f"{name} {typ}{' NOT NULL' if name == dim.key else ''}"
             for name, typ in dim.types.items()]
    cols += ["row_hash STRING NOT NULL", "valid_from TIMESTAMP NOT NULL", "valid_to TIMESTAMP",
             "is_current BOOLEAN NOT NULL", "recorded_at TIMESTAMP NOT NULL",
             "_batch_id STRING NOT NULL"]
    return ", ".join(cols)


def create_dimension(spark: SparkSession, dim: Dimension) -> None:
    create_table(
        spark, dim.table, dimension_ddl(dim),
        comment=f"SCD2 dimension on {dim.key}, loaded from {dim.source}",
        checks={
            "valid_interval": "valid_to IS NULL OR valid_to >= valid_from",
            "current_is_open": "is_current = (valid_to IS NULL)",
        },
    )


def row_hash(columns: tuple[str, ...]) -> Column:
    """SHA-256 over the tracked columns; NULL and empty string hash differently."""
    from pyspark.sql import functions as F

    parts = [F.coalesce(F.col(c).cast("string"), F.lit("\u0000")) for c in columns]
    return F.sha2(F.concat_ws("\u0001", *parts), 256)


def stage_changes(dim: Dimension, current: DataFrame):
    """Transform a snapshot into MERGE source rows (pure).

    Every snapshot row appears with ``_merge_key`` = its key (matches its current version); rows
    whose hash differs from the current version appear once more with a NULL ``_merge_key``, which
    matches nothing and so inserts the new version.
    """
    from pyspark.sql import functions as F

    def transform(snapshot: DataFrame) -> DataFrame:
        hashed = snapshot.select(*dim.types, row_hash(dim.tracked).alias("row_hash"))
        cur = current.select(F.col(dim.key).alias("_cur_key"), F.col("row_hash").alias("_cur_hash"))
        changed = (
            hashed.join(cur, hashed[dim.key] == cur["_cur_key"])
            .where(F.col("row_hash") != F.col("_cur_hash"))
            .select(*hashed.columns)
        )
        return hashed.withColumn(MERGE_KEY, F.col(dim.key)).unionByName(
            changed.withColumn(MERGE_KEY, F.lit(None).cast("string"))
        )

    return transform


def load_dimension(spark: SparkSession, dim: Dimension, snapshot: DataFrame, *,
                   effective_at: datetime, batch_id: str, recorded_at: datetime) -> TableWrite:
    """MERGE one daily snapshot into ``dim`` (see module doc). Idempotent per batch."""
    from pyspark.sql import functions as F

    create_dimension(spark, dim)
    target = delta_table(spark, dim.table)
    before = target.history(1).first()["version"]
    table = target.toDF()
    eff = F.lit(effective_at).cast("timestamp")
    if table.where(F.col("_batch_id") == batch_id).isEmpty():
        later = table.where(F.col("valid_from") > eff).select("_batch_id").limit(1).collect()
        if later:
            raise LakehouseError(
                f"{dim.table}: batch {batch_id} is effective {effective_at:%Y-%m-%d}, before "
                f"batch {later[0][0]} already loaded; SCD2 snapshots load in date order: re-run "
                "the later days after this one"
            )
    staged = snapshot.transform(stage_changes(dim, table.where("is_current")))
    insert = {c: f"s.{c}" for c in dim.types}
    insert.update({
        dim.surrogate_key: F.xxhash64(F.col(f"s.{dim.key}"), eff),
        "row_hash": F.col("s.row_hash"),
        "valid_from": eff,
        "valid_to": F.lit(None).cast("timestamp"),
        "is_current": F.lit(True),
        "recorded_at": F.lit(recorded_at).cast("timestamp"),
        "_batch_id": F.lit(batch_id),
    })
    close = {"valid_to": eff, "is_current": F.lit(False)}
    with idempotent_dml(spark, f"{dim.table}:{batch_id}"):
        (
            target.alias("t")
            .merge(staged.alias("s"), f"t.{dim.key} = s.{MERGE_KEY} AND t.is_current")
            .whenMatchedUpdate(condition="t.row_hash <> s.row_hash", set=close)
            .whenNotMatchedInsert(values=insert)
            .whenNotMatchedBySourceUpdate(condition="t.is_current", set=close)
            .execute()
        )
    last = target.history(1).select("version", "operationMetrics").first()
    committed = last["version"] != before
    metrics = last["operationMetrics"] or {}
    rows = target.toDF().count()
    log.info("%s batch %s: %s (version %s; inserted %s, closed %s)", dim.table, batch_id,
             "merged" if committed else "already merged, skipped", last["version"],
             metrics.get("numTargetRowsInserted", 0) if committed else 0,
             metrics.get("numTargetRowsUpdated", 0) if committed else 0)
    return TableWrite(dim.table, last["version"], committed, table_location(spark, dim.table), rows)


def merge_sql(dim: Dimension) -> str:
    """The Spark SQL MERGE that :func:`load_dimension` runs through the DataFrame API, with the
    logical date, batch and load time as parameters: what the load's column lineage is read from
    (:func:`lineage.column_lineage.column_lineage`), and a readable statement of what it does."""
    columns = ", ".join(dim.types)
    hashed = "concat_ws('\\u0001', " + ", ".join(
        f"coalesce(CAST({c} AS STRING), '\\u0000')" for c in dim.tracked) + ")"
    snapshot = f"SELECT {columns}, sha2({hashed}, 256) AS row_hash FROM {dim.source} " \
               "WHERE _batch_id = :batch_id"
    inserted = [dim.surrogate_key, *dim.types, "row_hash", "valid_from", "valid_to",
                "is_current", "recorded_at", "_batch_id"]
    values = [f"xxhash64(s.{dim.key}, :effective_at)", *(f"s.{c}" for c in dim.types),
              "s.row_hash", ":effective_at", "NULL", "true", ":recorded_at", ":batch_id"]
    return (
        f"MERGE INTO {dim.table} AS t USING ("
        f"SELECT n.*, n.{dim.key} AS {MERGE_KEY} FROM ({snapshot}) AS n "
        f"UNION ALL SELECT c.*, NULL AS {MERGE_KEY} FROM ({snapshot}) AS c "
        f"JOIN {dim.table} AS cur ON cur.{dim.key} = c.{dim.key} AND cur.is_current "
        "AND cur.row_hash <> c.row_hash"
        f") AS s ON t.{dim.key} = s.{MERGE_KEY} AND t.is_current "
        "WHEN MATCHED AND t.row_hash <> s.row_hash THEN "
        "UPDATE SET valid_to = :effective_at, is_current = false "
        f"WHEN NOT MATCHED THEN INSERT ({', '.join(inserted)}) VALUES ({', '.join(values)}) "
        "WHEN NOT MATCHED BY SOURCE AND t.is_current THEN "
        "UPDATE SET valid_to = :effective_at, is_current = false"
    )
