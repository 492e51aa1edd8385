"""``lakehouse run`` and ``lakehouse backfill``: a source's ingest DAG through Airflow for one
logical date or a range, then the warehouse DAGs that read it."""

from __future__ import annotations

import argparse
from datetime import date, datetime, timedelta
from typing import Any

MAX_BACKFILL_DAYS = 3660


def add_parser(sub: Any) -> None:
    run = sub.add_parser(
        "run", help="run a source's DAG (or a warehouse DAG) through Airflow",
        description="Run the ingest DAG of SOURCE for one logical date through Airflow (a "
                    "DagRun in Airflow's database; land, bronze and validate with real "
                    "spark-submit jobs), then every warehouse DAG scheduled on its tables, as "
                    "Airflow's scheduler does on their Asset events. NAME may also be a "
                    "warehouse DAG, which then runs alone.",
        epilog="examples:\n  lakehouse run retail --ds 2026-01-03\n"
               "  lakehouse run retail --ds 2026-01-04 --environment SERVING\n"
               "  lakehouse run warehouse",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("name", help="a source of the project, or a warehouse DAG")
    run.add_argument("--ds", type=date.fromisoformat, default=None,
                     help="logical date, YYYY-MM-DD (default: today in the project's time zone)")
    _common(run)
    run.set_defaults(func=cmd_run)
    backfill = sub.add_parser(
        "backfill", help="run a source's DAG for every date of a range, in order",
        description="Run SOURCE's ingest DAG (and the warehouse DAGs after each day) for every "
                    "logical date from --from to --to, oldest first; stops at the first failed "
                    "day. Dates already run are run again: every step is idempotent.",
        epilog="example:\n  lakehouse backfill retail --from 2026-01-01 --to 2026-01-03",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    backfill.add_argument("name", help="a source of the project")
    backfill.add_argument("--from", dest="start", type=date.fromisoformat, required=True,
                          help="first logical date, YYYY-MM-DD")
    backfill.add_argument("--to", dest="end", type=date.fromisoformat, required=True,
                          help="last logical date, YYYY-MM-DD (included)")
    _common(backfill)
    backfill.set_defaults(func=cmd_backfill)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--environment", default=None,
                        help="environment of the deliveries, as the contracts declare them "
                             "(e.g. SERVING; default: the source's)")
    parser.add_argument("--no-warehouse", dest="warehouse", action="store_false",
                        help="run the ingest DAG only")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _today(project: Any) -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(project.defaults.timezone)).date()


def _report(results: list, fmt: str) -> int:
    from lakehouse.cli.context import print_json, progress

    if fmt == "json":
        print_json([{"dag": r.dag_id, "logical_date": r.logical_date, "state": r.state,
                     "seconds": round(r.seconds, 1), "tasks": r.tasks, "failed": r.failed}
                    for r in results])
    failed = [r for r in results if not r.ok]
    if failed:
        progress(f"{failed[0].dag_id} failed: {', '.join(failed[0].failed) or failed[0].state}; "
                 "task logs are under $LAKEHOUSE_AIRFLOW_HOME/logs")
        return 1
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from lakehouse.cli.context import quiet_stdout

    with quiet_stdout():
        results = _run(args)
    return _report(results, args.format)


def _run(args: argparse.Namespace) -> list:
    from lake.config.sources import source_of
    from lakehouse.cli.context import progress, settings_and_project, spark_for_tasks
    from lakehouse.orchestration import configure_airflow, load_dag, run_dag, run_source
    from warehouse.models.catalog import load_models

    settings, project = settings_and_project()
    if args.name not in project.source_names() and args.name in load_models(project).dags():
        from dags.factory import sync_dag_files

        configure_airflow(settings)
        spark_for_tasks(settings)
        sync_dag_files(settings, project)
        progress(f"running {args.name} ...")
        return [run_dag(load_dag(settings, args.name), None)]
    source_of(project, args.name)  # a clear error for an unknown or broken source, before Airflow
    ds = args.ds or _today(project)
    configure_airflow(settings)
    spark_for_tasks(settings)
    return run_source(settings, project, args.name, ds, environment=args.environment,
                      warehouse=args.warehouse, progress=progress)


def cmd_backfill(args: argparse.Namespace) -> int:
    from lakehouse.cli.context import quiet_stdout

    with quiet_stdout():
        results = _backfill(args)
    return _report(results, args.format)


def _backfill(args: argparse.Namespace) -> list:
    from lake.config.sources import source_of
    from lake.errors import ConfigError
    from lakehouse.cli.context import progress, settings_and_project, spark_for_tasks
    from lakehouse.orchestration import configure_airflow, run_source

    settings, project = settings_and_project()
    source_of(project, args.name)
    days = (args.end - args.start).days + 1
    if days < 1 or days > MAX_BACKFILL_DAYS:
        raise ConfigError(f"--from {args.start} --to {args.end}: give a range of 1 to "
                          f"{MAX_BACKFILL_DAYS} days, --from first")
    configure_airflow(settings)
    spark_for_tasks(settings)
    results = []
    for n in range(days):
        ds = args.start + timedelta(days=n)
        progress(f"[{n + 1}/{days}] {ds}")
        results += run_source(settings, project, args.name, ds, environment=args.environment,
                              warehouse=args.warehouse, progress=progress)
        if not results[-1].ok:
            break
    return results
