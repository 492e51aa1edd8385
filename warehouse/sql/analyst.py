"""SQL for analysts: one read-only query in any sqlglot dialect, checked, transpiled, run on Spark.

``lakehouse sql [--dialect D] "SELECT ..."`` goes through three steps, each usable on its own:

1. :func:`to_spark_sql` parses the text with sqlglot in the analyst's dialect, refuses anything that
   is not exactly one read-only query (DDL, DML, session commands, ``SELECT … INTO``, and the same
   hidden in a CTE or subquery), and transpiles the query to Spark SQL.
2. :func:`run_query` checks Spark's own plans of that Spark SQL against allow-lists
   (:mod:`warehouse.sql.plan_guard`: read operators, built-in functions, tables of the lake and
   the warehouse; nothing runs before), runs it on a session with SQL on files off, and turns
   Spark's "table or column not found" errors into
   :class:`~lake.errors.SqlError` messages that name the missing object and what does exist.
   Unqualified table names are in the session's database (``--database``, default
   ``warehouse``). ``SHOW TABLES``/``DESCRIBE t`` and friends are answered from the catalog
   (:mod:`warehouse.sql.browse`), never handed to Spark.
3. :func:`warehouse.sql.result.format_result` renders the :class:`QueryResult` as an aligned
   table, CSV or JSON.

The check works on sqlglot's syntax tree, not on keywords in the text, so ``SELECT 'drop table'``
is fine and ``WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d`` is not.
"""

from __future__ import annotations

import difflib
import logging
import re
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects import DIALECT_MODULE_NAMES
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError, UnsupportedError

from lake.errors import SqlError
from lake.platform.catalog import WAREHOUSE
from warehouse.sql.browse import Browse, answer, check_database, list_tables, parse_browse
from warehouse.sql.result import QueryResult

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

logger = logging.getLogger(__name__)

READ_DIALECTS: tuple[str, ...] = tuple(sorted(DIALECT_MODULE_NAMES))
"""Every dialect name ``--dialect`` accepts (sqlglot's built-in dialects)."""


WRITE_DIALECT = "spark"
ONE_QUERY = "lakehouse sql runs one SELECT (or WITH … SELECT) at a time"

# Roots that are a query: SELECT (with or without WITH), UNION/INTERSECT/EXCEPT, (SELECT …), VALUES.
_QUERY_ROOTS = (exp.Select, exp.SetOperation, exp.Subquery, exp.Values)

# Nodes that write, change the session or run arbitrary commands, wherever they appear in the tree.
_REFUSED_NODES: tuple[type[exp.Expr], ...] = (
    exp.DDL, exp.DML, exp.Drop, exp.Alter, exp.AlterSession, exp.TruncateTable, exp.LoadData,
    exp.Export, exp.Into, exp.Set, exp.Use, exp.Cache, exp.Uncache, exp.Command, exp.Grant,
    exp.Revoke, exp.Analyze, exp.Refresh, exp.Comment, exp.Commit, exp.Rollback, exp.Transaction,
    exp.Kill, exp.Pragma, exp.Execute, exp.ExecuteSql, exp.Declare, exp.Attach, exp.Detach,
    exp.Install, exp.Undrop, exp.SwapTable, exp.Put, exp.Get, exp.QueryTransform,
)  # fmt: skip

# Spark functions that call arbitrary Java static methods: not something a read-only query needs.
_REFUSED_FUNCTIONS = frozenset({"reflect", "java_method", "try_reflect"})

# First keywords of statements that are never queries, for text sqlglot cannot parse (e.g. `USE x`).
_STATEMENT_KEYWORDS = frozenset({
    "ALTER", "ANALYZE", "CACHE", "CALL", "COMMENT", "COMMIT", "COPY", "CREATE", "DELETE",
    "DESCRIBE", "DROP", "EXEC", "EXECUTE", "EXPLAIN", "GRANT", "INSERT", "LOAD", "MERGE",
    "MSCK", "OPTIMIZE", "REFRESH", "REPLACE", "RESET", "REVOKE", "ROLLBACK", "SET", "SHOW",
    "TRUNCATE", "UNCACHE", "UPDATE", "UPSERT", "USE", "VACUUM",
})  # fmt: skip

_MAX_LISTED = 30
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TOKEN = re.compile(r"<Token token_type: [^,]+, text: (.*?), line: \d+.*?>")
# Names people type for a dialect that sqlglot spells differently (used only to suggest).
_DIALECT_ALIASES = {
    "mssql": "tsql", "sqlserver": "tsql", "postgresql": "postgres", "pg": "postgres",
}  # fmt: skip


MAX_QUERY_CHARS = 100_000
"""Longest query text accepted (a query, not a data file)."""


def prepare(sql: str, dialect: str = "spark") -> str | Browse:
    """What ``sql`` asks: a catalog question (``SHOW TABLES``, ``DESCRIBE t``: a
    :class:`~warehouse.sql.browse.Browse`) or a checked read-only query as Spark SQL
    (:func:`to_spark_sql`). Raises :class:`SqlError` for anything else."""
    if isinstance(sql, str) and len(sql) > MAX_QUERY_CHARS:
        raise SqlError(f"refused: the query is {len(sql):,} characters long; lakehouse sql takes "
                       f"at most {MAX_QUERY_CHARS:,}")
    question = parse_browse(sql) if isinstance(sql, str) else None
    return question if question is not None else to_spark_sql(sql, dialect)


def to_spark_sql(sql: str, dialect: str = "spark") -> str:
    """Check that ``sql`` is one read-only query in ``dialect`` and return it as Spark SQL.

    Raises :class:`SqlError` for an unknown dialect, text sqlglot cannot parse (quoting its message
    with line and column), anything but exactly one read-only query, or a construct sqlglot cannot
    express in Spark SQL.
    """
    dialect = check_dialect(dialect)
    tree = _parse_one(sql, dialect)
    _check_read_only(tree)
    try:
        spark_sql = tree.sql(
            dialect=WRITE_DIALECT, pretty=False, unsupported_level=ErrorLevel.RAISE
        )
    except UnsupportedError as err:
        raise SqlError(
            f"cannot translate the {dialect} query to Spark SQL: {_clean(err).rstrip('.')}; "
            "rewrite that part of the query"
        ) from err
    if dialect != WRITE_DIALECT:  # what Spark parses is the output text: check it too
        _check_read_only(_parse_one(spark_sql, WRITE_DIALECT))
    logger.debug("transpiled %s query to Spark SQL: %s", dialect, spark_sql)
    return spark_sql


def run_query(
    spark: SparkSession, sql: str, dialect: str = "spark", limit: int | None = None,
    database: str = WAREHOUSE,
) -> QueryResult:
    """Check and transpile ``sql`` (see :func:`prepare`), run it on ``spark`` and collect the rows.

    ``limit`` caps how many rows are collected (``None``: all; the result says whether there were
    more). Unqualified table names are in ``database``. ``SHOW``/``DESCRIBE`` are answered from
    the catalog (:mod:`warehouse.sql.browse`). Unknown tables and columns raise
    :class:`SqlError` naming the object and what exists instead.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise SqlError(f"limit must be a non-negative integer or None, got {limit!r}")
    prepared = prepare(sql, dialect)

    from pyspark.errors import PySparkException

    from warehouse.sql.plan_guard import analyst_session

    database = check_database(spark, database)
    if isinstance(prepared, Browse):
        return _capped_result(answer(spark, prepared, database), limit)
    df = checked_frame(analyst_session(spark, database), prepared, database)
    if limit is not None:
        df = df.limit(limit + 1)  # one more: whether there were more
    try:
        rows = [tuple(plain(value) for value in row) for row in df.collect()]
    except PySparkException as err:
        raise run_failure(err, prepared) from err
    return _capped_result(QueryResult(columns=list(df.columns), rows=rows), limit)


def checked_frame(session: SparkSession, spark_sql: str, database: str = WAREHOUSE) -> DataFrame:
    """Checked Spark SQL (:func:`to_spark_sql`) as a DataFrame of an analyst ``session``
    (:func:`~warehouse.sql.plan_guard.analyst_session`): both plans checked, analysed, not run.
    Unknown tables and columns raise :class:`SqlError` naming what exists instead."""
    from pyspark.errors import AnalysisException, PySparkException

    from warehouse.sql.plan_guard import checked_query

    try:
        return checked_query(session, spark_sql)
    except AnalysisException as err:
        raise _analysis_error(session, err, spark_sql, database) from err
    except PySparkException as err:
        raise run_failure(err, spark_sql) from err


def run_failure(err: Exception, spark_sql: str) -> SqlError:
    """The error to raise for a query that failed while running."""
    return SqlError(f"Spark failed running the query: {_first_line(err)} (Spark SQL: {spark_sql})")


def _capped_result(result: QueryResult, limit: int | None) -> QueryResult:
    if limit is None or len(result.rows) <= limit:
        return result
    return QueryResult(result.columns, result.rows[:limit], truncated=True)


# -- checking --------------------------------------------------------------------------------------


def check_dialect(dialect: str) -> str:
    name = dialect.strip().lower() if isinstance(dialect, str) else dialect
    if name in READ_DIALECTS:
        return name
    close = [_DIALECT_ALIASES[name]] if name in _DIALECT_ALIASES else []
    close = close or difflib.get_close_matches(str(name), READ_DIALECTS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise SqlError(
        f"unknown dialect {dialect!r}{hint}; valid dialects: {', '.join(READ_DIALECTS)}"
    )


def _parse_one(sql: str, dialect: str) -> exp.Expr:
    if not isinstance(sql, str) or not sql.strip():
        raise SqlError(f"no query given; {ONE_QUERY}")
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as err:
        _refuse_statement_keyword(sql, dialect, err)
        raise SqlError(
            f"cannot parse the query as {dialect} SQL: {_describe_parse_error(err)}"
        ) from err
    except TokenError as err:
        raise SqlError(f"cannot parse the query as {dialect} SQL: {_clean(err)}") from err
    if not statements:
        raise SqlError(f"no query given; {ONE_QUERY}")
    if len(statements) > 1:
        kinds = "; ".join(_describe(s) for s in statements)
        raise SqlError(f"refused: {len(statements)} statements ({kinds}); {ONE_QUERY}")
    return statements[0]


def _check_read_only(tree: exp.Expr) -> None:
    if not isinstance(tree, _QUERY_ROOTS):
        raise SqlError(f"refused: {_describe(tree)} is not a read-only query; {ONE_QUERY}")
    for node in tree.walk():
        if isinstance(node, _REFUSED_NODES):
            where = _where(node)
            raise SqlError(
                f"refused: {_describe(node)}{where} is not a read-only query; {ONE_QUERY}"
            )
        if isinstance(node, exp.Func) and _function_name(node) in _REFUSED_FUNCTIONS:
            raise SqlError(
                f"refused: {_function_name(node).upper()}() runs arbitrary Java methods; "
                "lakehouse sql only reads tables"
            )


def _where(node: exp.Expr) -> str:
    if node.find_ancestor(exp.CTE):
        return " in a CTE"
    if node.find_ancestor(exp.Subquery):
        return " in a subquery"
    return ""


def _refuse_statement_keyword(sql: str, dialect: str, err: ParseError) -> None:
    """Text sqlglot cannot parse but that starts like DDL/DML is refused as such, not as garbage."""
    try:
        tokens = Dialect.get_or_raise(dialect).tokenize(sql)
    except SqlglotError:
        return
    keyword = tokens[0].text.upper() if tokens else ""
    if keyword in _STATEMENT_KEYWORDS:
        raise SqlError(f"refused: {keyword} is not a read-only query; {ONE_QUERY}") from err


def _describe(node: exp.Expr) -> str:
    """A short name for a statement or node, as an analyst would say it (``DROP TABLE``)."""
    kind = str(node.args.get("kind") or "").upper()
    if isinstance(node, exp.Create):
        if isinstance(node.expression, exp.Query):
            return f"CREATE {kind or 'TABLE'} … AS SELECT"
        return f"CREATE {kind}".strip()
    if isinstance(node, (exp.Drop, exp.Alter)):
        return f"{node.key.upper()} {kind}".strip()
    if isinstance(node, exp.Insert):
        return "INSERT OVERWRITE" if node.args.get("overwrite") else "INSERT"
    if isinstance(node, exp.Into):
        return "SELECT … INTO (which creates a table)"
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    if isinstance(node, _QUERY_ROOTS):
        return "SELECT" if isinstance(node, exp.Select) else node.key.upper()
    names = {
        exp.TruncateTable: "TRUNCATE TABLE", exp.Cache: "CACHE TABLE",
        exp.Uncache: "UNCACHE TABLE", exp.LoadData: "LOAD DATA", exp.Set: "SET",
    }  # fmt: skip
    for cls, name in names.items():
        if isinstance(node, cls):
            return name
    if isinstance(node, _REFUSED_NODES) or node.__class__.__module__.endswith((".ddl", ".dml")):
        return node.key.upper()
    return f"the expression `{node.sql()}`"


def _function_name(node: exp.Func) -> str:
    return (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()


def _describe_parse_error(err: ParseError) -> str:
    parts = []
    for e in err.errors[:3]:
        near = f"{e.get('start_context', '')}{e.get('highlight', '')}".strip()
        description = _TOKEN.sub(r"'\1'", str(e.get("description")))
        parts.append(
            f"{description} at line {e.get('line')}, column {e.get('col')}"
            + (f" (near {near!r})" if near else "")
        )
    if not parts:
        return _clean(err)
    more = len(err.errors) - 3
    return "; ".join(parts) + (f"; and {more} more error(s)" if more > 0 else "")


def _clean(err: Exception) -> str:
    return _ANSI.sub("", str(err)).strip()


# -- running ---------------------------------------------------------------------------------------


def _analysis_error(spark: SparkSession, err: Exception, spark_sql: str,
                    current: str = WAREHOUSE) -> SqlError:
    condition = _condition(err)
    params = _params(err)
    if condition.startswith("TABLE_OR_VIEW_NOT_FOUND"):
        name = _unquote(params.get("relationName", "")) or "?"
        database, _, table = name.rpartition(".")
        database = database or current
        tables = list_tables(spark)
        known = [t.qualified for t in tables]
        same_name = [t.qualified for t in tables if t.name.lower() == table.lower()]
        close = same_name or difflib.get_close_matches(f"{database}.{table}", known, n=3)
        hint = f" (did you mean {', '.join(close[:5])}?)" if close else ""
        same_db = [t.qualified for t in tables if t.database == database.lower()]
        where = f"{name}" if "." in name else f"{name} in database {database}"
        if same_db:
            return SqlError(f"unknown table {where}{hint}; tables in {database}: {_capped(same_db)}"
                            "; `lakehouse tables` lists every table")
        return SqlError(f"unknown table {where}{hint}; known tables: {_capped(known) or 'none'}")
    if condition.startswith("SCHEMA_NOT_FOUND"):
        name = _unquote(params.get("schemaName", "")) or "?"
        from warehouse.sql.browse import readable_databases

        return SqlError(f"unknown database {name}; databases: "
                        f"{', '.join(readable_databases(spark))}")
    if condition.startswith("UNRESOLVED_COLUMN"):
        name = _unquote(params.get("objectName", "")) or "?"
        proposal = _unquote(params.get("proposal", ""))
        hint = f"; columns in scope include {proposal}" if proposal else ""
        return SqlError(f"unknown column {name}{hint}")
    if condition.startswith("UNRESOLVED_ROUTINE"):
        name = _unquote(params.get("routineName", "")) or "?"
        return SqlError(f"unknown function {name} in Spark SQL (Spark SQL: {spark_sql})")
    return SqlError(f"Spark cannot run the query: {_first_line(err)} (Spark SQL: {spark_sql})")


def _condition(err: Exception) -> str:
    getter = getattr(err, "getCondition", None) or getattr(err, "getErrorClass", None)
    return (getter() if getter else None) or ""


def _params(err: Exception) -> dict[str, str]:
    getter = getattr(err, "getMessageParameters", None)
    return dict(getter() or {}) if getter else {}


def _unquote(name: str) -> str:
    return name.replace("`", "")


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [""])[0]


def _capped(names: list[str]) -> str:
    more = len(names) - _MAX_LISTED
    return ", ".join(names[:_MAX_LISTED]) + (f", … and {more} more" if more > 0 else "")


def plain(value: Any) -> Any:
    """Spark ``Row`` structs become dicts (recursively); other values stay as Spark gave them."""
    from pyspark.sql import Row

    if isinstance(value, Row):
        return value.asDict(recursive=True)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value
