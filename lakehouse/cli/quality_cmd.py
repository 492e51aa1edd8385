"""``lakehouse quality report SOURCE.DATASET``: the anomaly reports of a dataset's batches."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    quality = sub.add_parser("quality", help="data-quality reports (anomalies per batch)",
                             description="Data-quality reports of validated batches.")
    cmds = quality.add_subparsers(dest="quality_command", required=True)
    report = cmds.add_parser(
        "report", help="anomalies and counts of a dataset's batches",
        description="The anomaly report of every validated batch of DATASET (or --batch B): new "
                    "or missing columns, type changes, unexpected values, out-of-range values, "
                    "null fractions, low row counts and drift against the previous batch, with "
                    "the batch's row counts and a link to the Great Expectations Data Docs.",
        epilog="examples:\n  lakehouse quality report retail.orders\n"
               "  lakehouse quality report retail.orders --batch 20260103-001 --format json\n"
               "  lakehouse quality report retail.orders --format html --output orders.html",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    report.add_argument("dataset", help="retail.orders, retail_silver.orders, or orders when only "
                                        "one source has it")
    report.add_argument("--batch", default=None,
                        help="one batch id, e.g. 20260103-001 (default: all)")
    report.add_argument("--format", choices=("text", "json", "html"), default="text")
    report.add_argument("--output", type=Path, default=None,
                        help="write to this file instead of standard output")
    report.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from lake.config.sources import resolve_dataset
    from lake.quality.report import load_report, render
    from lakehouse.cli.context import settings_and_project, spark_session

    settings, project = settings_and_project()
    source, dataset = resolve_dataset(project, args.dataset)
    spark = spark_session(settings, "quality", [source])
    text = render(load_report(spark, source, dataset, args.batch), args.format)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(text)
    return 0
