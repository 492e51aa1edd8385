"""Schema evolution: how a landed batch differs from its contract, and what the policy does about it.

:func:`compare` lists the differences (:class:`ColumnChange`): a new column, a missing column (one
the contract expects in the batch's environment), a widened type (int→bigint, int→double,
float→double, date→timestamp), a narrowed type (a typed source sending less than declared; the
values still fit) and an incompatible type.

The contract's ``evolution`` policy, as in Auto Loader:

- ``add_columns``: new columns and widened types are accepted: :func:`evolve` writes the next
  contract version and :func:`apply_to_tables` merges the Delta schemas of bronze, silver and
  quarantine (type widening in place where Delta supports it, else a rewrite of the column).
- ``rescue``: the contract stays; unknown fields and values that do not fit go to
  ``_rescued_data``.
- ``fail``: the batch is written to bronze (raw values kept), then stops with
  :class:`~lake.errors.SchemaEvolutionError` saying which columns differ and how to accept them.

Missing columns, narrowed and incompatible types are never accepted silently: they are anomalies
in the batch's report (and stop a ``fail`` batch). Raw data is never lost, whatever the policy.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

from lake.contracts.model import Column, Contract, is_nested, is_numeric
from lake.errors import SchemaEvolutionError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

ChangeKind = Literal["new_column", "missing_column", "widened", "narrowed", "incompatible"]
WIDENINGS = frozenset({("int", "bigint"), ("int", "double"), ("float", "double"),
                       ("date", "timestamp")})
_NARROWER = frozenset({("bigint", "int"), ("double", "float"), ("timestamp", "date")})
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ACCEPTED_BY_POLICY = {"add_columns": ("new_column", "widened"), "rescue": (), "fail": ()}


@dataclass(frozen=True)
class ObservedColumn:
    """A column of a landed batch: its type and, for text formats, how many values were seen
    (see :mod:`lake.ingest.observed_schema`)."""

    name: str
    type: str
    non_null: int | None = None


@dataclass(frozen=True)
class ColumnChange:
    kind: ChangeKind
    column: str
    contract_type: str | None = None
    observed_type: str | None = None

    def describe(self) -> str:
        if self.kind == "new_column":
            valid = "" if _NAME.match(self.column) else " (not a valid column name: kept in " \
                                                        "_rescued_data)"
            return f"+ new column `{self.column}` ({self.observed_type}){valid}"
        if self.kind == "missing_column":
            return f"- missing column `{self.column}` ({self.contract_type})"
        what = {"widened": "widened", "narrowed": "narrowed", "incompatible": "incompatible type"}
        return (f"~ column `{self.column}`: contract {self.contract_type}, landed "
                f"{self.observed_type} ({what[self.kind]})")


def compare(contract: Contract, observed: tuple[ObservedColumn, ...], environment: str,
            typed_source: bool) -> tuple[ColumnChange, ...]:
    """The differences between ``contract`` (in ``environment``) and a landed batch's columns."""
    seen = {c.name: c for c in observed}
    changes: list[ColumnChange] = []
    for col in contract.columns:
        if col.name not in seen:
            if col.in_environment(environment):
                changes.append(ColumnChange("missing_column", col.name, contract_type=col.type))
            continue
        kind = _type_change(col.type, seen[col.name].type, typed_source)
        if kind is not None:
            changes.append(ColumnChange(kind, col.name, col.type, seen[col.name].type))
    known = set(contract.column_names)
    for col in observed:
        if col.name not in known:
            changes.append(ColumnChange("new_column", col.name, observed_type=col.type))
    return tuple(changes)


def _type_change(declared: str, observed: str, typed_source: bool) -> ChangeKind | None:
    if declared == observed or declared == "string":
        return None
    if is_nested(declared):
        kind = declared.split("<", 1)[0]
        if observed in ("struct", "array"):  # JSON text: only its kind is known
            same = observed == kind or (kind == "map" and observed == "struct")
            return None if same else "incompatible"
        return None if observed.replace(" ", "") == declared else "incompatible"
    if (declared, observed) in WIDENINGS:
        return "widened"
    if (declared, observed) in _NARROWER:
        return "narrowed" if typed_source else None
    if is_numeric(declared) and declared not in ("int", "bigint") and \
            (is_numeric(observed) or observed == "float"):
        return None  # any number fits a double or a decimal column
    return "incompatible"


def accepted(contract: Contract, changes: tuple[ColumnChange, ...]) -> tuple[ColumnChange, ...]:
    """The changes the contract's policy accepts into a new version."""
    kinds = ACCEPTED_BY_POLICY[contract.evolution]
    return tuple(c for c in changes if c.kind in kinds
                 and (c.kind != "new_column" or _NAME.match(c.column)))


def evolve(contract: Contract, changes: tuple[ColumnChange, ...], *, batch_id: str,
           logical_date: date) -> Contract:
    """The next contract version with ``changes`` (new columns, widened types) accepted."""
    widened = {c.column: c.observed_type for c in changes if c.kind == "widened"}
    columns = [col.model_copy(update={"type": widened[col.name]}) if col.name in widened else col
               for col in contract.columns]
    columns += [Column(name=c.column, type=_contract_type(c.observed_type),
                       description=f"added by schema evolution from batch {batch_id}")
                for c in changes if c.kind == "new_column"]
    reason = f"schema evolution ({contract.evolution}) from batch {batch_id}: " + "; ".join(
        c.describe().lstrip("+~ ") for c in changes)
    version = contract.version + 1
    entry = {"version": version, "date": logical_date, "reason": reason}
    data = contract.model_dump()
    data.update(columns=columns, version=version, changelog=[*data["changelog"], entry])
    return Contract.model_validate(data)


def _contract_type(observed: str) -> str:
    return "double" if observed == "float" else observed


def fail_report(contract: Contract, changes: tuple[ColumnChange, ...], *, table: str,
                batch_id: str, logical_date: date) -> SchemaEvolutionError:
    """The error that stops a batch under the ``fail`` policy: what differs and how to accept it."""
    lines = "\n  ".join(c.describe() for c in changes)
    return SchemaEvolutionError(
        f"batch {batch_id} of {contract.source}.{contract.dataset} does not match contract "
        f"v{contract.version} (evolution: fail):\n  {lines}\n"
        f"The batch is in {table} (unknown fields and misfit values kept in _rescued_data); "
        "nothing was validated. To accept it, update "
        f"sources/{contract.source}/contracts/{contract.dataset}.yaml (add or retype the columns, set "
        f"version: {contract.version + 1} with a changelog entry) or set evolution: add_columns, "
        f"then re-run the DAG for {logical_date.isoformat()}: the new contract version re-ingests "
        "the batch."
    )


def apply_to_tables(spark: SparkSession, tables: list[str],
                    changes: tuple[ColumnChange, ...]) -> None:
    """Merge accepted ``changes`` into the Delta schemas of ``tables`` (idempotent)."""
    from lake.platform.delta import delta_table

    for table in tables:
        current = {f.name: f.dataType.simpleString() for f in delta_table(spark, table).toDF().schema}
        added = [c for c in changes if c.kind == "new_column" and c.column not in current]
        if added:
            cols = ", ".join(f"`{c.column}` {_contract_type(c.observed_type)}" for c in added)
            spark.sql(f"ALTER TABLE {table} ADD COLUMNS ({cols})")
            log.info("%s: added columns %s", table, cols)
        for change in changes:
            if change.kind == "widened" and current.get(change.column) == _spark_name(
                    change.contract_type):
                _widen(spark, table, change.column, change.observed_type)


def _spark_name(type_: str) -> str:
    return {"int": "int", "bigint": "bigint", "double": "double", "float": "float",
            "date": "date", "timestamp": "timestamp"}.get(type_, type_)


def _widen(spark: SparkSession, table: str, column: str, new_type: str) -> None:
    """Widen ``column`` in place (Delta type widening); date→timestamp, which Delta cannot
    widen in place, rewrites the column in one overwrite commit (time travel keeps the old)."""
    from pyspark.sql import functions as F

    from lake.platform.delta import table_location

    checks = _checks_on(spark, table, column)
    for name in checks:
        spark.sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    target = _contract_type(new_type)
    if target == "timestamp":
        df = spark.table(table)
        (df.withColumn(column, F.col(column).cast("timestamp")).select(*df.columns)
         .write.format("delta").mode("overwrite").option("overwriteSchema", "true")
         .save(table_location(spark, table)))
    else:
        spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES ('delta.enableTypeWidening' = 'true')")
        spark.sql(f"ALTER TABLE {table} CHANGE COLUMN `{column}` TYPE {target}")
    for name, expr in checks.items():
        spark.sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({expr})")
    log.info("%s: widened %s to %s", table, column, target)


def _checks_on(spark: SparkSession, table: str, column: str) -> dict[str, str]:
    """CHECK constraints of ``table`` whose expression mentions ``column``."""
    props = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}
    prefix = "delta.constraints."
    word = re.compile(rf"\b{re.escape(column)}\b")
    return {k[len(prefix):]: v for k, v in props.items() if k.startswith(prefix) and word.search(v)}
