"""SCD type 2: the one MERGE that applies a batch to a dimension's history.

Every row says when it was true (``valid_from``/``valid_to``, ``is_current``) and when the platform
learned it (``recorded_at``, ``_batch_id``); history is only appended or closed, never rewritten.
Surrogate keys are ``xxhash64(key..., valid_from)``: stable across re-runs and environments.

**Snapshot** input (each batch is every member, effective at the batch's logical date ``E``):

- a new key gets a first version; a key whose tracked columns changed gets its current version
  closed at ``E`` and a new one opened, in the same commit; a correction delivered for the same
  date updates that date's version in place;
- a current key missing from the snapshot is deleted upstream: ``invalidate`` closes it,
  ``new_record`` closes it and opens a version with ``is_deleted``, ``ignore`` leaves it. A key
  whose row validation quarantined is *present* (``protected``), never deleted; and when the
  batch quarantined a row without a usable key, the batch infers no deletes at all;
- an inferred member (added by a fact that arrived first) is filled in place when the member
  arrives, so the facts keyed to it stay right.

**Changes** input (each batch holds changed rows, each with its own ``changed_at``): the changes
of a key are put in time order after its current version, a change repeating the version before
it is dropped, each version ends where the next begins; a change no later than the current
version is stale and dropped; ``deleted_when`` rows end the key (``invalidate``) or open a deleted
version (``new_record``).

**Cost follows the changed keys.** Each MERGE's source holds only the rows that change the
dimension (a snapshot is compared with the current versions by row hash first; a batch of
changes reads the current versions of its own keys only), deletes are rows of that source rather
than ``WHEN NOT MATCHED BY SOURCE`` (which joins every target row), and dimension tables keep
deletion vectors, so closing a version marks one row instead of copying its file.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from warehouse.sql_parts import batch, columns, equal, ident, merge_source, row_hash, surrogate, ts

if TYPE_CHECKING:
    from warehouse.models.dimension import Dimension

META_DDL = ("row_hash STRING NOT NULL, valid_from TIMESTAMP NOT NULL, valid_to TIMESTAMP, "
            "is_current BOOLEAN NOT NULL, is_deleted BOOLEAN NOT NULL, "
            "is_inferred BOOLEAN NOT NULL, recorded_at TIMESTAMP NOT NULL, "
            "_batch_id STRING NOT NULL")
CHECKS = {"valid_interval": "valid_to IS NULL OR valid_to >= valid_from",
          "current_is_open": "is_current = (valid_to IS NULL)"}


def _inserted(dim: Dimension) -> list[str]:
    return [dim.sk, *dim.key, *dim.tracked, "row_hash", "valid_from", "valid_to", "is_current",
            "is_deleted", "is_inferred", "recorded_at", "_batch_id"]


def snapshot_merge(dim: Dimension, select: str, protected: str | None, *, effective: datetime,
                   recorded: datetime, batch_id: str) -> str:
    """The MERGE applying one snapshot batch (``select``: the dimension's SELECT over the batch;
    ``protected``: the same SELECT over the batch's quarantined rows, or None when the batch
    infers no deletes).

    The snapshot is compared with the current versions in one full outer join on the key (the
    current side reads only the key, the row hash and the flags), and only what changed becomes
    a source row, with the action it takes: ``fill`` an inferred member, ``correct`` a version
    opened at the same date, ``close`` a version (changed or deleted) and ``new``/``open``/
    ``open_deleted`` a version. So the MERGE joins the target with the changed keys only, and a
    delete is a row of the source, not a ``WHEN NOT MATCHED BY SOURCE`` clause (which would have
    the MERGE join every target row).
    """
    k, tr = list(dim.key), list(dim.tracked)
    e, r, b = ts(effective), ts(recorded), batch(batch_id)
    deletes = dim.deletes if protected is not None else "ignore"
    copies = deletes == "new_record"  # a deleted version copies the values of the one it ends
    ctes = [
        f"snapshot AS (SELECT {columns(k)}, {columns(tr)}, {row_hash(tr)} AS row_hash "
        f"FROM ({select}) AS src)",
        f"current AS (SELECT {columns(k)}, {columns(tr) + ', ' if copies else ''}row_hash, "
        f"valid_from, is_deleted, is_inferred FROM {dim.table} WHERE is_current)",
    ]
    joins = f"snapshot AS s FULL OUTER JOIN current AS c ON {equal(k, 's', 'c')}"
    gone = "array()"
    if deletes != "ignore":
        ctes.append(f"protected AS (SELECT DISTINCT {columns(k, 'q.')} FROM ({protected}) AS q "
                    "WHERE " + " AND ".join(f"q.{ident(c)} IS NOT NULL" for c in k) + ")")
        joins += f" LEFT JOIN protected AS p ON {equal(k, 'c', 'p')}"
        ends = "'close', 'open_deleted'" if copies else "'close'"
        gone = (f"CASE WHEN c.is_deleted OR c.is_inferred OR p.{ident(k[0])} IS NOT NULL "
                f"THEN array() ELSE array({ends}) END")
    action = ("explode(CASE WHEN c.valid_from IS NULL THEN array('new') "
              f"WHEN s.row_hash IS NULL THEN {gone} "
              "WHEN c.is_inferred THEN array('fill') "
              "WHEN c.row_hash = s.row_hash AND NOT c.is_deleted THEN array() "
              f"WHEN c.valid_from = {e} THEN array('correct') "
              f"WHEN c.valid_from < {e} THEN array('close', 'open') ELSE array() END) AS _action")
    kept = [*k, *tr, "row_hash"]  # the snapshot's values: a new version's
    old = [f"_old_{c}" for c in kept] if copies else []  # the current one's: a deleted version's
    picked = [f"s.{ident(c)}" for c in kept]
    picked += [f"c.{ident(c)} AS {ident(o)}" for c, o in zip(kept, old, strict=False)]
    ctes.append("changed AS (SELECT " + ", ".join(
        f"coalesce(s.{ident(c)}, c.{ident(c)}) AS {ident('_k_' + c)}" for c in k)
        + f", {', '.join(picked)}, {action} FROM {joins})")
    matched = ", ".join(f"CASE WHEN _action IN ('fill', 'correct', 'close') THEN "
                        f"{ident('_k_' + c)} END AS {ident('_k_' + c)}" for c in k)
    source = f"SELECT _action, {matched}, {columns([*kept, *old])} FROM changed"
    on = " AND ".join(f"t.{ident(c)} = s.{ident('_k_' + c)}" for c in k)
    fill = ", ".join(f"{ident(c)} = s.{ident(c)}" for c in tr)

    def insert(names: list[str], deleted: str) -> str:
        return (f"INSERT ({columns(_inserted(dim))}) VALUES ("
                + ", ".join([surrogate(names[:len(k)], "s", e), columns(names, "s."), e, "NULL",
                             "true", deleted, "false", r, b]) + ")")

    clauses = [
        f"WHEN MATCHED AND s._action = 'fill' THEN UPDATE SET {fill}, row_hash = s.row_hash, "
        f"is_inferred = false, recorded_at = {r}, _batch_id = {b}",
        f"WHEN MATCHED AND s._action = 'correct' THEN UPDATE SET {fill}, "
        f"row_hash = s.row_hash, is_deleted = false, recorded_at = {r}, _batch_id = {b}",
        f"WHEN MATCHED AND s._action = 'close' THEN UPDATE SET valid_to = {e}, "
        "is_current = false",
        f"WHEN NOT MATCHED AND s._action IN ('new', 'open') THEN {insert(kept, 'false')}",
    ]
    if copies:
        clauses.append(f"WHEN NOT MATCHED AND s._action = 'open_deleted' THEN "
                       f"{insert(old, 'true')}")
    return (f"MERGE INTO {dim.table} AS t USING (WITH {', '.join(ctes)} {source}) AS s "
            f"ON t.is_current AND {on} " + " ".join(clauses))


def changes_merge(dim: Dimension, select: str, *, effective: datetime, recorded: datetime,
                  batch_id: str, broadcast: bool = False) -> str:
    """The MERGE applying one batch of changes (``select``: the dimension's SELECT over it;
    ``broadcast``: a small batch, see :func:`warehouse.sql_parts.merge_source`)."""
    k, tr = list(dim.key), list(dim.tracked)
    r, b = ts(recorded), batch(batch_id)
    changed_at = f"CAST(src.{ident(dim.changed_at)} AS TIMESTAMP)" if dim.changed_at \
        else ts(effective)
    deleted = f"coalesce(({dim.deleted_when}), false)" if dim.deleted_when else "false"
    invalidate = "true" if dim.deletes == "invalidate" else "false"
    keep_deleted = "" if dim.deletes != "ignore" else " WHERE NOT _deleted"
    by_key = f"PARTITION BY {columns(k)} ORDER BY _changed_at, _kind DESC"
    ctes = [
        f"raw_changes AS (SELECT {columns(k, 'src.')}, {columns(tr, 'src.')}, "
        f"{changed_at} AS _changed_at, {deleted} AS _deleted, {row_hash(tr, 'src')} AS row_hash "
        f"FROM ({select}) AS src)",
        f"changes AS (SELECT * FROM raw_changes{keep_deleted})",
        # only the current versions of the keys that changed: the rest of the dimension is not
        # put in time order with anything; each key's current version is read once, and what a
        # change needs of it (its start, whether it is inferred) comes from the key's window
        f"current AS (SELECT {columns([*k, *tr], 'd.')}, d.row_hash, d.valid_from, "
        f"d.is_deleted, d.is_inferred FROM {dim.table} AS d LEFT SEMI JOIN changes AS ch ON "
        f"{equal(k, 'd', 'ch')} WHERE d.is_current)",
        "versions_and_changes AS ("
        f"SELECT {columns([*k, *tr])}, valid_from AS _changed_at, is_deleted AS _deleted, "
        "row_hash, 'current' AS _kind, is_inferred AS _inferred FROM current UNION ALL "
        f"SELECT {columns([*k, *tr])}, _changed_at, _deleted, row_hash, 'change' AS _kind, "
        "false AS _inferred FROM changes WHERE _changed_at IS NOT NULL)",
        "with_current AS (SELECT *, "
        f"max(CASE WHEN _kind = 'current' THEN _changed_at END) OVER (PARTITION BY {columns(k)}) "
        "AS _current_from, coalesce(max(CASE WHEN _kind = 'current' THEN _inferred END) "
        f"OVER (PARTITION BY {columns(k)}), false) AS _current_inferred "
        "FROM versions_and_changes)",
        # an inferred current version is filled by the key's first change, not put in order; a
        # change no later than the current version is stale
        "timeline AS ("
        f"SELECT {columns([*k, *tr])}, _changed_at, _deleted, row_hash, _kind, "
        "_kind = 'change' AND _current_inferred AS _fills FROM with_current "
        "WHERE CASE WHEN _kind = 'current' THEN NOT _inferred ELSE _current_from IS NULL "
        "OR _current_inferred OR _changed_at > _current_from END)",
        f"steps AS (SELECT *, lag(row_hash) OVER ({by_key}) AS _prev_hash, "
        f"lag(_deleted) OVER ({by_key}) AS _prev_deleted FROM timeline)",
        "kept AS (SELECT * FROM steps WHERE _kind = 'current' OR _prev_hash IS NULL "
        "OR row_hash <> _prev_hash OR _deleted <> _prev_deleted)",
        f"versions AS (SELECT *, lead(_changed_at) OVER ({by_key}) AS _next, "
        f"row_number() OVER ({by_key}) AS _n FROM kept)",
        f"ends AS (SELECT *, CASE WHEN {invalidate} AND _deleted THEN _changed_at ELSE _next END "
        f"AS _end, (_next IS NULL AND NOT ({invalidate} AND _deleted)) AS _open FROM versions)",
    ]
    # each row of ``ends`` takes at most one action (a current version may close; a change
    # fills an inferred member or is inserted), so one pass over it gives the MERGE's source
    ctes.append(
        "actions AS (SELECT *, CASE WHEN _kind = 'current' THEN CASE WHEN _next IS NOT NULL "
        "THEN 'close' END WHEN _fills AND _n = 1 THEN 'fill' "
        f"WHEN NOT ({invalidate} AND _deleted) THEN 'insert' END AS _action FROM ends)")
    mk = ", ".join(f"CASE WHEN _action <> 'insert' THEN {ident(c)} END AS {ident('_k_' + c)}"
                   for c in k)
    source = f"SELECT {mk}, * FROM actions WHERE _action IS NOT NULL"
    on = " AND ".join(f"t.{ident(c)} = s.{ident('_k_' + c)}" for c in k)
    fill = ", ".join(f"{ident(c)} = s.{ident(c)}" for c in tr)
    values = ", ".join([surrogate(k, "s", "s._changed_at"), *(f"s.{ident(c)}" for c in [*k, *tr]),
                        "s.row_hash", "s._changed_at", "s._end", "s._open", "s._deleted",
                        "false", r, b])
    clauses = [
        "WHEN MATCHED AND s._action = 'close' THEN UPDATE SET valid_to = s._next, "
        "is_current = false",
        f"WHEN MATCHED AND s._action = 'fill' THEN UPDATE SET {fill}, row_hash = s.row_hash, "
        "is_inferred = false, is_deleted = s._deleted, valid_to = s._end, is_current = s._open, "
        f"recorded_at = {r}, _batch_id = {b}",
        f"WHEN NOT MATCHED AND s._action = 'insert' THEN INSERT ({columns(_inserted(dim))}) "
        f"VALUES ({values})",
    ]
    using = merge_source(f"WITH {', '.join(ctes)} {source}", broadcast=broadcast)
    return (f"MERGE INTO {dim.table} AS t USING {using} AS s ON t.is_current AND {on} "
            + " ".join(clauses))
