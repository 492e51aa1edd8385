"""SCD type 1: one row per member, overwritten when it changes, flagged when it is deleted.

A snapshot batch upserts every member it holds and (``deletes: invalidate``) flags
``is_deleted`` on members it lacks, except members whose row validation quarantined. A changes
batch applies each key's latest change of the batch; a ``deleted_when`` row flags the member.
The surrogate key is ``xxhash64(key...)``, so an inferred member keeps its key when filled in.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from warehouse.sql_parts import batch, columns, equal, ident, row_hash, surrogate, ts

if TYPE_CHECKING:
    from warehouse.models.dimension import Dimension

META_DDL = ("row_hash STRING NOT NULL, is_deleted BOOLEAN NOT NULL, is_inferred BOOLEAN NOT NULL, "
            "recorded_at TIMESTAMP NOT NULL, _batch_id STRING NOT NULL")
CHECKS: dict[str, str] = {}


def _inserted(dim: Dimension) -> list[str]:
    return [dim.sk, *dim.key, *dim.tracked, "row_hash", "is_deleted", "is_inferred",
            "recorded_at", "_batch_id"]


def _update(dim: Dimension, r: str, b: str, deleted: str) -> str:
    fill = ", ".join(f"{ident(c)} = s.{ident(c)}" for c in dim.tracked)
    return (f"UPDATE SET {fill}, row_hash = s.row_hash, is_deleted = {deleted}, "
            f"is_inferred = false, recorded_at = {r}, _batch_id = {b}")


def _insert(dim: Dimension, r: str, b: str, deleted: str) -> str:
    values = [surrogate(dim.key, "s", None), *(f"s.{ident(c)}" for c in [*dim.key, *dim.tracked]),
              "s.row_hash", deleted, "false", r, b]
    return f"INSERT ({columns(_inserted(dim))}) VALUES ({', '.join(values)})"


def snapshot_merge(dim: Dimension, select: str, protected: str | None, *, effective: datetime,
                   recorded: datetime, batch_id: str) -> str:
    k, tr = list(dim.key), list(dim.tracked)
    r, b = ts(recorded), batch(batch_id)
    deletes = dim.deletes if protected is not None else "ignore"
    ctes = [f"snapshot AS (SELECT {columns(k)}, {columns(tr)}, {row_hash(tr)} AS row_hash "
            f"FROM ({select}) AS src)"]
    parts = ["SELECT 'upsert' AS _action, snapshot.* FROM snapshot"]
    if deletes != "ignore":
        ctes.append(f"protected AS (SELECT DISTINCT {columns(k, 'q.')} FROM ({protected}) AS q "
                    f"LEFT ANTI JOIN snapshot AS s ON {equal(k, 'q', 's')})")
        parts.append(f"SELECT 'keep' AS _action, {columns(k)}, "
                     + ", ".join(f"NULL AS {ident(c)}" for c in tr)
                     + ", NULL AS row_hash FROM protected")
    clauses = [
        "WHEN MATCHED AND s._action = 'upsert' AND (t.row_hash <> s.row_hash OR t.is_deleted "
        f"OR t.is_inferred) THEN {_update(dim, r, b, 'false')}",
        f"WHEN NOT MATCHED AND s._action = 'upsert' THEN {_insert(dim, r, b, 'false')}",
    ]
    if deletes != "ignore":
        clauses.append("WHEN NOT MATCHED BY SOURCE AND NOT t.is_deleted AND NOT t.is_inferred "
                       f"THEN UPDATE SET is_deleted = true, recorded_at = {r}, _batch_id = {b}")
    return (f"MERGE INTO {dim.table} AS t USING (WITH {', '.join(ctes)} "
            + " UNION ALL ".join(parts) + f") AS s ON {equal(k, 't', 's')} " + " ".join(clauses))


def changes_merge(dim: Dimension, select: str, *, effective: datetime, recorded: datetime,
                  batch_id: str) -> str:
    k, tr = list(dim.key), list(dim.tracked)
    r, b = ts(recorded), batch(batch_id)
    changed_at = f"CAST(src.{ident(dim.changed_at)} AS TIMESTAMP)" if dim.changed_at \
        else ts(effective)
    deleted = f"coalesce(({dim.deleted_when}), false)" if dim.deleted_when else "false"
    keep = "" if dim.deletes != "ignore" else " AND NOT _deleted"
    latest = (f"SELECT * FROM (SELECT {columns(k, 'src.')}, {columns(tr, 'src.')}, "
              f"{row_hash(tr, 'src')} AS row_hash, {deleted} AS _deleted, row_number() OVER "
              f"(PARTITION BY {columns(k, 'src.')} ORDER BY {changed_at} DESC) AS _n "
              f"FROM ({select}) AS src) WHERE _n = 1{keep}")
    clauses = [
        "WHEN MATCHED AND (t.row_hash <> s.row_hash OR t.is_deleted <> s._deleted OR "
        f"t.is_inferred) THEN {_update(dim, r, b, 's._deleted')}",
        f"WHEN NOT MATCHED AND NOT s._deleted THEN {_insert(dim, r, b, 'false')}",
    ]
    return (f"MERGE INTO {dim.table} AS t USING ({latest}) AS s ON {equal(k, 't', 's')} "
            + " ".join(clauses))
