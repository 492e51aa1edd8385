"""Loading a dimension: its table (typed by its SELECT), then one MERGE per new batch.

See :mod:`warehouse.scd2` and :mod:`warehouse.scd1` for what the MERGE does. Here: the late and
empty snapshots, and the batch's quarantined keys that keep members from being deleted.

- A snapshot older than the newest one already applied is *late*: a later full snapshot already
  says what is true, so it is recorded as skipped rather than rewriting history.
- A snapshot with no rows at all, or whose quarantined rows include one without a usable key,
  infers no deletes: an empty or unreadable delivery is not a statement that members are gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

from lake.platform.delta import idempotent_dml
from lake.platform.tables import create_table
from warehouse import scd1, scd2
from warehouse.models.sql_check import SelectInfo, substitute
from warehouse.sql_parts import BROADCAST_ROWS, batch, ident

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from warehouse.ledger import PendingBatch
    from warehouse.models.dimension import Dimension

log = logging.getLogger(__name__)

# A MERGE that closes a few versions marks their rows deleted in a deletion vector and writes
# the new rows; without it, every file holding a changed key is copied whole.
PROPERTIES = {"delta.enableDeletionVectors": "true"}


@dataclass(frozen=True)
class Applied:
    """What one batch did to a model: its outcome, the SQL that ran (for column lineage), the
    rows it wrote (inserted, updated or deleted) and, for an SCD 2 snapshot, the date of the
    versions it opened (None: it opened none)."""

    outcome: str
    sql: tuple[str, ...] = ()
    opened: datetime | None = None
    rows: int = 0


def create_dimension(spark: SparkSession, dim: Dimension, info: SelectInfo) -> None:
    """Create the dimension's table, its columns typed as its SELECT types them."""
    if spark.catalog.tableExists(dim.table):
        return  # (typing the SELECT is an analysis with a catalog lookup per table it reads)
    types = {f.name: f.dataType.simpleString() for f in spark.sql(info.sql).schema}
    cols = [f"{ident(dim.sk)} BIGINT NOT NULL"]
    cols += [f"{ident(c)} {types[c]} NOT NULL" for c in dim.key]
    cols += [f"{ident(c)} {types[c]}" for c in dim.tracked]
    meta = scd2 if dim.scd == 2 else scd1
    create_table(spark, dim.table, ", ".join(cols) + ", " + meta.META_DDL,
                 comment=dim.description or f"SCD {dim.scd} dimension on {', '.join(dim.key)}, "
                                            f"from {dim.from_}",
                 checks=meta.CHECKS, partition_by=_idents(dim.layout.partition_by),
                 cluster_by=_idents(dim.layout.cluster_by),
                 properties=PROPERTIES)


def _idents(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(ident(n) for n in names)


def batch_select(info: SelectInfo, table: str, batch_id: str) -> str:
    """The model's SELECT with ``table`` read for one batch only."""
    return substitute(info.tree, {table: f"SELECT * FROM {table} WHERE _batch_id = "
                                         f"{batch(batch_id)}"})


def apply_batch(spark: SparkSession, dim: Dimension, info: SelectInfo, pending: PendingBatch, *,
                recorded_at: datetime, latest_snapshot: datetime | None) -> Applied:
    """MERGE one batch into ``dim`` (at most once: Delta transaction id)."""
    effective = datetime.combine(pending.logical_date, time(0), tzinfo=UTC)
    select = batch_select(info, dim.input_table, pending.batch_id)
    meta = scd2 if dim.scd == 2 else scd1
    kwargs = {"effective": effective, "recorded": recorded_at, "batch_id": pending.batch_id}
    if dim.input == "snapshot":
        if latest_snapshot is not None and effective < latest_snapshot:
            log.warning("%s: snapshot batch %s (%s) is older than the newest applied (%s); "
                        "skipped", dim.table, pending.batch_id, pending.logical_date,
                        latest_snapshot.date())
            return Applied("skipped: late snapshot, a later one is applied")
        protected = _protected(spark, dim, info, pending)
        sql = meta.snapshot_merge(dim, select, protected, **kwargs)
    else:
        # a batch of changes bounds the source: each change, and at most one current version each
        sql = meta.changes_merge(dim, select, broadcast=pending.rows_valid <= BROADCAST_ROWS,
                                 **kwargs)
    with idempotent_dml(spark, f"{dim.table}:{pending.batch_id}:{pending.rows_valid}"):
        counts = spark.sql(sql).first()  # MERGE's row counts (no row: Delta skipped a repeat)
    inserted = counts is not None and counts["num_inserted_rows"] > 0
    snapshot2 = dim.scd == 2 and dim.input == "snapshot"
    return Applied("loaded", (sql,), effective if snapshot2 and inserted else None,
                   written_rows(counts))


def written_rows(counts) -> int:
    """Rows a MERGE wrote, from the row it returns (None: Delta skipped a repeat)."""
    return int(counts["num_affected_rows"]) if counts is not None else 0


def latest_snapshot(spark: SparkSession, dim: Dimension) -> datetime | None:
    """The effective time of the newest snapshot applied to ``dim`` (None: none yet). A load
    reads it once per model: a snapshot MERGE only opens versions at its own date, so after each
    batch it is the later of this and the batch's :attr:`Applied.opened`."""
    if dim.scd != 2 or dim.input != "snapshot":
        return None
    row = spark.sql(f"SELECT max(valid_from) AS m FROM {dim.table} WHERE NOT is_inferred").first()
    return row["m"].replace(tzinfo=UTC) if row and row["m"] else None


def _protected(spark: SparkSession, dim: Dimension, info: SelectInfo,
               pending: PendingBatch) -> str | None:
    """The SELECT of the batch's quarantined keys, or None when the batch infers no deletes."""
    if dim.deletes == "ignore":
        return None
    if pending.rows_in == 0:
        log.warning("%s: batch %s is empty; no member is taken as deleted", dim.table,
                    pending.batch_id)
        return None
    source, dataset = dim.source, dim.dataset
    quarantine = f"{source}_quarantine.{dataset}"
    select = substitute(info.tree, {dim.input_table: f"SELECT * FROM {quarantine} WHERE "
                                                     f"_batch_id = {batch(pending.batch_id)}"})
    unusable = " OR ".join(f"q.{ident(k)} IS NULL" for k in dim.key)
    quarantined = pending.rows_in > pending.rows_valid  # else no row to look at
    if quarantined and spark.sql(f"SELECT count(1) AS n FROM ({select}) AS q WHERE "
                                 f"{unusable}").first()["n"]:
        log.warning("%s: batch %s quarantined rows without a usable key; no member is taken as "
                    "deleted from this batch", dim.table, pending.batch_id)
        return None
    return select
