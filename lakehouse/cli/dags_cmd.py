"""``lakehouse dags sync|list``: the project's DAG files in Airflow's DAGs folder."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    dags = sub.add_parser(
        "dags", help="write or list the project's Airflow DAG files",
        description="Every declared source gets an ingest DAG and the warehouse models get "
                    "their DAGs; each DAG has a small file in Airflow's DAGs folder "
                    "(LAKEHOUSE_DAGS_FOLDER, default $LAKEHOUSE_AIRFLOW_HOME/dags) so a broken "
                    "declaration breaks only its own DAG. `lakehouse run` keeps them in sync; "
                    "run `lakehouse dags sync` when Airflow runs elsewhere (e.g. in your deploy "
                    "step, with --folder pointing at that Airflow's DAGs folder).")
    cmds = dags.add_subparsers(dest="dags_command", required=True)
    sync = cmds.add_parser("sync", help="write the DAG files, remove stale ones")
    sync.add_argument("--format", choices=("text", "json"), default="text")
    sync.set_defaults(func=cmd_sync)
    listing = cmds.add_parser("list", help="the DAGs and whether each builds")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.set_defaults(func=cmd_list)


def cmd_sync(args: argparse.Namespace) -> int:
    from dags.factory import sync_dag_files
    from lakehouse.cli.context import print_json, settings_and_project

    settings, project = settings_and_project()
    files = sync_dag_files(settings, project)
    if args.format == "json":
        print_json({"folder": str(settings.dags_folder), "files": files})
    else:
        print(f"{len(files)} DAG file(s) in {settings.dags_folder}: {', '.join(files)}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from dags.factory import sync_dag_files
    from lakehouse.cli.context import print_json, print_table, settings_and_project
    from lakehouse.orchestration import configure_airflow

    settings, project = settings_and_project()
    sync_dag_files(settings, project)
    configure_airflow(settings)
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(settings.dags_folder))
    rows = [{"dag": d.dag_id, "schedule": str(d.schedule), "tasks": len(d.tasks),
             "file": d.fileloc, "error": ""} for d in bag.dags.values()]
    rows += [{"dag": "-", "file": f, "error": e.strip().splitlines()[-1]}
             for f, e in bag.import_errors.items()]
    if args.format == "json":
        print_json(rows)
    else:
        print_table(rows, ["dag", "schedule", "tasks", "error"])
    return 1 if bag.import_errors else 0
