"""Read-only where Spark decides: an analyst's query is checked on Spark's own logical plans,
against allow-lists, before anything runs.

sqlglot's check (:mod:`warehouse.sql.analyst`) is the first gate, on the analyst's dialect; this
is the one that counts, because it looks at what Spark will execute:

1. the **parsed plan** of the Spark SQL text (parsing runs nothing): every operator is a read
   operator of :data:`READ_OPERATORS` (no command, no ``TRANSFORM … USING`` script, no write), and
   every function called is a built-in of an allowed group (:func:`allowed_functions`: no
   ``reflect``/``java_method``, no catalog or temporary functions, no UDFs);
2. the **analysed plan** (analysis reads the catalog, runs nothing): every relation read is a
   table or view of the lake's or the warehouse's databases (:func:`readable_database`), never a
   file path (``text.`/etc/hostname``, ``delta.`/x``), or an inline ``VALUES``/``range``.

Analyst queries also run on their own session (:func:`analyst_session`) with Spark's SQL on files
off.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

from lake.errors import SqlError
from lake.platform.catalog import META, WAREHOUSE, ZONES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

READ_OPERATORS = frozenset({
    "Project", "Filter", "Aggregate", "Join", "LateralJoin", "SubqueryAlias", "UnresolvedRelation",
    "UnresolvedWith", "CTERelationDef", "CTERelationRef", "WithCTE", "Sort", "GlobalLimit",
    "LocalLimit", "Offset", "Tail", "Union", "Intersect", "Except", "Distinct", "Deduplicate",
    "OneRowRelation", "UnresolvedInlineTable", "LocalRelation", "Generate", "Pivot", "Unpivot",
    "UnresolvedHint", "Sample", "RepartitionByExpression", "Repartition", "WithWindowDefinition",
    "Window", "Expand", "UnresolvedSubqueryColumnAliases", "UnresolvedTableValuedFunction",
    "UnresolvedTVFAliases", "Range", "UnresolvedHaving", "AsOfJoin",
})  # fmt: skip
"""Operators a parsed read-only query is made of (Spark's logical plan node names)."""

TABLE_FUNCTIONS = frozenset({"range"})
"""Table-valued functions a query may read from (``read_files`` and the like read paths)."""

FUNCTION_GROUPS = frozenset({
    "agg_funcs", "array_funcs", "bitwise_funcs", "collection_funcs", "conditional_funcs",
    "conversion_funcs", "csv_funcs", "datetime_funcs", "generator_funcs", "hash_funcs",
    "json_funcs", "lambda_funcs", "map_funcs", "math_funcs", "predicate_funcs", "string_funcs",
    "struct_funcs", "window_funcs", "xml_funcs", "url_funcs", "variant_funcs", "sketch_funcs",
    "operator",
})  # fmt: skip
"""Groups of Spark's built-in functions (``DESCRIBE FUNCTION`` groups) a query may call."""

MISC_FUNCTIONS = frozenset({
    "current_catalog", "current_database", "current_schema", "current_user", "user",
    "session_user", "typeof", "version", "uuid", "monotonically_increasing_id",
    "spark_partition_id", "nullif", "nvl", "nvl2", "coalesce",
})  # fmt: skip
"""Functions of the ``misc_funcs`` group a query may call (the group also holds ``reflect``,
``java_method`` and ``try_reflect``, which call arbitrary Java methods)."""

SUBQUERIES = frozenset({"ScalarSubquery", "Exists", "ListQuery", "LateralSubquery",
                        "FunctionTableSubqueryArgumentExpression"})
READ_LEAVES = frozenset({"LocalRelation", "OneRowRelation", "Range"})
TABLE_LEAVES = frozenset({"LogicalRelation", "DataSourceV2Relation", "HiveTableRelation"})
_ZONE_DATABASE = re.compile(rf"^[a-z][a-z0-9_]*_({'|'.join(ZONES)})$")


def readable_database(name: str) -> bool:
    """The lake's zone databases (``<source>_bronze`` …), ``warehouse`` and ``meta``."""
    name = name.lower()
    return name in (WAREHOUSE, META) or bool(_ZONE_DATABASE.match(name))


def analyst_session(spark: SparkSession, database: str | None = None) -> SparkSession:
    """A session for analyst queries: the same application and catalog, its own settings, with
    SQL on files (``csv.`/path```) off, and ``database`` (checked readable) as the database of
    unqualified table names."""
    session = spark.newSession()
    session.conf.set("spark.sql.runSQLOnFiles", "false")
    if database is not None:
        if not readable_database(database):
            raise SqlError(f"refused: database {database} is not one of the lake's zone "
                           "databases, warehouse or meta")
        session.catalog.setCurrentDatabase(database)
    return session


def checked_query(spark: SparkSession, spark_sql: str) -> DataFrame:
    """``spark_sql`` as a DataFrame of ``spark`` (analysed, not run), once both plans pass.

    Raises :class:`SqlError` naming the operator, function or relation refused.
    """
    jss = spark._jsparkSession  # noqa: SLF001 - Spark's parser and plans are on the JVM side
    from py4j.protocol import Py4JJavaError

    try:
        parsed = jss.sessionState().sqlParser().parsePlan(spark_sql)
    except Py4JJavaError as err:  # Spark parses differently from sqlglot: say where
        message = str(err.java_exception.getMessage()).splitlines()[0]
        raise SqlError(f"Spark cannot parse the query: {message} (Spark SQL: {spark_sql})") from err
    _check_parsed(parsed, allowed_functions(spark))
    df = spark.sql(spark_sql)  # a query: analysed here, run only when collected
    _check_relations(df._jdf.queryExecution().analyzed())  # noqa: SLF001
    return df


@functools.cache
def _registry_functions(jvm_id: int, jvm: Any) -> frozenset[str]:
    registry = jvm.org.apache.spark.sql.catalyst.analysis.FunctionRegistry.builtin()
    names = set()
    ids = registry.listFunction()
    for i in range(ids.size()):
        fid = ids.apply(i)
        info = registry.lookupFunction(fid)
        if info.isDefined():
            group = info.get().getGroup() or ""
            name = fid.funcName().lower()
            if group in FUNCTION_GROUPS or (group == "misc_funcs" and name in MISC_FUNCTIONS):
                names.add(name)
    return frozenset(names)


def allowed_functions(spark: SparkSession) -> frozenset[str]:
    """Names of the built-in functions analyst queries may call (read once per JVM)."""
    jvm = spark._jvm  # noqa: SLF001
    return _registry_functions(id(jvm), jvm)


def _check_parsed(plan: Any, functions: frozenset[str]) -> None:
    for node in _plans(plan, parsed=True):
        name = node.getClass().getSimpleName()
        if name not in READ_OPERATORS:
            raise SqlError(f"refused: {_operator(name)} is not a read operation; lakehouse sql "
                           "only reads tables")
        if name == "UnresolvedTableValuedFunction":
            function = node.name().mkString(".").lower()
            if function not in TABLE_FUNCTIONS:
                raise SqlError(f"refused: table function {function}() is not allowed; only "
                               f"{', '.join(sorted(TABLE_FUNCTIONS))}() and tables can be read")
        for expression in _expressions(node):
            _check_function(expression, functions)


def _check_function(expression: Any, functions: frozenset[str]) -> None:
    kind = expression.getClass().getSimpleName()
    if kind == "UnresolvedFunction":
        parts = [str(p).lower() for p in _seq(expression.nameParts())]
    elif kind == "UnresolvedGenerator":
        parts = [str(expression.name().funcName()).lower()]
    else:
        return
    name = ".".join(parts)
    if len(parts) != 1 or parts[0] not in functions:
        raise SqlError(f"refused: function {name}() is not one of Spark's built-in functions "
                       "that read-only queries may call (no UDFs, no reflect/java_method)")


def _check_relations(plan: Any) -> None:
    for node in _plans(plan, parsed=False):
        name = node.getClass().getSimpleName()
        if name == "View":
            _check_table(_database_of(node.desc().identifier()), "view", node.isTempView())
        elif node.children().isEmpty() and node.innerChildren().isEmpty():
            if name in READ_LEAVES:
                continue
            if name not in TABLE_LEAVES:
                raise SqlError(f"refused: reading {_operator(name)}; lakehouse sql reads tables "
                               "of the lake and the warehouse only")
            _check_table(_relation_database(node, name), "table", False)


def _check_table(database: str | None, kind: str, temporary: bool) -> None:
    if temporary or database is None or not readable_database(database):
        where = "a file path or temporary view" if database is None or temporary else (
            f"database {database}")
        raise SqlError(f"refused: the query reads a {kind} of {where}; lakehouse sql reads "
                       "tables of the lake's zone databases, warehouse and meta only")


def _relation_database(node: Any, name: str) -> str | None:
    if name == "LogicalRelation":
        table = node.catalogTable()
        return _database_of(table.get().identifier()) if table.isDefined() else None
    if name == "HiveTableRelation":
        return _database_of(node.tableMeta().identifier())
    identifier = node.identifier()  # DataSourceV2Relation: a catalog table, or a path
    if not identifier.isDefined() or node.catalog().get().name() != "spark_catalog":
        return None
    from py4j.protocol import Py4JError

    namespace = list(identifier.get().namespace())
    try:
        catalog_table = node.table().catalogTable()  # Delta's table: defined for catalog tables
    except Py4JError:
        catalog_table = None
    if len(namespace) != 1 or (catalog_table is not None and not catalog_table.isDefined()):
        return None  # delta.`/path` resolves to a Delta table without a catalog entry
    return namespace[0]


def _database_of(identifier: Any) -> str | None:
    database = identifier.database()
    return str(database.get()) if database.isDefined() else None


def _plans(plan: Any, *, parsed: bool):
    """Every plan node of ``plan``: children, CTE definitions and subquery plans, depth first.
    In the analysed plan a view's body is the platform's own SQL: not descended into."""
    stack = [plan]
    while stack:
        node = stack.pop()
        yield node
        if not parsed and node.getClass().getSimpleName() == "View":
            continue
        stack.extend(_seq(node.children()))
        stack.extend(_seq(node.innerChildren()))
        for expression in _expressions(node):
            if expression.getClass().getSimpleName() in SUBQUERIES:
                stack.append(expression.plan())


def _expressions(node: Any):
    """Every expression of plan ``node``, nested ones included."""
    stack = list(_seq(node.expressions()))
    while stack:
        expression = stack.pop()
        yield expression
        stack.extend(_seq(expression.children()))


def _seq(seq: Any) -> list:
    return [seq.apply(i) for i in range(seq.size())]


def _operator(name: str) -> str:
    words = {"ScriptTransformation": "TRANSFORM … USING (a script run by the server)"}
    return words.get(name, re.sub(r"(?<!^)(?=[A-Z])", " ", name).upper())
