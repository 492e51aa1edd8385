"""What the commands share: settings, the project, a Spark session, progress and output."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from lake.config.project import Project
    from lake.config.settings import Settings


def progress(message: str) -> None:
    """A line of progress on standard error (standard output stays for results)."""
    print(message, file=sys.stderr, flush=True)


def settings_and_project() -> tuple[Settings, Project]:
    from lake.config.project import find_project
    from lake.config.settings import load_settings

    settings = load_settings()
    return settings, find_project(settings.project)


def spark_session(settings: Settings, app: str, sources: list[str] = ()) -> SparkSession:
    """A Spark session with the zone databases of ``sources``, ``meta`` and ``warehouse``; the
    JVM's start-up output goes to the home's logs (see :func:`analyst_spark`)."""
    from lake.platform.catalog import ensure_databases

    progress("starting Spark ...")
    spark = analyst_spark(settings, app)
    ensure_databases(spark, settings, list(sources))
    return spark


def analyst_spark(settings: Settings, app: str,
                  conf: dict[str, str] | None = None) -> SparkSession:
    """A Spark session for a command, without Spark's start-up chatter on the terminal: the
    JVM's own output goes to ``<home>/logs/lakehouse-<app>.log``."""
    from lake.platform.session import get_session

    log = settings.home / "logs" / f"lakehouse-{app}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with jvm_output_to(log):
        return get_session(settings, app_name=f"lakehouse-{app}", conf=conf)


def spark_for_tasks(settings: Settings) -> None:
    """Start the Spark application a DAG's tasks share when they run in this process (a local
    master), its JVM's start-up output in ``<home>/logs/lakehouse-run.log``, not the terminal;
    with spark-submit tasks each task starts its own."""
    if not settings.submits_spark_jobs:
        progress("starting Spark ...")
        analyst_spark(settings, "run")


@contextmanager
def jvm_output_to(path: os.PathLike[str]) -> Iterator[None]:
    """Processes started inside the block (Spark's JVM) write their standard output and error
    to ``path``; this process's own streams are back as they were when the block ends."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for f in (fd, *saved):
            os.close(f)


def print_json(payload: Any) -> None:
    print(json.dumps(payload, indent=2, default=str))


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """``rows`` as an aligned text table with a header (``-`` for empty cells)."""
    cells = [[("-" if r.get(c) in (None, "") else str(r.get(c))) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


@contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send everything written to standard output inside the block (Airflow's and Spark's logs,
    task output) to standard error, so standard output holds only the command's result."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
