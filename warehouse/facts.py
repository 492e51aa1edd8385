"""Facts: the declared SELECT over one batch, joined to the dimension versions valid at event
time, MERGEd into the fact table on its grain.

For each lookup the fact gets ``<dimension>_sk`` (``<role>_sk`` when a role is given): for an SCD 2
dimension the version valid at ``event_time`` (a late fact gets the version valid then; an event
before the member's first version maps to that first version, one after its last to the last);
for SCD 1, the member. A key the dimension does not know yet becomes an inferred member first
(``unknown_members: infer``; filled in when the member arrives) or stops the load with the keys
listed (``fail``).

The MERGE inserts new grains and replaces a grain whose values changed (a corrected re-delivery),
so loading a batch twice changes nothing. Two rows of one batch with the same grain stop the load
(``raise_error`` in the MERGE's join condition): the grain must identify one row.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from lake.platform.concurrent import run_concurrently
from warehouse.sql_parts import (
    BROADCAST_ROWS,
    INFERRED_FROM,
    batch,
    columns,
    equal,
    ident,
    merge_source,
    surrogate,
    ts,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from warehouse.dimensions import Applied
    from warehouse.ledger import PendingBatch
    from warehouse.models.dimension import Dimension
    from warehouse.models.fact import Fact, Lookup
    from warehouse.models.sql_check import SelectInfo

META_DDL = "recorded_at TIMESTAMP NOT NULL, _batch_id STRING NOT NULL"


def sk_column(lookup: Lookup, dim: Dimension) -> str:
    return f"{lookup.column_prefix}_sk" if lookup.role else dim.sk


def fact_columns(fact: Fact, output: list[str], dims: dict[str, Dimension]) -> list[str]:
    """The fact table's columns: the SELECT's, a surrogate key per lookup, load metadata."""
    return [*output, *(sk_column(lk, dims[lk.dimension]) for lk in fact.lookups),
            "recorded_at", "_batch_id"]


def fact_merge(fact: Fact, select: str, output: list[str], dims: dict[str, Dimension], *,
               recorded: datetime, batch_id: str, broadcast: bool = False) -> str:
    """The MERGE of one batch into the fact (``select``: the fact's SELECT over the batch, one
    source row per batch row; ``broadcast``: a small batch, see
    :func:`warehouse.sql_parts.merge_source`)."""
    r, b = ts(recorded), batch(batch_id)
    ctes = [f"src AS ({select})"]
    joins, keys = [], []
    for i, lk in enumerate(fact.lookups):
        dim = dims[lk.dimension]
        fact_cols, dim_cols = list(lk.on), [lk.on[c] for c in lk.on]
        on = " AND ".join(f"src.{ident(f)} = d{i}.{ident(d)}" for f, d in zip(fact_cols, dim_cols,
                                                                             strict=True))
        if dim.scd == 2:
            at = f"src.{ident(fact.event_time)}"
            joins.append(f"LEFT JOIN {dim.table} AS d{i} ON {on} AND {at} >= d{i}.valid_from "
                         f"AND (d{i}.valid_to IS NULL OR {at} < d{i}.valid_to)")
            ctes.append(f"span{i} AS (SELECT {columns(dim_cols)}, min_by({ident(dim.sk)}, "
                        f"valid_from) AS _first_sk, min(valid_from) AS _first_from, "
                        f"max_by({ident(dim.sk)}, valid_from) AS _last_sk FROM {dim.table} "
                        f"GROUP BY {columns(dim_cols)})")
            span_on = " AND ".join(f"src.{ident(f)} = f{i}.{ident(d)}"
                                   for f, d in zip(fact_cols, dim_cols, strict=True))
            joins.append(f"LEFT JOIN span{i} AS f{i} ON {span_on}")
            keys.append(f"coalesce(d{i}.{ident(dim.sk)}, CASE WHEN {at} < f{i}._first_from THEN "
                        f"f{i}._first_sk ELSE f{i}._last_sk END) AS {ident(sk_column(lk, dim))}")
        else:
            joins.append(f"LEFT JOIN {dim.table} AS d{i} ON {on}")
            keys.append(f"d{i}.{ident(dim.sk)} AS {ident(sk_column(lk, dim))}")
    grain = columns(fact.grain, "src.")
    check = (f"CASE WHEN count(1) OVER (PARTITION BY {grain}) > 1 THEN raise_error(concat("
             f"'{fact.table}: batch {batch_id} has several rows with the grain ', "
             f"to_json(named_struct({', '.join(repr(g) + ', src.' + ident(g) for g in fact.grain)}))"
             ", '; the grain must identify one row')) ELSE true END AS _grain_ok")
    source = (f"SELECT {columns(output, 'src.')}{', ' if keys else ''}{', '.join(keys)}, "
              f"{r} AS recorded_at, {b} AS _batch_id, {check} FROM src {' '.join(joins)}")
    all_cols = fact_columns(fact, output, dims)
    compared = [c for c in all_cols if c not in ("recorded_at", "_batch_id")]
    same = " AND ".join(f"t.{ident(c)} <=> s.{ident(c)}" for c in compared)
    sets = ", ".join(f"{ident(c)} = s.{ident(c)}" for c in all_cols)
    using = merge_source(f"WITH {', '.join(ctes)} {source}", broadcast=broadcast)
    return (f"MERGE INTO {fact.table} AS t USING {using} AS s "
            f"ON {equal(fact.grain, 't', 's')} AND s._grain_ok "
            f"WHEN MATCHED AND NOT ({same}) THEN UPDATE SET {sets} "
            f"WHEN NOT MATCHED THEN INSERT ({columns(all_cols)}) "
            f"VALUES ({columns(all_cols, 's.')})")


def new_keys_select(lookup: Lookup, dim: Dimension, select: str) -> str:
    """The keys ``select`` (over one batch) references that ``dim`` has no version of."""
    dim_cols = [lookup.on[c] for c in lookup.on]
    picked = ", ".join(f"src.{ident(f)} AS {ident(lookup.on[f])}" for f in lookup.on)
    present = " AND ".join(f"src.{ident(f)} IS NOT NULL" for f in lookup.on)
    return (f"SELECT DISTINCT {picked} FROM ({select}) AS src WHERE {present} AND NOT EXISTS "
            f"(SELECT 1 FROM {dim.table} AS d WHERE "
            + " AND ".join(f"d.{ident(d)} = src.{ident(f)}" for f, d in
                           zip(lookup.on, dim_cols, strict=True)) + ")")


def inferred_members_merge(lookup: Lookup, dim: Dimension, select: str, *, recorded: datetime,
                           batch_id: str) -> str:
    """The MERGE adding an inferred member to ``dim`` for each key the batch references that the
    dimension does not know: key set, attributes NULL, ``is_inferred``, valid since always."""
    r, b = ts(recorded), batch(batch_id)
    dim_cols = [lookup.on[c] for c in lookup.on]
    picked = ", ".join(f"src.{ident(f)} AS {ident(lookup.on[f])}" for f in lookup.on)
    present = " AND ".join(f"src.{ident(f)} IS NOT NULL" for f in lookup.on)
    nulls = ["NULL"] * len(dim.tracked)
    if dim.scd == 2:
        start = ts(INFERRED_FROM)
        names = [dim.sk, *dim_cols, *dim.tracked, "row_hash", "valid_from", "valid_to",
                 "is_current", "is_deleted", "is_inferred", "recorded_at", "_batch_id"]
        values = [surrogate(dim_cols, "s", start), *columns(dim_cols, "s.").split(", "), *nulls,
                  "''", start, "NULL", "true", "false", "true", r, b]
    else:
        names = [dim.sk, *dim_cols, *dim.tracked, "row_hash", "is_deleted", "is_inferred",
                 "recorded_at", "_batch_id"]
        values = [surrogate(dim_cols, "s", None), *columns(dim_cols, "s.").split(", "), *nulls,
                  "''", "false", "true", r, b]
    return (f"MERGE INTO {dim.table} AS t USING (SELECT DISTINCT {picked} FROM ({select}) AS src "
            f"WHERE {present}) AS s ON {equal(dim_cols, 't', 's')} "
            f"WHEN NOT MATCHED THEN INSERT ({columns(names)}) VALUES ({', '.join(values)})")


def create_fact(spark: SparkSession, fact: Fact, info: SelectInfo,
                dims: dict[str, Dimension]) -> list[str]:
    """Create the fact table (its SELECT's columns, typed by Spark's analysis, a surrogate key
    per lookup, load metadata); the SELECT's output column names."""
    from lake.platform.tables import create_table

    schema = spark.sql(info.sql).schema
    output = [f.name for f in schema]
    cols = [f"{ident(f.name)} {f.dataType.simpleString()}"
            f"{' NOT NULL' if f.name in fact.grain else ''}" for f in schema]
    cols += [f"{ident(sk_column(lk, dims[lk.dimension]))} BIGINT" for lk in fact.lookups]
    create_table(spark, fact.table, ", ".join(cols) + ", " + META_DDL,
                 comment=fact.description or f"Facts at grain ({', '.join(fact.grain)})",
                 partition_by=tuple(ident(c) for c in fact.layout.partition_by),
                 cluster_by=tuple(ident(c) for c in fact.layout.cluster_by))
    return output


def apply_batch(spark: SparkSession, fact: Fact, info: SelectInfo, output: list[str],
                dims: dict[str, Dimension], pending: PendingBatch, driving: str, *,
                recorded_at: datetime) -> tuple[Applied, dict[str, Applied]]:
    """Load one batch: inferred members (or the unknown keys refused), then the fact MERGE.
    Returns what happened to the fact and to each dimension that got inferred members."""
    from lake.errors import LakehouseError
    from lake.platform.delta import idempotent_dml
    from warehouse.dimensions import Applied, batch_select, written_rows

    select = batch_select(info, driving, pending.batch_id)
    kwargs = {"recorded": recorded_at, "batch_id": pending.batch_id}
    inferred: dict[str, Applied] = {}
    # each lookup's unknown keys side by side (small reads, mostly the driver's planning)
    unknowns = run_concurrently([
        partial(_collect, spark, new_keys_select(lk, dims[lk.dimension], select) + " LIMIT 11")
        for lk in fact.lookups])
    for lk, unknown in zip(fact.lookups, unknowns, strict=True):
        dim = dims[lk.dimension]
        if not unknown:
            continue  # every key has a member: no MERGE to run
        if fact.unknown_members == "fail":
            keys = ", ".join(str(tuple(r)) if len(r) > 1 else str(r[0]) for r in unknown[:10])
            raise LakehouseError(
                f"{fact.table}: batch {pending.batch_id} references {dim.table} keys it does "
                f"not know ({keys}{', ...' if len(unknown) > 10 else ''}); load the members "
                "first, or set unknown_members: infer")
        sql = inferred_members_merge(lk, dim, select, **kwargs)
        with idempotent_dml(spark, f"{dim.table}:inferred:{fact.name}:{pending.batch_id}:"
                                   f"{pending.rows_valid}"):
            counts = spark.sql(sql).first()
        earlier = inferred.get(dim.table, Applied("loaded"))
        inferred[dim.table] = Applied("loaded", (*earlier.sql, sql),
                                      rows=earlier.rows + written_rows(counts))
    sql = fact_merge(fact, select, output, dims, broadcast=pending.rows_valid <= BROADCAST_ROWS,
                     **kwargs)
    try:
        with idempotent_dml(spark, f"{fact.table}:{pending.batch_id}:{pending.rows_valid}"):
            counts = spark.sql(sql).first()
    except Exception as err:  # raise_error from the grain check arrives as a Spark exception
        message = str(err)
        if "several rows with the grain" in message:
            first = next(line for line in message.splitlines() if "several rows" in line)
            raise LakehouseError(first.strip().strip('"')) from err
        raise
    return Applied("loaded", (sql,), rows=written_rows(counts)), inferred


def _collect(spark: SparkSession, sql: str) -> list:
    return spark.sql(sql).collect()
