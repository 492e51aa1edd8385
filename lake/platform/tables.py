"""Creating tables once, with their schema and CHECK constraints, and keeping the checks current.

Tables are created explicitly (``CREATE TABLE IF NOT EXISTS … USING DELTA``) so Delta enforces the
schema, NOT NULL columns and CHECK constraints on every later write.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def comment_literal(text: str) -> str:
    """``text`` as a SQL string literal for a COMMENT (quotes and backslashes dropped)."""
    return "'" + re.sub(r"['\\\n\r]", " ", text)[:1000] + "'"


def existing_tables(spark: SparkSession, names: Iterable[str]) -> set[str]:
    """Which of ``names`` (``database.table``) exist: one listing per database instead of a
    metastore round trip per table (a job checks a dozen tables before it writes)."""
    from pyspark.errors import AnalysisException

    wanted: dict[str, set[str]] = {}
    for name in names:
        database, _, table = name.partition(".")
        wanted.setdefault(database, set()).add(table)
    found = set()
    for database, tables in wanted.items():
        try:
            listed = {r["tableName"].lower() for r in spark.sql(f"SHOW TABLES IN `{database}`")
                      .collect() if not r["isTemporary"]}
        except AnalysisException:  # no such database: none of its tables exist
            continue
        found |= {f"{database}.{t}" for t in tables if t.lower() in listed}
    return found


def create_table(spark: SparkSession, table: str, ddl: str, *, comment: str = "",
                 checks: dict[str, str] | None = None, partition_by: tuple[str, ...] = (),
                 cluster_by: tuple[str, ...] = (),
                 properties: dict[str, str] | None = None) -> bool:
    """Create ``table`` with ``ddl`` and its CHECK constraints unless it exists; True if created.
    ``partition_by`` and ``cluster_by`` (Delta liquid clustering) name columns of ``ddl``."""
    if spark.catalog.tableExists(table):
        return False
    partition = f" PARTITIONED BY ({', '.join(partition_by)})" if partition_by else ""
    if cluster_by:
        partition = f" CLUSTER BY ({', '.join(cluster_by)})"
    # the CHECK constraints are made with the table, in its first commit (an ALTER TABLE ADD
    # CONSTRAINT each was a commit, a metastore update and a scan per check)
    properties = {**(properties or {}), **_constraint_properties(spark, table, ddl, checks or {})}
    props = (" TBLPROPERTIES (" + ", ".join(f"{_literal(k)} = {_literal(v)}"
                                            for k, v in properties.items()) + ")"
             ) if properties else ""
    spark.sql(f"CREATE TABLE IF NOT EXISTS {table} ({ddl}) USING DELTA{partition}"
              + (f" COMMENT {comment_literal(comment)}" if comment else "") + props)
    return True


def _constraint_properties(spark: SparkSession, table: str, ddl: str,
                           checks: dict[str, str]) -> dict[str, str]:
    """``checks`` as Delta's ``delta.constraints.<name>`` table properties, each first analysed
    against ``ddl``'s columns, as ALTER TABLE ADD CONSTRAINT does (Delta takes the property of a
    new table as it is): a plain name, and a condition on the table's columns."""
    if not checks:
        return {}
    from pyspark.errors import PySparkException
    from pyspark.sql.types import BooleanType

    from lake.errors import LakehouseError

    columns = spark.createDataFrame([], ddl)  # analysis only: no job, no table
    for name, expr in checks.items():
        if not _NAME.fullmatch(name):
            raise LakehouseError(f"{table}: {name!r} is not a plain CHECK constraint name")
        try:
            kind = columns.selectExpr(expr).schema[0].dataType
        except PySparkException as err:
            raise LakehouseError(f"{table}: CHECK {name} ({expr}) is not an expression of the "
                                 f"table's columns: {str(err).splitlines()[0]}") from err
        if kind != BooleanType():
            raise LakehouseError(f"{table}: CHECK {name} ({expr}) is not a condition: it is of "
                                 f"type {kind.simpleString()}")
    return {f"delta.constraints.{name.lower()}": expr for name, expr in checks.items()}


def _literal(text: str) -> str:
    """``text`` as a SQL string literal, exactly (backslashes and quotes escaped)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sync_checks(spark: SparkSession, table: str, wanted: dict[str, str]) -> None:
    """Make ``table``'s CHECK constraints the ``wanted`` ones (a new contract version may relax
    or add rules). A new check that existing rows break is left out, with a warning: it could
    not hold."""
    from pyspark.errors import PySparkException

    prefix = "delta.constraints."
    current = {r["key"][len(prefix):]: r["value"]
               for r in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()
               if r["key"].startswith(prefix)}
    for name in current:
        if name.lower() not in {w.lower() for w in wanted}:
            spark.sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for name, expr in wanted.items():
        if name.lower() in {c.lower() for c in current}:
            continue
        try:
            spark.sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({expr})")
        except PySparkException as err:
            log.warning("%s: CHECK %s (%s) not added, existing rows break it: %s", table, name,
                        expr, str(err).splitlines()[0])
