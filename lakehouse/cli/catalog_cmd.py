"""``lakehouse tables`` and ``lakehouse describe TABLE``: what the lake and the warehouse hold."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any


def add_parser(sub: Any) -> None:
    tables = sub.add_parser(
        "tables", help="list the tables and views analysts can query",
        description="List the tables and views of the lake's zone databases (<source>_bronze, "
                    "<source>_silver, <source>_quarantine), warehouse and meta, with their "
                    "descriptions.",
        epilog="example: lakehouse tables --database warehouse; then lakehouse describe "
               "warehouse.dim_customer")
    tables.add_argument("--database", help="only this database (default: all)")
    tables.add_argument("--like", metavar="PATTERN",
                        help="only names matching PATTERN (* any characters, | alternatives)")
    tables.add_argument("--format", choices=("text", "json"), default="text")
    tables.set_defaults(func=cmd_tables)

    describe = sub.add_parser(
        "describe", help="columns, types, descriptions, PII tags, version and freshness of a table",
        description="Describe one table or view: its columns and types, each column's "
                    "description and PII tag from the dataset's contract, the Delta version, "
                    "when it last changed and how many rows it holds.",
        epilog="example: lakehouse describe retail_silver.customers")
    describe.add_argument("table", help="DATABASE.TABLE, or a table of --database")
    describe.add_argument("--database", default=None,
                          help="database of an unqualified name (default: the "
                               "LAKEHOUSE_SQL_DATABASE setting, warehouse)")
    describe.add_argument("--format", choices=("text", "json"), default="text")
    describe.set_defaults(func=cmd_describe)


def cmd_tables(args: argparse.Namespace) -> int:
    from lake.config.settings import load_settings
    from lakehouse.cli.context import analyst_spark, print_json, print_table
    from warehouse.sql.browse import list_tables

    spark = analyst_spark(load_settings(), "tables")
    found = list_tables(spark, args.database, args.like)
    rows = [{"database": t.database, "table": t.name, "kind": t.kind,
             "description": t.description} for t in found]
    if args.format == "json":
        print_json(rows)
    elif rows:
        print_table(rows, ["database", "table", "kind", "description"])
    else:
        print("no tables" + (f" in {args.database}" if args.database else " yet"))
    return 0


def cmd_describe(args: argparse.Namespace) -> int:
    from lake.config.settings import load_settings
    from lakehouse.cli.context import analyst_spark, print_json, print_table
    from warehouse.sql.browse import describe_table

    settings = load_settings()
    spark = analyst_spark(settings, "describe")
    info = describe_table(spark, args.table, args.database or settings.sql_database)
    if args.format == "json":
        print_json(asdict(info))
        return 0
    print(f"{info.name}  ({info.kind})")
    if info.description:
        print(info.description)
    facts = []
    if info.delta_version is not None:
        facts.append(f"Delta version {info.delta_version}")
    if info.last_modified is not None:
        facts.append(f"last changed {info.last_modified:%Y-%m-%d %H:%M:%S} "
                     f"({_ago(info.last_modified)})")
    if info.rows is not None:
        facts.append(f"rows: {info.rows}")
    if info.contract_version is not None:
        facts.append(f"contract version {info.contract_version}")
    if facts:
        print(", ".join(facts))
    if info.location:
        print(f"location: {info.location}")
    print()
    print_table([{"column": c.name, "type": c.type, "nullable": "yes" if c.nullable else "no",
                  "pii": "PII" if c.pii else "", "description": c.description}
                 for c in info.columns], ["column", "type", "nullable", "pii", "description"])
    return 0


def _ago(when: datetime) -> str:
    moment = when if when.tzinfo else when.replace(tzinfo=UTC)
    seconds = max(0, int((datetime.now(UTC) - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"
