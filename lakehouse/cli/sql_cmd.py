"""``lakehouse sql QUERY``: one read-only query, in the analyst's SQL dialect."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    sql = sub.add_parser("sql", help="run one read-only query against the catalog",
                         description="Parse a query with sqlglot in --dialect, refuse anything "
                                     "but one read-only query, transpile it to Spark SQL and "
                                     "run it.",
                         epilog='example: lakehouse sql --dialect snowflake "SELECT customer_id, '
                                "IFF(is_current, 'now', 'before') FROM warehouse.dim_customer "
                                'LIMIT 5"')
    sql.add_argument("query", help='e.g. "SELECT * FROM warehouse.dim_customer LIMIT 5"')
    sql.add_argument("--dialect", default="spark",
                     help="SQL dialect of the query: snowflake, postgres, bigquery, tsql, ... "
                          "(default spark)")
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.add_argument("--limit", type=int, default=None, help="return at most N rows")
    sql.set_defaults(func=cmd_sql)


def cmd_sql(args: argparse.Namespace) -> int:
    from lake.config.settings import load_settings
    from lake.platform.session import get_session
    from warehouse.sql.analyst import format_result, run_query, to_spark_sql

    to_spark_sql(args.query, args.dialect)  # refuse before paying for a Spark session
    spark = get_session(load_settings(), app_name="lakehouse-sql")
    result = run_query(spark, args.query, args.dialect, limit=args.limit)
    print(format_result(result, args.format))
    return 0
