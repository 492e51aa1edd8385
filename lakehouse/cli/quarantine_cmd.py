"""``lakehouse quarantine replay SOURCE.DATASET``: re-validate quarantined rows, move passing
ones to silver once."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any


def add_parser(sub: Any) -> None:
    quarantine = sub.add_parser("quarantine", help="replay quarantined rows after a fix",
                                description="Work with the rows validation held back.")
    cmds = quarantine.add_subparsers(dest="quarantine_command", required=True)
    replay = cmds.add_parser(
        "replay", help="re-validate quarantined rows and move the passing ones to silver",
        description="Re-type and re-validate the quarantined rows of DATASET (or of --batch B) "
                    "under the contract version now in effect and against the keys now in "
                    "silver; rows that pass move to silver exactly once (replaying twice changes "
                    "nothing). Rows that still fail stay, with their reasons.",
        epilog="example:\n  lakehouse quarantine replay retail.orders --batch 20260102-001",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    replay.add_argument("dataset", help="retail.orders, retail_quarantine.orders, or orders when "
                                        "only one source has it")
    replay.add_argument("--batch", default=None,
                        help="one batch id, e.g. 20260102-001 (default: all)")
    replay.add_argument("--format", choices=("text", "json"), default="text")
    replay.set_defaults(func=cmd_replay)


def cmd_replay(args: argparse.Namespace) -> int:
    from jobs.run import JobArgs, lineage_run, read_ref, table_ref
    from lake.config.sources import resolve_dataset, source_of
    from lake.platform.batch_ids import check_batch_id
    from lake.platform.catalog import table
    from lake.platform.delta import TableWrite, table_location
    from lake.quality.replay import replay_quarantine
    from lakehouse.cli.context import progress, settings_and_project, spark_session

    settings, project = settings_and_project()
    source_name, dataset = resolve_dataset(project, args.dataset)
    if args.batch:
        check_batch_id(args.batch)
    source = source_of(project, source_name)
    spark = spark_session(settings, "quarantine-replay", [source_name])
    job = JobArgs("replay_quarantine", source_name, batches=(args.batch,) if args.batch else ())
    quarantine = table(source_name, "quarantine", dataset)
    progress(f"replaying {quarantine}" + (f" batch {args.batch}" if args.batch else
                                          " (every batch)") + " ...")
    with lineage_run(spark, settings, job) as record:
        result = replay_quarantine(spark, contracts=source.contracts, dataset=dataset,
                                   batch_id=args.batch, replayed_at=datetime.now(UTC))
        record.inputs.append(read_ref(spark, quarantine, None))
        for zone, version in (("silver", result.silver_version),
                              ("quarantine", result.quarantine_version)):
            name = table(source_name, zone, dataset)
            record.outputs.append(table_ref(spark, TableWrite(
                name, version, result.moved > 0, table_location(spark, name), result.moved)))
        record.parameters.update({"dataset": dataset, "batch": args.batch or "all",
                                  f"contract.{dataset}": str(result.contract_version)})
    if args.format == "json":
        print(json.dumps(result.__dict__, indent=2))
        return 0
    print(f"{result.moved} of {result.candidates} quarantined rows moved to "
          f"{table(source_name, 'silver', dataset)} "
          f"(contract v{result.contract_version})")
    for batch, n in sorted(result.moved_by_batch.items()):
        print(f"  batch {batch}: {n}")
    if result.still_failing:
        print("still quarantined, by rule:")
        for rule, n in sorted(result.still_failing.items(), key=lambda kv: -kv[1]):
            print(f"  {rule:<40} {n:>6}")
    return 0
