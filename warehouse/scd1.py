"""SCD type 1: one row per member, overwritten when it changes, flagged when it is deleted.

A snapshot batch upserts every member it holds and (``deletes: invalidate``) flags
``is_deleted`` on members it lacks, except members whose row validation quarantined; only the
members that change are rows of the MERGE's source. A changes
batch applies each key's latest change of the batch; a ``deleted_when`` row flags the member.
The surrogate key is ``xxhash64(key...)``, so an inferred member keeps its key when filled in.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from warehouse.sql_parts import batch, columns, equal, ident, merge_source, row_hash, surrogate, ts

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
    """The MERGE applying one snapshot batch: the snapshot is compared with the members by row
    hash in one full outer join, and only the members to ``insert``, ``update`` or flag as
    ``delete`` become source rows (see :func:`warehouse.scd2.snapshot_merge`)."""
    k, tr = list(dim.key), list(dim.tracked)
    r, b = ts(recorded), batch(batch_id)
    deletes = dim.deletes if protected is not None else "ignore"
    ctes = [f"snapshot AS (SELECT {columns(k)}, {columns(tr)}, {row_hash(tr)} AS row_hash "
            f"FROM ({select}) AS src)",
            f"members AS (SELECT {columns(k)}, row_hash, is_deleted, is_inferred "
            f"FROM {dim.table})"]
    joins = f"snapshot AS s FULL OUTER JOIN members AS c ON {equal(k, 's', 'c')}"
    gone = "NULL"
    if deletes != "ignore":
        ctes.append(f"protected AS (SELECT DISTINCT {columns(k, 'q.')} FROM ({protected}) AS q "
                    "WHERE " + " AND ".join(f"q.{ident(c)} IS NOT NULL" for c in k) + ")")
        joins += f" LEFT JOIN protected AS p ON {equal(k, 'c', 'p')}"
        gone = (f"CASE WHEN c.is_deleted OR c.is_inferred OR p.{ident(k[0])} IS NOT NULL "
                "THEN NULL ELSE 'delete' END")
    action = (f"CASE WHEN c.row_hash IS NULL THEN 'insert' WHEN s.row_hash IS NULL THEN {gone} "
              "WHEN c.row_hash <> s.row_hash OR c.is_deleted OR c.is_inferred THEN 'update' "
              "END AS _action")
    ctes.append("changed AS (SELECT " + ", ".join(
        f"coalesce(s.{ident(c)}, c.{ident(c)}) AS {ident('_k_' + c)}" for c in k)
        + f", {columns([*k, *tr], 's.')}, s.row_hash, {action} FROM {joins})")
    on = " AND ".join(f"t.{ident(c)} = s.{ident('_k_' + c)}" for c in k)
    clauses = [
        f"WHEN MATCHED AND s._action = 'update' THEN {_update(dim, r, b, 'false')}",
        "WHEN MATCHED AND s._action = 'delete' THEN UPDATE SET is_deleted = true, "
        f"recorded_at = {r}, _batch_id = {b}",
        f"WHEN NOT MATCHED AND s._action = 'insert' THEN {_insert(dim, r, b, 'false')}",
    ]
    return (f"MERGE INTO {dim.table} AS t USING (WITH {', '.join(ctes)} SELECT * FROM changed "
            f"WHERE _action IS NOT NULL) AS s ON {on} " + " ".join(clauses))


def changes_merge(dim: Dimension, select: str, *, effective: datetime, recorded: datetime,
                  batch_id: str, broadcast: bool = False) -> str:
    """The MERGE applying one batch of changes: each key's latest change (``broadcast``: a small
    batch, see :func:`warehouse.sql_parts.merge_source`)."""
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
    return (f"MERGE INTO {dim.table} AS t USING {merge_source(latest, broadcast=broadcast)} AS s "
            f"ON {equal(k, 't', 's')} "
            + " ".join(clauses))
