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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lakehouse.cli.lineage_output import open_store, print_payload
from lakehouse.cli.lineage_runs import cmd_artifacts, cmd_diff, cmd_inputs, cmd_reproduce, cmd_runs

NODE_HELP = ("a table (warehouse.fact_orders), a dataset path or URI, an OpenLineage dataset "
             "name, or a job name (validate_orders)")
TIME_HELP = "ISO-8601 date or timestamp, e.g. 2024-01-31 or 2024-01-31T06:00:00+00:00 (UTC if no zone)"

EPILOG = """\
examples:
  lakehouse lineage upstream warehouse.fact_orders --depth 2
  lakehouse lineage downstream retail_bronze.orders --format json
  lakehouse lineage upstream warehouse.fact_orders --as-of 2026-01-02
  lakehouse lineage runs --job validate_orders
  lakehouse lineage inputs RUN_ID --check retail_bronze.orders@4
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


def add_parser(sub: Any) -> None:
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
    _limit_option(p, "runs")
    _format_option(p)
    p.set_defaults(func=_pipe_safe(cmd_runs))

    p = lsub.add_parser("artifacts", help="dataset versions (artifacts), by type and context",
                        description="Dataset versions recorded in the store, oldest first, "
                                    "optionally of one dataset, one artifact type and/or in one "
                                    "context (a DAG or a DAG run id).")
    p.add_argument("--dataset", help="only versions of this dataset: a table, path or URI")
    p.add_argument("--type", help="only artifacts of this type (Dataset)")
    p.add_argument("--context", help="only versions in this context: a DAG or a DAG run id")
    _limit_option(p, "dataset versions")
    _format_option(p)
    p.set_defaults(func=_pipe_safe(cmd_artifacts))

    p = lsub.add_parser("inputs", help="the exact dataset versions a run read",
                        description="The dataset versions RUN read (and wrote). With --check, "
                                    "whether it read DATASET at VERSION: exit 0 if it did, "
                                    "1 if not.")
    p.add_argument("run", help="a run id (see `lakehouse lineage runs`)")
    p.add_argument("--check", metavar="DATASET@VERSION", type=_dataset_version,
                   help="e.g. retail_bronze.orders@4: did the run read that version?")
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

    p = lsub.add_parser("replay", help="deliver spooled events to the store and endpoints",
                        description="Deliver the events that jobs spooled to disk while the "
                                    "store or an HTTP endpoint of LAKEHOUSE_LINEAGE_TRANSPORT was "
                                    "unreachable (the store records none twice).")
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
    from lineage.queries.graph import neighbourhood
    from lineage.views.json_data import to_dict
    from lineage.views.text_tree import render_text

    with open_store() as store:
        graph = neighbourhood(store, args.node, direction=args.direction, depth=args.depth,
                              as_of=args.as_of)
    print_payload(to_dict(graph) if args.format == "json" else render_text(graph), args.format)
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    with open_store() as store:
        events = store.events(args.since)
    if args.format == "json":
        print_payload(events, "json")
    else:
        sys.stdout.writelines(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from lake.config.settings import load_settings
    from lineage.delivery.replay import replay_all
    from lineage.delivery.spool import REJECTED, spooled

    settings = load_settings()
    spool = Path(settings.lineage_spool_dir)
    delivered = replay_all(settings.lineage_transport, store_url=settings.lineage_url,
                           spool_dir=spool)
    drained = sum(delivered.values())
    folders = [spool, *(p for p in spool.glob("http-*") if p.is_dir())]
    waiting = sum(len(spooled(folder)) for folder in folders)
    rejected = sum(len(list((folder / REJECTED).glob("*.json"))) for folder in folders)
    if args.format == "json":
        print_payload({"replayed": drained, "waiting": waiting, "rejected": rejected,
                       "spool_dir": str(spool), "by_destination": delivered}, "json")
    else:
        print(f"replayed {drained} spooled lineage event{'s' if drained != 1 else ''} from "
              f"{spool}; {waiting} waiting, {rejected} rejected"
              + (f" (see {spool / REJECTED})" if rejected else ""))
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    from lineage.queries.graph import neighbourhood
    from lineage.views.json_data import to_dict
    from lineage.views.render import dataset_quality, render

    with open_store() as store:
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
    from lake.config.settings import load_settings
    from lineage.views.server import make_server

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


def _format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text for people (default), json for machines")


def _limit_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--limit", type=_count, default=100, metavar="N",
                        help=f"list the newest N {what} (default 100; 0: all)")


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


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0 (0: all), got {text!r}")
    return int(text)


def _moment(text: str, end_of_day: bool = False) -> Any:
    from lineage.errors import BadRequest
    from lineage.queries.times import parse_moment

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
            f"expected DATASET@VERSION, e.g. shop_bronze.orders@4, got {text!r}")
    return dataset, version.removeprefix("v")
