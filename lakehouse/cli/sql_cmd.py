"""``lakehouse sql QUERY``: one read-only query, in the analyst's SQL dialect."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    sql = sub.add_parser("sql", help="run one read-only query against the catalog",
                         description="Parse a query with sqlglot in --dialect, refuse anything "
                                     "but one read-only query, transpile it to Spark SQL, check "
                                     "Spark's plan and run it: on the running SQL endpoint "
                                     "(`lakehouse serve sql`) if there is one, else on Spark "
                                     "started for this query. Unqualified table names are in "
                                     "--database. SHOW DATABASES, SHOW TABLES [IN db] and "
                                     "DESCRIBE table list the catalog.",
                         epilog='examples: lakehouse sql "SELECT * FROM dim_customer"; '
                                'lakehouse sql --dialect snowflake "SELECT customer_id, '
                                "IFF(is_current, 'now', 'before') FROM dim_customer\"; "
                                'lakehouse sql --database retail_silver "SHOW TABLES"')
    sql.add_argument("query", help='e.g. "SELECT * FROM warehouse.dim_customer LIMIT 5"')
    sql.add_argument("--dialect", default="spark",
                     help="SQL dialect of the query: snowflake, postgres, bigquery, tsql, ... "
                          "(default spark)")
    sql.add_argument("--database", default=None,
                     help="database of unqualified table names (default: the "
                          "LAKEHOUSE_SQL_DATABASE setting, warehouse)")
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.add_argument("--limit", type=int, default=None,
                     help="return at most N rows; 0 for all (default: the "
                          "LAKEHOUSE_SQL_ROW_LIMIT setting, 1000)")
    sql.add_argument("--local", action="store_true",
                     help="run the query on a Spark session of this command even when "
                          "`lakehouse serve sql` is running (which it uses by default)")
    sql.set_defaults(func=cmd_sql)


def cmd_sql(args: argparse.Namespace) -> int:
    from lake.config.settings import load_settings
    from lakehouse.cli.context import progress
    from warehouse.sql.endpoint.remote import run_remote, running_endpoint
    from warehouse.sql.result import format_result

    settings = load_settings()
    limit = settings.sql_row_limit if args.limit is None else args.limit
    if limit < 0:
        from lake.errors import SqlError

        raise SqlError(f"--limit must be 0 (all rows) or a positive number, got {limit}")
    database = args.database or settings.sql_database
    endpoint = None if args.local else running_endpoint(settings.home)
    if endpoint is not None:  # warm: `lakehouse serve sql` runs for this home and checks it
        result = run_remote(endpoint, settings.sql_endpoint_password, args.query, args.dialect,
                            limit or None, database)
    else:
        result = _run_here(settings, args.query, args.dialect, limit or None, database)
    print(format_result(result, args.format), end="" if args.format != "json" else "\n")
    if result.truncated:
        shown = len(result.rows)
        progress(f"(showing the first {shown} rows; the query returned more: --limit N shows N, "
                 "--limit 0 shows all, LAKEHOUSE_SQL_ROW_LIMIT sets the default)")
    return 0


def _run_here(settings, sql: str, dialect: str, limit: int | None, database: str):
    """The query on a Spark session of this process (no endpoint is running)."""
    from lake.platform.catalog import ensure_databases
    from lakehouse.cli.context import analyst_spark
    from warehouse.sql.analyst import prepare, run_query

    prepare(sql, dialect)  # refuse before paying for a Spark session
    spark = analyst_spark(settings, "sql")
    ensure_databases(spark, settings)  # warehouse and meta, so a first query has a database
    return run_query(spark, sql, dialect, limit=limit, database=database)
