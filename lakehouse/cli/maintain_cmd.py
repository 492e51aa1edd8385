"""``lakehouse maintain``: compact, cluster and vacuum the project's tables now (what the
``lakehouse_maintenance`` DAG does on its schedule)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any


def add_parser(sub: Any) -> None:
    maintain = sub.add_parser(
        "maintain", help="compact, cluster and vacuum the project's Delta tables",
        description="OPTIMIZE every zone, metadata and warehouse table (clustered or Z-ordered "
                    "as the models' layout declares), then VACUUM files older than "
                    "maintenance.time_travel_days of lakehouse.yaml (default 30), never "
                    "younger: time travel inside that window keeps working. The "
                    "lakehouse_maintenance DAG runs the same job on maintenance.schedule.",
        epilog="example: lakehouse maintain --dry-run; lakehouse maintain --table "
               "warehouse.fact_orders")
    maintain.add_argument("--table", action="append", default=[], dest="tables",
                          help="only this table (DATABASE.TABLE); repeat for several")
    maintain.add_argument("--dry-run", action="store_true",
                          help="change nothing; say how many files VACUUM would remove")
    maintain.add_argument("--format", choices=("text", "json"), default="text")
    maintain.set_defaults(func=cmd_maintain)


def cmd_maintain(args: argparse.Namespace) -> int:
    from jobs import maintain
    from jobs.run import execute
    from lakehouse.cli.context import print_json, print_table, progress, quiet_stdout

    argv = [a for t in args.tables for a in ("--table", t)] + (
        ["--dry-run"] if args.dry_run else [])
    done: list = []
    progress("starting Spark ...")
    with quiet_stdout():
        execute(maintain.parse_args(argv),
                lambda *a: done.extend(maintain.body(*a)))
    if args.format == "json":
        print_json([asdict(u) for u in done])
        return 0
    print_table([{"table": u.table, "files_before": u.files_before, "files_after": u.files_after,
                  "compacted": u.files_compacted,
                  ("would_vacuum" if args.dry_run else "vacuumed"): u.files_vacuumed,
                  "retained_hours": u.retained_hours} for u in done],
                ["table", "files_before", "files_after", "compacted",
                 "would_vacuum" if args.dry_run else "vacuumed", "retained_hours"])
    return 0
