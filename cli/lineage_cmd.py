"""``lakehouse lineage …``: walk, compare, reproduce, export, draw and serve the lineage store.

Every query reads the metadata store named by the settings (``LAKEHOUSE_LINEAGE_URL``, default
``$LAKEHOUSE_HOME/lineage.db``) and answers as text or, with ``--format json``, as JSON. An
unknown node or run exits 2 with a message that says what is known.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lineage.records import Artifact
    from lineage.store import MetadataStore

NODE_HELP = ("a table (warehouse.fact_orders), a dataset path or URI, an OpenLineage dataset "
             "name, or a job name (validate_orders)")
TIME_HELP = "ISO-8601 date or timestamp, e.g. 2024-01-31 or 2024-01-31T06:00:00+00:00 (UTC if no zone)"

EPILOG = """\
examples:
  lakehouse lineage upstream warehouse.fact_orders --depth 2
  lakehouse lineage downstream bronze.orders --format json
  lakehouse lineage upstream warehouse.fact_orders --as-of 2026-01-02
  lakehouse lineage runs --job validate_orders
  lakehouse lineage inputs RUN_ID --check bronze.orders@4
  lakehouse lineage diff RUN_A RUN_B
  lakehouse lineage reproduce RUN_ID
  lakehouse lineage events --since 2026-01-01 --format openlineage > events.ndjson
  lakehouse lineage graph warehouse.fact_orders --format html --output lineage.html
  lakehouse lineage serve --port 5055
"""


def _pipe_safe(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``lakehouse lineage events | head`` ends quietly, not with a BrokenPipeError traceback."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            code = command(args)
            sys.stdout.flush()
            return code
        except BrokenPipeError:
            # Python flushes stdout again at exit: point it at /dev/null so that is quiet too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1

    return run


def add_lineage_parser(sub: Any) -> None:
    """Register ``lineage`` and its subcommands on the top-level subparsers ``sub``."""
    lineage = sub.add_parser(
        "lineage", help="query, compare, draw and serve lineage from the metadata store",
        description="Walk the lineage metadata store (OpenLineage events recorded in the ML "
                    "Metadata model): what a table came from and feeds, which runs built it "
                    "from which input versions, what changed between runs.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lsub = lineage.add_subparsers(dest="lineage_command", required=True, metavar="COMMAND")

    for direction in ("upstream", "downstream"):
        p = lsub.add_parser(
            direction,
            help=f"datasets and jobs {direction} of a node",
            description=f"Datasets and jobs {direction} of NODE, to --depth jobs away "
                        "(default: all the way), optionally as the graph stood at --as-of.",
        )
        p.add_argument("node", help=NODE_HELP)
        _depth_option(p)
        _as_of_option(p)
        _format_option(p)
        p.set_defaults(func=_pipe_safe(cmd_walk), direction=direction)

    p = lsub.add_parser("runs", help="runs (executions), by job and context",
                        description="Runs recorded in the store, oldest first, optionally of "
                                    "one job and/or in one context (a DAG or a DAG run id).")
    p.add_argument("--job", help="only runs of this job, e.g. validate_orders")
    p.add_argument("--context", help="only runs in this context: a DAG (retail_daily) or a DAG "
                                     "run id")
    _format_option(p)
    p.set_defaults(func=_pipe_safe(cmd_runs))

    p = lsub.add_parser("inputs", help="the exact dataset versions a run read",
                        description="The dataset versions RUN read (and wrote). With --check, "
                                    "whether it read DATASET at VERSION: exit 0 if it did, "
                                    "1 if not.")
    p.add_argument("run", help="a run id (see `lakehouse lineage runs`)")
    p.add_argument("--check", metavar="DATASET@VERSION", type=_dataset_version,
                   help="e.g. bronze.orders@4: did the run read that version?")
    _format_option(p)
    p.set_defaults(func=_pipe_safe(cmd_inputs))

    p = lsub.add_parser("diff", help="what changed between two runs",
                        description="Parameters, input and output versions (and whatever else "
                                    "the store compares) that differ between RUN_A and RUN_B.")
    p.add_argument("run_a", help="the first run id")
    p.add_argument("run_b", help="the second run id")
    _format_option(p)
    p.set_defaults(func=_pipe_safe(cmd_diff))

    p = lsub.add_parser("reproduce", help="read commands for a run's inputs, via time travel",
                        description="Print, for each input RUN read, the Delta time-travel read "
                                    "(PySpark and SQL) of the exact version it used.")
    p.add_argument("run", help="a run id (see `lakehouse lineage runs`)")
    _format_option(p)
    p.set_defaults(func=_pipe_safe(cmd_reproduce))

    p = lsub.add_parser("events", help="the stored OpenLineage events (NDJSON)",
                        description="The raw OpenLineage events in the store, oldest first: "
                                    "one JSON event per line (openlineage), or a JSON array.")
    p.add_argument("--since", type=_moment, help=f"only events at or after this time; {TIME_HELP}")
    p.add_argument("--format", choices=("openlineage", "json"), default="openlineage",
                   help="openlineage: NDJSON, one event per line (default); json: one array")
    p.set_defaults(func=_pipe_safe(cmd_events))

    p = lsub.add_parser("replay", help="deliver spooled events to the metadata store",
                        description="Ingest the events that jobs spooled to disk while the "
                                    "store was unreachable (idempotent: none is recorded twice).")
    _format_option(p)
    p.set_defaults(func=_pipe_safe(cmd_replay))

    p = lsub.add_parser("graph", help="draw a node's lineage: mermaid, dot, svg or html",
                        description="Draw the lineage of NODE: datasets (with versions and "
                                    "data-quality status) and jobs. html is a self-contained "
                                    "page that works offline.")
    p.add_argument("node", help=NODE_HELP)
    p.add_argument("--format", choices=("mermaid", "dot", "svg", "html", "json"),
                   default="mermaid", help="output format (default mermaid)")
    p.add_argument("--direction", choices=("both", "upstream", "downstream"), default="both",
                   help="which way to walk from NODE (default both)")
    _depth_option(p)
    _as_of_option(p)
    p.add_argument("--output", "-o", type=Path, metavar="FILE",
                   help="write to FILE instead of standard output")
    p.set_defaults(func=_pipe_safe(cmd_graph))

    p = lsub.add_parser("serve", help="HTTP server: event endpoint, JSON queries, graph pages",
                        description="Serve POST /api/v1/lineage (OpenLineage events, as Marquez "
                                    "takes them), JSON queries under /api/v1 and graph pages at "
                                    "/graph?node=NODE, until Ctrl-C.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; the "
                                                       "server has no authentication)")
    p.add_argument("--port", type=int, default=5055, help="port (default 5055; 0 picks one)")
    p.set_defaults(func=cmd_serve)


# ------------------------------------------------------------------ commands


def cmd_walk(args: argparse.Namespace) -> int:
    from lineage.queries import render_text, to_dict
    from lineage.render import neighbourhood

    with _store() as store:
        graph = neighbourhood(store, args.node, direction=args.direction, depth=args.depth,
                              as_of=args.as_of)
    _print(to_dict(graph) if args.format == "json" else render_text(graph), args.format)
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from lineage.server import jsonable

    with _store() as store:
        runs = store.executions(job=args.job, context=args.context)
    if args.format == "json":
        _print({"runs": jsonable(runs)}, "json")
        return 0
    if not runs:
        print("no runs recorded" + _filters(args), file=sys.stderr)
        return 0
    rows = [(r.run_id, r.job, r.state, _when(r.start_time), _when(r.end_time)) for r in runs]
    print(_table(("RUN ID", "JOB", "STATE", "STARTED", "ENDED"), rows))
    return 0


def cmd_inputs(args: argparse.Namespace) -> int:
    from lineage.queries import resolve
    from lineage.server import jsonable

    with _store() as store:
        run = store.run(args.run)
        names = _names(store, [a.name for a in (*run.inputs, *run.outputs)])
        keys = resolve(store, args.check[0])[0] if args.check else []
    execution = run.execution
    if args.check:
        dataset, version = args.check
        read = [a for a in run.inputs if a.name in keys]
        used = any(a.version == version for a in read)
        if args.format == "json":
            _print({"run_id": execution.run_id, "dataset": dataset, "version": version,
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
        _print(jsonable(run), "json")
        return 0
    print(f"run {execution.run_id}  job {execution.job}  {execution.state}  "
          f"started {_when(execution.start_time)}  ended {_when(execution.end_time)}")
    for label, artifacts in (("read", run.inputs), ("wrote", run.outputs)):
        print(f"{label}:")
        rows = [(names[a.name], f"v{a.version}" if a.version else "unversioned", a.name)
                for a in artifacts]
        print(_table(None, rows, indent="  ") if rows else "  (nothing)")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    import dataclasses

    from lineage.queries import diff_runs
    from lineage.server import jsonable

    with _store() as store:
        diff = diff_runs(store, args.run_a, args.run_b)
        sections = {
            f.name: getattr(diff, f.name) for f in dataclasses.fields(diff)
            if f.name not in ("run_a", "run_b")
        }
        keys = [k for value in sections.values() if isinstance(value, dict) for k in value]
        names = _names(store, keys)
    if args.format == "json":
        _print(jsonable(diff), "json")
        return 0
    print(f"diff {args.run_a} -> {args.run_b}")
    if not any(sections.values()):
        print("no differences")
        return 0
    for section, value in sections.items():
        if not value:
            continue
        print(f"{section.replace('_', ' ')}:")
        if isinstance(value, dict):
            for key, change in value.items():
                print(f"  {names.get(key, key)}: {_change(change)}")
        else:
            print("  " + json.dumps(jsonable(value), default=str))
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    with _store() as store:
        run = store.run(args.run)
        names = _names(store, [a.name for a in run.inputs])
    reads = [_read_command(a, names[a.name]) for a in run.inputs]
    execution = run.execution
    if args.format == "json":
        _print({"run_id": execution.run_id, "job": execution.job, "inputs": reads}, "json")
        return 0
    print(f"# inputs of run {execution.run_id} ({execution.job}) at the versions it read")
    for read in reads:
        print(f"\n# {read['table'] or read['location']} "
              + (f"version {read['version']}" if read["version"] else "(no version recorded)"))
        if read["pyspark"]:
            print(read["pyspark"])
            if read["sql"]:
                print(read["sql"] + ";")
        else:
            print(f"# not a Delta version: read {read['location']} as it landed "
                  "(landing files are never modified)")
    if not reads:
        print("# the run recorded no inputs")
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    with _store() as store:
        events = store.events(args.since)
    if args.format == "json":
        _print(events, "json")
    else:
        sys.stdout.writelines(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from lake.settings import load_settings
    from lineage.spool import REJECTED, replay_spool, spooled

    settings = load_settings()
    spool = Path(settings.lineage_spool_dir)
    drained = replay_spool(settings.lineage_url, spool)
    waiting = len(spooled(spool))
    rejected = len(list((spool / REJECTED).glob("*.json"))) if (spool / REJECTED).is_dir() else 0
    if args.format == "json":
        _print({"replayed": drained, "waiting": waiting, "rejected": rejected,
                "spool_dir": str(spool)}, "json")
    else:
        print(f"replayed {drained} spooled lineage event{'s' if drained != 1 else ''} from "
              f"{spool}; {waiting} waiting, {rejected} rejected"
              + (f" (see {spool / REJECTED})" if rejected else ""))
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    from lineage.queries import to_dict
    from lineage.render import dataset_quality, neighbourhood, render

    with _store() as store:
        graph = neighbourhood(store, args.node, direction=args.direction, depth=args.depth,
                              as_of=args.as_of)
        quality = dataset_quality(store, graph)
    if args.format == "json":
        data = to_dict(graph)
        for node in data["nodes"]:
            check = quality.get(node["id"])
            node["quality"] = None if check is None else {
                "passed": check.passed, "version": check.version, "failed": list(check.failed)}
        text = json.dumps(data, indent=2, default=str) + "\n"
    else:
        text = render(graph, args.format, quality)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote the {args.format} lineage graph of {args.node} "
              f"({len(graph.nodes)} nodes) to {args.output}", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from lake.settings import load_settings
    from lineage.server import make_server

    try:
        server = make_server(load_settings().lineage_url, args.host, args.port)
    except OSError as err:
        print(f"lakehouse lineage serve: cannot listen on {args.host}:{args.port}: "
              f"{err.strerror or err}; pick another --port", file=sys.stderr)
        return 2
    print(f"lineage server on {server.url} (graph pages at {server.url}/graph?node=TABLE, "
          "events to POST /api/v1/lineage); Ctrl-C to stop", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0


# ------------------------------------------------------------------ helpers


@contextmanager
def _store() -> Iterator[MetadataStore]:
    from lake.settings import load_settings
    from lineage.store import MetadataStore

    store = MetadataStore(load_settings().lineage_url)
    try:
        yield store
    finally:
        store.close()


def _format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text for people (default), json for machines")


def _depth_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--depth", type=_depth, default=None, metavar="N",
                        help="jobs to walk away from the node (default: no limit; 0: the node)")


def _as_of_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", dest="as_of", type=_as_of, default=None, metavar="TIME",
                        help="the graph as it stood at TIME (a bare date means the end of that "
                             f"day); {TIME_HELP}")


def _depth(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number of jobs >= 0, got {text!r}")
    return int(text)


def _moment(text: str, end_of_day: bool = False) -> Any:
    from lineage.server import BadRequest, parse_moment

    try:
        return parse_moment(text, end_of_day=end_of_day)
    except BadRequest as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _as_of(text: str) -> Any:
    return _moment(text, end_of_day=True)


def _dataset_version(text: str) -> tuple[str, str]:
    dataset, at, version = text.rpartition("@")
    if not at or not dataset or not version:
        raise argparse.ArgumentTypeError(
            f"expected DATASET@VERSION, e.g. bronze.orders@4, got {text!r}")
    return dataset, version.removeprefix("v")


def _print(payload: Any, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(payload, indent=2, default=str))
    else:
        print(payload)


def _names(store: MetadataStore, keys: list[str]) -> dict[str, str]:
    """Dataset key -> its table name if it has one, else its name (path)."""
    if not keys:
        return {}
    summaries = store.datasets(set(keys))
    return {k: (s.tables[0] if s.tables else s.name) for k, s in summaries.items()} | {
        k: k for k in keys if k not in summaries
    }


def _read_command(artifact: Artifact, name: str) -> dict[str, Any]:
    location = artifact.uri.replace("s3://", "s3a://", 1) if artifact.uri.startswith(
        "s3://") else artifact.uri
    table = artifact.tables[0] if artifact.tables else None
    delta = artifact.version is not None and artifact.version.isdigit()
    pyspark = sql = None
    if delta:
        pyspark = (f'spark.read.format("delta").option("versionAsOf", {artifact.version})'
                   f".load({json.dumps(location)})")
        sql = f"SELECT * FROM {table} VERSION AS OF {artifact.version}" if table else None
    return {"dataset": artifact.name, "table": table or (name if name != artifact.name else None),
            "location": location, "version": artifact.version, "delta": delta,
            "pyspark": pyspark, "sql": sql}


def _change(change: Any) -> str:
    if isinstance(change, tuple | list) and len(change) == 2:
        a, b = change
        return f"{_value(a)} -> {_value(b)}"
    return json.dumps(change, default=str)


def _value(value: Any) -> str:
    return "(none)" if value is None else str(value)


def _when(moment: Any) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "-"


def _filters(args: argparse.Namespace) -> str:
    parts = [f"{name} {value}" for name, value in (("job", args.job), ("context", args.context))
             if value]
    return (" for " + " and ".join(parts)) if parts else ""


def _table(header: tuple[str, ...] | None, rows: list[tuple[Any, ...]], indent: str = "") -> str:
    lines = ([header] if header else []) + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        indent + "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
