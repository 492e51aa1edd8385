"""The ``lakehouse`` command line: scaffold a project, check and run its sources through
Airflow, see their status, query the warehouse, work with contracts, quality and lineage."""

from __future__ import annotations

import argparse
import sys

COMMAND_GROUPS = ("init_cmd", "sources_cmd", "run_cmd", "status_cmd", "dags_cmd", "sql_cmd",
                  "catalog_cmd", "maintain_cmd", "serve_cmd",
                  "contract_cmd", "quality_cmd", "quarantine_cmd", "lineage_cmd", "metastore_cmd")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="lakehouse",
        description="Data lake ingestion and warehouse platform (Airflow, Spark, Delta Lake, "
                    "Great Expectations, OpenLineage). Your sources, contracts and warehouse "
                    "models are declarations in a project folder (LAKEHOUSE_PROJECT, or the "
                    "current directory); settings come from LAKEHOUSE_* variables and everything "
                    "the platform writes lives under LAKEHOUSE_HOME (default ./.lakehouse).",
        epilog="start with: lakehouse init my-lakehouse; then lakehouse sources validate, "
               "lakehouse run SOURCE --ds YYYY-MM-DD, lakehouse status",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_GROUPS:
        importlib.import_module(f"lakehouse.cli.{name}").add_parser(sub)
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
