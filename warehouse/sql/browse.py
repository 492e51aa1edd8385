"""Browsing the catalog as an analyst: which databases and tables there are, and what a table
holds (columns, types, descriptions and PII tags from its contract, Delta version, freshness,
rows).

Analysts type ``SHOW TABLES`` and ``DESCRIBE t`` in every engine, so :func:`parse_browse` accepts
a few such statements (an allow-list of exact shapes, nothing else) and :func:`answer` answers them
from the catalog itself, never by handing the text to Spark. Only databases an analyst may read
(:func:`warehouse.sql.plan_guard.readable_database`) are listed or described.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from lake.errors import SqlError
from warehouse.sql.plan_guard import readable_database

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from warehouse.sql.result import QueryResult

_NAME = r"(?:`[^`]{1,128}`|\"[^\"]{1,128}\"|\[[^\]]{1,128}\]|[A-Za-z_][A-Za-z0-9_]{0,127})"
_QUALIFIED = rf"{_NAME}(?:\.{_NAME})?"
_END = r"\s*;?\s*\Z"
_SHOW_DATABASES = re.compile(rf"\A\s*SHOW\s+(?:DATABASES|SCHEMAS){_END}", re.I)
_SHOW_TABLES = re.compile(
    rf"\A\s*SHOW\s+TABLES(?:\s+(?:IN|FROM)\s+(?P<db>{_NAME}))?"
    rf"(?:\s+LIKE\s+'(?P<pattern>[A-Za-z0-9_*%|.]{{1,128}})')?{_END}", re.I)
_SHOW_COLUMNS = re.compile(
    rf"\A\s*SHOW\s+COLUMNS\s+(?:IN|FROM)\s+(?P<table>{_QUALIFIED})"
    rf"(?:\s+(?:IN|FROM)\s+(?P<db>{_NAME}))?{_END}", re.I)
_DESCRIBE = re.compile(
    rf"\A\s*(?:DESCRIBE|DESC)\s+(?:TABLE\s+)?(?:(?:EXTENDED|FORMATTED)\s+)?"
    rf"(?P<table>{_QUALIFIED}){_END}", re.I)
_STARTS = re.compile(r"\A\s*(SHOW|DESCRIBE|DESC)\b", re.I)


@dataclass(frozen=True)
class Browse:
    """One catalog question: ``databases``, ``tables`` (of ``database``, or of the session's
    database) or ``columns`` of ``table``."""

    kind: Literal["databases", "tables", "columns"]
    database: str | None = None
    table: str | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    nullable: bool
    description: str = ""
    pii: bool = False


@dataclass(frozen=True)
class TableInfo:
    """What ``lakehouse describe`` shows about one table or view."""

    name: str
    kind: str  # "table" or "view"
    description: str
    columns: list[ColumnInfo]
    location: str | None = None
    delta_version: int | None = None
    last_modified: datetime | None = None
    rows: int | None = None
    contract_version: int | None = None
    properties: dict[str, str] = field(default_factory=dict)


def parse_browse(sql: str) -> Browse | None:
    """The catalog question ``sql`` asks, or None when it is not a SHOW/DESCRIBE statement.

    A SHOW or DESCRIBE of any other shape raises :class:`SqlError` listing the accepted ones.
    """
    if not _STARTS.match(sql):
        return None
    if _SHOW_DATABASES.match(sql):
        return Browse("databases")
    if m := _SHOW_TABLES.match(sql):
        return Browse("tables", database=_unquote(m["db"]), pattern=m["pattern"])
    if m := _SHOW_COLUMNS.match(sql):
        table = _unquote_qualified(m["table"])
        if m["db"]:
            table = f"{_unquote(m['db'])}.{table.rsplit('.', 1)[-1]}"
        return Browse("columns", table=table)
    if m := _DESCRIBE.match(sql):
        return Browse("columns", table=_unquote_qualified(m["table"]))
    raise SqlError("refused: of SHOW and DESCRIBE, lakehouse sql answers SHOW DATABASES, "
                   "SHOW TABLES [IN db] [LIKE 'pattern'], SHOW COLUMNS IN table and "
                   "DESCRIBE [TABLE] table")


def answer(spark: SparkSession, question: Browse, current: str) -> QueryResult:
    """``question`` answered from the catalog, as query rows (``current``: the database an
    unqualified name is in)."""
    from warehouse.sql.result import QueryResult

    if question.kind == "databases":
        return QueryResult(["database"], [(d,) for d in readable_databases(spark)])
    if question.kind == "tables":
        rows = [(t.database, t.name, t.kind, t.description)
                for t in list_tables(spark, question.database or current, question.pattern)]
        return QueryResult(["database", "table", "kind", "description"], rows)
    info = describe_table(spark, question.table or "", current, details=False)
    return QueryResult(["column", "type", "nullable", "pii", "description"],
                       [(c.name, c.type, c.nullable, c.pii, c.description) for c in info.columns])


def readable_databases(spark: SparkSession) -> list[str]:
    """The catalog's databases an analyst may read, sorted."""
    return sorted(d.name for d in spark.catalog.listDatabases() if readable_database(d.name))


@dataclass(frozen=True)
class TableEntry:
    database: str
    name: str
    kind: str
    description: str

    @property
    def qualified(self) -> str:
        return f"{self.database}.{self.name}"


def list_tables(spark: SparkSession, database: str | None = None,
                pattern: str | None = None) -> list[TableEntry]:
    """Tables and views of ``database`` (None: of every readable database) whose name matches
    ``pattern`` (``*`` or ``%`` any characters, ``|`` alternatives)."""
    databases = [check_database(spark, database)] if database else readable_databases(spark)
    globs = [p.replace("%", "*").lower() for p in pattern.split("|")] if pattern else ["*"]
    out = []
    for db in databases:
        for t in spark.catalog.listTables(db):
            if t.isTemporary or not any(fnmatch.fnmatchcase(t.name.lower(), g) for g in globs):
                continue
            kind = "view" if (t.tableType or "").upper() == "VIEW" else "table"
            out.append(TableEntry(db, t.name, kind, t.description or ""))
    return sorted(out, key=lambda t: (t.database, t.name))


def check_database(spark: SparkSession, database: str) -> str:
    """``database`` when an analyst may read it and it exists; SqlError listing them otherwise."""
    name = _unquote(database) or ""
    if readable_database(name) and spark.catalog.databaseExists(name):
        return name.lower()
    known = readable_databases(spark)
    raise SqlError(f"unknown database {database}; databases: {', '.join(known) or 'none yet'}")


def describe_table(spark: SparkSession, name: str, current: str, *,
                   details: bool = True) -> TableInfo:
    """Columns (with their contract's descriptions and PII tags) and, with ``details``, Delta
    version, last change and row count of table ``name`` (unqualified: in ``current``)."""
    database, _, table = name.rpartition(".")
    database = check_database(spark, database or current)
    qualified = f"{database}.{table}"
    quoted = f"{_quote(database)}.{_quote(table)}"
    if not spark.catalog.tableExists(quoted):
        close = [t.qualified for t in list_tables(spark) if t.name.lower() == table.lower()]
        hint = f" (tables of that name: {', '.join(close)})" if close else ""
        raise SqlError(f"unknown table {qualified}{hint}; `lakehouse tables` lists them")
    entry = spark.catalog.getTable(quoted)
    contract = _contract(spark, database, table)
    described = {c.name: c for c in contract.columns} if contract else {}
    columns = []
    for c in spark.catalog.listColumns(quoted):
        declared = described.get(c.name)
        columns.append(ColumnInfo(c.name, c.dataType, bool(c.nullable),
                                  (declared.description if declared else "") or c.description or "",
                                  bool(declared and declared.pii)))
    kind = "view" if (entry.tableType or "").upper() == "VIEW" else "table"
    info = TableInfo(qualified, kind, entry.description or (contract.description if contract
                                                             else "") or "", columns,
                     contract_version=contract.version if contract else None)
    if not details or kind == "view":
        return info
    return _with_delta_details(spark, info, quoted)


def _with_delta_details(spark: SparkSession, info: TableInfo, quoted: str) -> TableInfo:
    from dataclasses import replace

    from delta.tables import DeltaTable

    detail = spark.sql(f"DESCRIBE DETAIL {quoted}").select("location", "properties").first()
    last = DeltaTable.forPath(spark, detail["location"]).history(1) \
        .select("version", "timestamp").first()
    rows = spark.table(quoted).count()  # Delta answers from the log's file statistics
    return replace(info, location=detail["location"], delta_version=last["version"],
                   last_modified=last["timestamp"], rows=rows,
                   properties=dict(detail["properties"] or {}))


def _contract(spark: SparkSession, database: str, table: str):
    """The newest registered contract of a lake table (None: not a lake table, or none yet)."""
    from lake.platform.catalog import zone_of
    from lake.platform.meta_tables import CONTRACT_VERSIONS

    try:
        source, _, dataset = zone_of(f"{database}.{table}")
    except ValueError:
        return None
    if not spark.catalog.tableExists(CONTRACT_VERSIONS):
        return None
    from lake.contracts.versions import history

    versions = history(spark, source, dataset).get(dataset)
    return versions[-1].contract if versions else None


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _unquote(name: str | None) -> str | None:
    if name and name[0] in "`\"[" and len(name) > 1:
        return name[1:-1]
    return name


def _unquote_qualified(name: str) -> str:
    parts = re.findall(_NAME, name)
    return ".".join(_unquote(p) or "" for p in parts)
