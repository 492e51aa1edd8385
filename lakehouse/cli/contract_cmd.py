"""``lakehouse contract …``: propose a contract from a dataset's files, list and show its versions."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from typing import Any

EPILOG = """\
examples:
  lakehouse contract infer retail.orders > sources/retail/contracts/orders.yaml
  lakehouse contract infer retail.orders --ds 2026-01-03
  lakehouse contract history retail.orders
  lakehouse contract show retail.orders --version 2
"""


def add_parser(sub: Any) -> None:
    contract = sub.add_parser(
        "contract", help="infer, list and show dataset contracts",
        description="Dataset contracts: propose one from a dataset's files, list the versions a "
                    "dataset went through (declared in the project or written by schema "
                    "evolution), print one as YAML.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    cmds = contract.add_subparsers(dest="contract_command", required=True)
    infer = cmds.add_parser(
        "infer", help="propose a contract from the dataset's files (YAML)",
        description="Read the dataset's landed files (or, before its first run, the files of "
                    "its newest delivery, or of --ds) raw and print a proposed contract as "
                    "YAML: types, nullability, observed ranges widened by a margin, categorical "
                    "domains, keys. Review it before committing it to the project.")
    infer.add_argument("dataset", help="SOURCE.DATASET, e.g. retail.orders")
    infer.add_argument("--ds", type=date.fromisoformat, default=None,
                       help="read the delivery of this logical date, YYYY-MM-DD")
    infer.set_defaults(func=cmd_infer)
    history = cmds.add_parser("history", help="list a dataset's contract versions",
                              description="Every registered version of the dataset's contract: "
                                          "its origin (project or evolution), the first batch "
                                          "it applied to, when and why.")
    history.add_argument("dataset", help="SOURCE.DATASET, e.g. retail.orders")
    history.add_argument("--format", choices=("text", "json"), default="text")
    history.set_defaults(func=cmd_history)
    show = cmds.add_parser("show", help="print a contract version as YAML",
                           description="Print the latest (or --version N) registered contract "
                                       "of the dataset as YAML, e.g. to copy an evolved version "
                                       "into the project.")
    show.add_argument("dataset", help="SOURCE.DATASET, e.g. retail.orders")
    show.add_argument("--version", type=int, default=None, help="version number (default: latest)")
    show.set_defaults(func=cmd_show)


def cmd_infer(args: argparse.Namespace) -> int:
    from lake.config.sources import source_of
    from lake.contracts.inference import infer_contract
    from lake.errors import ConfigError
    from lakehouse.cli.context import settings_and_project, spark_session

    settings, project = settings_and_project()
    source_name, _, dataset = args.dataset.partition(".")
    if not dataset:
        raise ConfigError(f"name the dataset as SOURCE.DATASET (e.g. shop.{source_name}); "
                          "`lakehouse sources list` shows the sources")
    source = source_of(project, source_name, require_contracts=False)
    spark = spark_session(settings, "contract", [source_name])
    contract, origin = infer_contract(spark, settings, source, dataset, datetime.now(UTC).date(),
                                      args.ds)
    path = project.relative(project.contracts_dir(source_name) / f"{dataset}.yaml")
    print(f"# Proposed by `lakehouse contract infer {args.dataset}` from {origin}.\n# Review "
          f"types, ranges, accepted values and keys before committing it to {path}.")
    print(contract.to_yaml(), end="")
    return 0


def _versions(args: argparse.Namespace):
    from lake.config.sources import resolve_dataset, source_of
    from lake.contracts.versions import history
    from lake.errors import ConfigError
    from lakehouse.cli.context import settings_and_project, spark_session

    settings, project = settings_and_project()
    source_name, dataset = resolve_dataset(project, args.dataset)
    declared = source_of(project, source_name).contracts[dataset]
    spark = spark_session(settings, "contract", [source_name])
    versions = history(spark, source_name, dataset).get(dataset, [])
    if not versions:
        raise ConfigError(f"no version of {source_name}.{dataset} is registered yet: versions are "
                          f"registered when a batch first uses them (`lakehouse run "
                          f"{source_name}`)")
    path = project.relative(project.contracts_dir(source_name) / f"{dataset}.yaml")
    return declared, versions, path


def cmd_history(args: argparse.Namespace) -> int:
    from lakehouse.cli.context import print_json

    declared, versions, path = _versions(args)
    name = f"{declared.source}.{declared.dataset}"
    rows = [{"version": v.version, "origin": v.origin, "effective_batch": v.effective_batch,
             "recorded_at": v.recorded_at.isoformat(), "reason": v.reason,
             "columns": len(v.contract.columns)} for v in versions]
    if args.format == "json":
        print_json({"dataset": name, "versions": rows})
        return 0
    print(f"Contract versions of {name} ({path} is at v{declared.version}):")
    for r in rows:
        print(f"  v{r['version']:<3} {r['origin']:<9} from batch {r['effective_batch']}  "
              f"{r['recorded_at'][:19]}  {r['columns']} columns  {r['reason']}")
    latest = versions[-1].version
    if latest > declared.version:
        print(f"\nThe project is behind: copy `lakehouse contract show {name}` into {path} to "
              f"adopt v{latest}.", file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from lake.errors import ConfigError

    declared, versions, _ = _versions(args)
    chosen = versions[-1] if args.version is None else next(
        (v for v in versions if v.version == args.version), None)
    if chosen is None:
        raise ConfigError(f"{declared.source}.{declared.dataset} has no version {args.version}; "
                          "versions: " + ", ".join(str(v.version) for v in versions))
    print(chosen.contract.to_yaml(), end="")
    return 0
