"""``lakehouse lineage runs|artifacts|inputs|diff|reproduce``: runs and dataset versions, the
exact inputs of a run, what changed between two runs, and how to read a run's inputs again."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lakehouse.cli.lineage_output import change_text, names_of, open_store, print_payload, table, when


def cmd_runs(args: argparse.Namespace) -> int:
    from lineage.views.json_data import jsonable

    with open_store() as store:
        runs = store.executions(job=args.job, context=args.context, limit=args.limit or None)
    if args.format == "json":
        print_payload({"runs": jsonable(runs)}, "json")
        return 0
    if not runs:
        print("no runs recorded" + _filters(args), file=sys.stderr)
        return 0
    rows = [(r.run_id, r.job, r.state, when(r.start_time), when(r.end_time)) for r in runs]
    print(table(("RUN ID", "JOB", "STATE", "STARTED", "ENDED"), rows))
    if args.limit and len(runs) == args.limit:
        print(f"(the newest {args.limit}; --limit 0 lists all)", file=sys.stderr)
    return 0


def cmd_artifacts(args: argparse.Namespace) -> int:
    from lineage.queries.graph import resolve
    from lineage.views.json_data import jsonable

    with open_store() as store:
        keys = resolve(store, args.dataset)[0] if args.dataset else [None]
        found = [a for key in keys for a in store.artifacts(
            name=key, context=args.context, type=args.type, limit=args.limit or None)]
    if args.format == "json":
        print_payload({"artifacts": jsonable(found)}, "json")
        return 0
    if not found:
        print("no dataset versions recorded" + _filters(args), file=sys.stderr)
        return 0
    rows = [(a.tables[0] if a.tables else a.name, f"v{a.version}" if a.version else "-",
             a.properties.get("row_count", "-"), a.state, when(a.create_time)) for a in found]
    print(table(("DATASET", "VERSION", "ROWS", "STATE", "RECORDED"), rows))
    return 0


def cmd_inputs(args: argparse.Namespace) -> int:
    from lineage.queries.graph import resolve
    from lineage.views.json_data import jsonable

    with open_store() as store:
        run = store.run(args.run)
        names = names_of(store, [a.name for a in (*run.inputs, *run.outputs)])
        keys = resolve(store, args.check[0])[0] if args.check else []
    execution = run.execution
    if args.check:
        dataset, version = args.check
        read = [a for a in run.inputs if a.name in keys]
        used = any(a.version == version for a in read)
        if args.format == "json":
            print_payload({"run_id": execution.run_id, "dataset": dataset, "version": version,
                           "used": used, "versions_read": [a.version for a in read]}, "json")
        elif used:
            print(f"yes: run {execution.run_id} ({execution.job}) read {dataset} at version "
                  f"{version}")
        else:
            seen = ", ".join(f"v{a.version}" if a.version else "unversioned" for a in read)
            print(f"no: run {execution.run_id} ({execution.job}) did not read {dataset} at "
                  f"version {version}" + (f"; it read {seen}" if seen else
                                           f"; it did not read {dataset} at all"))
        return 0 if used else 1
    if args.format == "json":
        print_payload(jsonable(run), "json")
        return 0
    print(f"run {execution.run_id}  job {execution.job}  {execution.state}  "
          f"started {when(execution.start_time)}  ended {when(execution.end_time)}")
    for label, artifacts in (("read", run.inputs), ("wrote", run.outputs)):
        print(f"{label}:")
        rows = [(names[a.name], f"v{a.version}" if a.version else "unversioned", a.name)
                for a in artifacts]
        print(table(None, rows, indent="  ") if rows else "  (nothing)")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from lineage.queries.diff import diff_runs
    from lineage.views.json_data import jsonable

    with open_store() as store:
        diff = diff_runs(store, args.run_a, args.run_b)
        keys = [*diff.inputs, *diff.outputs, *diff.output_rows, *diff.schema, *diff.quality]
        names = names_of(store, keys)
    if args.format == "json":
        print_payload(jsonable(diff), "json")
        return 0
    print(f"diff {args.run_a} -> {args.run_b}")
    if diff.same:
        print("no differences")
        return 0
    for section, changes in (("parameters", diff.parameters), ("inputs", diff.inputs),
                             ("outputs", diff.outputs), ("output rows", diff.output_rows)):
        if changes:
            print(f"{section}:")
            for key, change in changes.items():
                print(f"  {names.get(key, key)}: {change_text(change)}")
    if diff.schema:
        print("schema:")
        for key, change in diff.schema.items():
            parts = [f"+{c} {t}" for c, t in change.added]
            parts += [f"-{c} {t}" for c, t in change.removed]
            parts += [f"{c} {a} -> {b}" for c, a, b in change.retyped]
            print(f"  {names.get(key, key)}: {', '.join(parts)}")
    if diff.quality:
        print("quality:")
        for key, change in diff.quality.items():
            parts = [f"{m} {change_text(v)}" for m, v in change.metrics.items()]
            parts += [f"{a} {_outcome(v[0])} -> {_outcome(v[1])}"
                      for a, v in change.assertions.items()]
            print(f"  {names.get(key, key)}: {'; '.join(parts)}")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    import dataclasses

    from lineage.queries.reproduce import input_reads

    with open_store() as store:
        run = store.run(args.run)
        reads = input_reads(store, args.run)
    execution = run.execution
    if args.format == "json":
        print_payload({"run_id": execution.run_id, "job": execution.job,
                       "inputs": [dataclasses.asdict(r) for r in reads]}, "json")
        return 0
    print(f"# inputs of run {execution.run_id} ({execution.job}) at the versions it read")
    for read in reads:
        print(f"\n# {read.table or read.location} "
              + (f"version {read.version}" if read.version else "(no version recorded)"))
        if read.pyspark:
            print(read.pyspark)
            if read.sql:
                print(read.sql + ";")
        else:
            print(f"# not a Delta version: read {read.location} as it landed "
                  "(landing files are never modified)")
    if not reads:
        print("# the run recorded no inputs")
    return 0


def _outcome(passed: Any) -> str:
    return "(not checked)" if passed is None else "passed" if passed else "FAILED"


def _filters(args: argparse.Namespace) -> str:
    names = ("job", "context", "type", "dataset")
    parts = [f"{name} {getattr(args, name)}" for name in names if getattr(args, name, None)]
    return (" for " + " and ".join(parts)) if parts else ""
