"""``lakehouse contract …``: propose a contract from landed data, list and show its versions."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

EPILOG = """\
examples:
  lakehouse contract infer bronze.orders > orders.yaml
  lakehouse contract history orders
  lakehouse contract show orders --version 2
"""


def add_contract_parser(sub: Any) -> None:
    contract = sub.add_parser(
        "contract", help="infer, list and show dataset contracts",
        description="Dataset contracts: propose one from what has landed, list the versions a "
                    "dataset went through (declared in lake/contracts/ or written by schema "
                    "evolution), print one as YAML.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    cmds = contract.add_subparsers(dest="contract_command", required=True)

    infer = cmds.add_parser("infer", help="propose a contract from the landed batches (YAML)",
                            description="Read every landed batch of DATASET raw and print a "
                                        "proposed contract as YAML: types, nullability, observed "
                                        "ranges widened by a margin, categorical domains, keys. "
                                        "Review it before committing it.")
    infer.add_argument("dataset", help="orders, bronze.orders or retail.orders")
    infer.set_defaults(func=cmd_infer)

    history = cmds.add_parser("history", help="list a dataset's contract versions",
                              description="Every registered version of the dataset's contract: "
                                          "its origin (repo or evolution), the first batch it "
                                          "applied to, when and why.")
    history.add_argument("dataset", help="orders, bronze.orders or retail.orders")
    history.add_argument("--format", choices=("text", "json"), default="text")
    history.set_defaults(func=cmd_history)

    show = cmds.add_parser("show", help="print a contract version as YAML",
                           description="Print the latest (or --version N) registered contract "
                                       "of DATASET as YAML, e.g. to copy an evolved version into "
                                       "lake/contracts/.")
    show.add_argument("dataset", help="orders, bronze.orders or retail.orders")
    show.add_argument("--version", type=int, default=None, help="version number (default: latest)")
    show.set_defaults(func=cmd_show)


def _session():
    from lake.settings import load_settings
    from lake.spark import ensure_databases, get_session

    settings = load_settings()
    spark = get_session(settings, app_name="lakehouse-contract")
    ensure_databases(spark, settings)
    return settings, spark


def cmd_infer(args: argparse.Namespace) -> int:
    from lake.contract_inference import infer_contract

    settings, spark = _session()
    contract, batches = infer_contract(spark, settings.landing_root, args.dataset,
                                       datetime.now(UTC).date())
    print(f"# Proposed by `lakehouse contract infer {args.dataset}` from {batches} landed "
          "batch(es).\n# Review types, ranges, accepted values and keys before committing it to "
          f"lake/contracts/{contract.source}/{contract.dataset}.yaml.")
    print(contract.to_yaml(), end="")
    return 0


def _versions(spark, dataset: str):
    from lake.contract import find_contract
    from lake.contract_registry import history
    from lake.errors import ConfigError

    repo = find_contract(dataset)
    versions = history(spark, repo.source, repo.dataset).get(repo.dataset, [])
    if not versions:
        raise ConfigError(f"no version of {repo.source}.{repo.dataset} is registered yet: versions "
                          "are registered when a batch first uses them (run the DAG)")
    return repo, versions


def cmd_history(args: argparse.Namespace) -> int:
    _, spark = _session()
    repo, versions = _versions(spark, args.dataset)
    rows = [{"version": v.version, "origin": v.origin, "effective_batch": v.effective_batch,
             "recorded_at": v.recorded_at.isoformat(), "reason": v.reason,
             "columns": len(v.contract.columns)} for v in versions]
    if args.format == "json":
        print(json.dumps({"dataset": f"{repo.source}.{repo.dataset}", "versions": rows}, indent=2))
        return 0
    print(f"Contract versions of {repo.source}.{repo.dataset} "
          f"(lake/contracts/{repo.source}/{repo.dataset}.yaml is at v{repo.version}):")
    for r in rows:
        print(f"  v{r['version']:<3} {r['origin']:<9} from batch {r['effective_batch']}  "
              f"{r['recorded_at'][:19]}  {r['columns']} columns  {r['reason']}")
    latest = versions[-1].version
    if latest > repo.version:
        print(f"\nThe repo is behind: copy `lakehouse contract show {repo.dataset}` into "
              f"lake/contracts/{repo.source}/{repo.dataset}.yaml to adopt v{latest}.",
              file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from lake.errors import ConfigError

    _, spark = _session()
    repo, versions = _versions(spark, args.dataset)
    chosen = versions[-1] if args.version is None else next(
        (v for v in versions if v.version == args.version), None)
    if chosen is None:
        raise ConfigError(f"{repo.source}.{repo.dataset} has no version {args.version}; versions: "
                          + ", ".join(str(v.version) for v in versions))
    print(chosen.contract.to_yaml(), end="")
    return 0
