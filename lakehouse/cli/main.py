"""The ``lakehouse`` command line: run the demo, query the warehouse, walk lineage."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    from cli.demo import generate_drops, render_summary, run_days, summarize
    from lake.settings import load_settings
    from lake.spark import get_session

    settings = load_settings()
    _progress(f"lakehouse home: {settings.home}")
    dates = generate_drops(settings, args.start, args.days, settings.seed)
    _progress(f"generated {len(dates)} daily drops of the retail source in {settings.source_root}")
    runs = run_days(settings, dates, _progress)
    failed = [r for r in runs if r.state != "success"]
    spark = get_session(settings, app_name="lakehouse-demo-summary")
    summary = summarize(spark, settings)
    if args.format == "json":
        print(json.dumps({"runs": [r.__dict__ for r in runs], **summary}, default=str, indent=2))
    else:
        print(render_summary(summary, runs))
    if failed:
        _progress(f"retail_daily failed for {failed[0].logical_date}: {', '.join(failed[0].failed)}"
                  f"; task logs are under {settings.airflow_home / 'logs'}")
        return 1
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    from lake.settings import load_settings
    from lake.spark import get_session
    from warehouse.sql import format_result, run_query, to_spark_sql

    to_spark_sql(args.query, args.dialect)  # refuse before paying for a Spark session
    spark = get_session(load_settings(), app_name="lakehouse-sql")
    result = run_query(spark, args.query, args.dialect, limit=args.limit)
    print(format_result(result, args.format))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from cli.contract_cmd import add_contract_parser
    from cli.lineage_cmd import add_lineage_parser
    from cli.quality_cmd import add_quality_parser
    from cli.quarantine_cmd import add_quarantine_parser

    parser = argparse.ArgumentParser(
        prog="lakehouse",
        description="Data lake ingestion and warehouse platform (Airflow, Spark, Delta Lake, "
                    "Great Expectations, OpenLineage). Settings come from LAKEHOUSE_* variables; "
                    "everything lives under LAKEHOUSE_HOME (default ./.lakehouse).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run retail_daily for N days through Airflow and summarise",
                          description="Generate the retail source's daily drops, run the "
                                      "retail_daily DAG for each day with real spark-submit jobs, "
                                      "then print tables, row counts, Delta versions and "
                                      "quarantine counts per rule.")
    demo.add_argument("--days", type=int, default=4,
                      help="consecutive logical dates (default 4: a new column, a type change, "
                           "drift and a serving feed happen in the first four days)")
    demo.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 1),
                      help="first logical date, YYYY-MM-DD (default 2026-01-01)")
    demo.add_argument("--format", choices=("text", "json"), default="text")
    demo.set_defaults(func=cmd_demo)

    sql = sub.add_parser("sql", help="run one read-only query against the catalog",
                         description="Parse a query with sqlglot in --dialect, refuse anything "
                                     "but one read-only query, transpile it to Spark SQL and run it.")
    sql.add_argument("query", help='e.g. "SELECT * FROM warehouse.dim_customer LIMIT 5"')
    sql.add_argument("--dialect", default="spark",
                     help="SQL dialect of the query: snowflake, postgres, bigquery, tsql, ... "
                          "(default spark)")
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.add_argument("--limit", type=int, default=None, help="return at most N rows")
    sql.set_defaults(func=cmd_sql)

    add_contract_parser(sub)
    add_quality_parser(sub)
    add_quarantine_parser(sub)
    add_lineage_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from lake.errors import LakehouseError
    from lineage.errors import LineageError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (LakehouseError, LineageError) as err:
        print(f"lakehouse {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
