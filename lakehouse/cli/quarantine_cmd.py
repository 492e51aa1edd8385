"""``lakehouse quarantine replay DATASET``: re-validate quarantined rows, move passing ones once."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any


def add_quarantine_parser(sub: Any) -> None:
    quarantine = sub.add_parser("quarantine", help="replay quarantined rows after a fix",
                                description="Work with the rows validation held back.")
    cmds = quarantine.add_subparsers(dest="quarantine_command", required=True)
    replay = cmds.add_parser(
        "replay", help="re-validate quarantined rows and move the passing ones to silver",
        description="Re-type and re-validate the quarantined rows of DATASET (or of --batch B) "
                    "under the contract version now in effect and against the keys now in "
                    "silver; rows that pass move to silver exactly once (replaying twice changes "
                    "nothing). Rows that still fail stay, with their reasons.",
        epilog="example:\n  lakehouse quarantine replay orders --batch 20260102",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    replay.add_argument("dataset", help="orders, quarantine.orders or retail.orders")
    replay.add_argument("--batch", default=None, help="one batch id, e.g. 20260102 (default: all)")
    replay.add_argument("--format", choices=("text", "json"), default="text")
    replay.set_defaults(func=cmd_replay)


def cmd_replay(args: argparse.Namespace) -> int:
    from jobs.run import JobArgs, lineage_run, read_ref, table_ref
    from lake.contract import find_contract, source_contracts
    from lake.delta_io import TableWrite, table_location
    from lake.replay import replay_quarantine
    from lake.settings import load_settings
    from lake.spark import ensure_databases, get_session

    settings = load_settings()
    repo = find_contract(args.dataset)
    spark = get_session(settings, app_name="lakehouse-quarantine-replay")
    ensure_databases(spark, settings)
    day = (datetime.strptime(args.batch, "%Y%m%d").date() if args.batch
           else datetime.now(UTC).date())
    job = JobArgs("replay_quarantine", day, repo.source, False)
    print(f"replaying quarantine.{repo.dataset}"
          + (f" batch {args.batch}" if args.batch else " (every batch)") + " ...", file=sys.stderr)
    with lineage_run(spark, settings, job) as record:
        result = replay_quarantine(spark, contracts=source_contracts(repo.source),
                                   dataset=repo.dataset, batch_id=args.batch,
                                   replayed_at=datetime.now(UTC))
        record.inputs.append(read_ref(spark, f"quarantine.{repo.dataset}", None))
        for zone, version in (("silver", result.silver_version),
                              ("quarantine", result.quarantine_version)):
            table = f"{zone}.{repo.dataset}"
            record.outputs.append(table_ref(spark, TableWrite(
                table, version, result.moved > 0, table_location(spark, table), result.moved)))
        record.parameters.update({"dataset": repo.dataset, "batch": args.batch or "all",
                                  f"contract.{repo.dataset}": str(result.contract_version)})
    if args.format == "json":
        print(json.dumps(result.__dict__, indent=2))
        return 0
    print(f"{result.moved} of {result.candidates} quarantined rows moved to silver.{repo.dataset} "
          f"(contract v{result.contract_version})")
    for batch, n in sorted(result.moved_by_batch.items()):
        print(f"  batch {batch}: {n}")
    if result.still_failing:
        print("still quarantined, by rule:")
        for rule, n in sorted(result.still_failing.items(), key=lambda kv: -kv[1]):
            print(f"  {rule:<40} {n:>6}")
    return 0
