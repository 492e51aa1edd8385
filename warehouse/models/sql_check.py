"""What model SQL may be: one read-only SELECT over the lake's and warehouse's catalog tables.

:func:`read_select` parses a model's SELECT (Spark SQL) and returns what the platform needs to
know without running it: the tables it reads (``db.table``, CTE names excluded) and the names of
its output columns. It refuses, naming the file and what to change: anything but one query, any
statement hidden inside it (DML, DDL, commands, script transforms), table names without a
database, tables read by file path (``parquet.`/x```) and table-valued functions (``range``,
``read_files``...). Which tables exist is checked by the caller against the declarations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lake.errors import ConfigError

MAX_SQL_CHARS = 200_000
_PATH_FORMATS = frozenset({"csv", "json", "parquet", "orc", "text", "delta", "avro",
                           "binaryfile", "jdbc", "hive"})


@dataclass(frozen=True)
class SelectInfo:
    sql: str
    tables: tuple[str, ...]  # db.table, lower-case, in first-seen order
    columns: tuple[str, ...]  # output column names ("*" when the query selects *)
    tree: Any


def read_select(sql: str, origin: str) -> SelectInfo:
    """Check ``sql`` (see module doc); ConfigError naming ``origin``."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    if len(sql) > MAX_SQL_CHARS:
        raise ConfigError(f"{origin}: {len(sql)} characters of SQL is too long (at most "
                          f"{MAX_SQL_CHARS})")
    try:
        statements = [s for s in sqlglot.parse(sql, read="spark") if s is not None]
    except (ParseError, TokenError) as err:
        raise ConfigError(f"{origin}: not valid Spark SQL: {str(err).splitlines()[0]}") from err
    if len(statements) != 1:
        raise ConfigError(f"{origin}: holds {len(statements)} statements; a model is one SELECT")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise ConfigError(f"{origin}: is a {tree.key.upper()} statement; a model is one SELECT "
                          "(the platform writes the table)")
    forbidden = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop,
                 exp.Alter, exp.Command, exp.QueryTransform, exp.Use, exp.Set)
    for node in tree.walk():
        if isinstance(node, forbidden):
            raise ConfigError(f"{origin}: contains {node.key.upper()} ({node.sql('spark')[:60]}); "
                              "a model may only read")
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    tables: list[str] = []
    for table in tree.find_all(exp.Table):
        name = table.name.lower()
        db = table.db.lower()
        if isinstance(table.this, exp.Func) or (not name and table.this is not None):
            raise ConfigError(f"{origin}: reads from the function {table.sql('spark')[:60]}; a "
                              "model reads catalog tables only")
        if not db:
            if name in ctes:
                continue
            raise ConfigError(f"{origin}: table {table.name!r} has no database; name it as "
                              "database.table (e.g. shop_silver.orders or "
                              "warehouse.dim_customer)")
        if table.catalog or db in _PATH_FORMATS and ("/" in table.name or ":" in table.name):
            raise ConfigError(f"{origin}: {table.sql('spark')[:80]} reads files by path; a model "
                              "reads catalog tables only")
        qualified = f"{db}.{name}"
        if qualified not in tables:
            tables.append(qualified)
    return SelectInfo(sql, tuple(tables), _output_columns(tree), tree)


def _output_columns(tree: Any) -> tuple[str, ...]:
    from sqlglot import exp

    select = tree
    while isinstance(select, exp.Union):
        select = select.left
    if isinstance(select, exp.Subquery):
        select = select.this
    if not isinstance(select, exp.Select):
        return ()
    out = []
    for projection in select.expressions:
        if isinstance(projection, exp.Star) or (isinstance(projection, exp.Column)
                                                and isinstance(projection.this, exp.Star)):
            out.append("*")
        else:
            out.append(projection.alias_or_name)
    return tuple(out)


def substitute(tree: Any, tables: dict[str, str]) -> str:
    """``tree`` as Spark SQL with each ``db.table`` in ``tables`` read through the given
    subquery (e.g. the rows of one batch), keeping the alias the query used."""
    import sqlglot
    from sqlglot import exp

    def swap(node: Any) -> Any:
        if isinstance(node, exp.Table) and node.db:
            key = f"{node.db.lower()}.{node.name.lower()}"
            if key in tables:
                alias = node.alias_or_name
                inner = sqlglot.parse_one(tables[key], read="spark")
                return exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias)))
        return node

    return tree.copy().transform(swap).sql(dialect="spark")
