"""``lakehouse status``: per source and table, the last run, freshness, rows, quarantined rows
and contract version; per warehouse model, its rows and last load."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    status = sub.add_parser(
        "status", help="last runs, freshness, rows and quarantine per source and table",
        description="For each source (or the ones named): its ingest DAG's last run and state, "
                    "the last batch landed, and per dataset the rows in silver, the rows in "
                    "quarantine, the contract version in effect and when it was last "
                    "validated; then each warehouse model's rows and last load.")
    status.add_argument("names", nargs="*", help="only these sources (default: all)")
    status.add_argument("--format", choices=("text", "json"), default="text")
    status.set_defaults(func=cmd_status)


def cmd_status(args: argparse.Namespace) -> int:
    from lakehouse.cli.context import (
        print_json,
        print_table,
        quiet_stdout,
        settings_and_project,
        spark_session,
    )
    from lakehouse.status import project_status

    settings, project = settings_and_project()
    names = args.names or project.source_names()
    with quiet_stdout():
        spark = spark_session(settings, "status", names)
        report = project_status(spark, settings, project, args.names or None)
    if args.format == "json":
        print_json(report)
        return 0
    for s in report["sources"]:
        if "error" in s:
            print(f"{s['source']}: declaration error: {s['error']}\n")
            continue
        landed = s["last_landed"]
        print(f"{s['source']}  (DAG {s['dag']}: last run {s['last_run_state']}"
              + (f" for {s['last_run']['logical_date']:%Y-%m-%d}" if s["last_run"]
                 and s["last_run"]["logical_date"] else "")
              + (f"; last batch {landed['batch']}, landed {s['freshness']}" if landed else
                 "; nothing landed yet") + ")")
        print_table([{**t, "validated": t["freshness"]} for t in s["tables"]],
                    ["table", "rows", "quarantined", "contract_version", "last_batch",
                     "validated"])
        print()
    if report["warehouse"]:
        print("warehouse")
        print_table(report["warehouse"], ["table", "kind", "rows", "batches_loaded", "freshness"])
    return 0
