"""Benchmark: bulk bronze ingest of a large CSV vs plain Spark (and DuckDB), side by side.

One run, one Spark session (the platform's recipe, ``lake.platform.session``), on a generated
TPC-H-lineitem-like CSV (:mod:`tests.bench.lineitem`: 16 typed columns, 6M rows, ~750 MB):

- plain Spark: ``spark.read.schema(<the contract's types>).csv(file)`` written as one Delta table;
- bronze: the real path: a project declaring the source and its contract, the file delivered,
  landed (:func:`lake.ingest.connectors.files.land`, not timed) and ingested
  (:func:`lake.ingest.bronze.ingest_batch`) as the source's second day (the first day, a 50k-row
  batch ingested and validated before, created the tables and warmed the JVM up);
- validate: :func:`lake.quality.validate.validate_batch` on that batch (silver, quarantine);
- DuckDB: ``COPY (FROM read_csv(file, <same types>)) TO 'x.parquet'`` with 2 threads.

A warm-up (that first day, and a plain write of it) comes first; the plain write runs again
after bronze and after validate, and each is compared with the plain runs beside it. Targets: bronze <= 1.25x
plain (moonshot 1.1x); bronze + validate <= 2.5x plain. Spark's event log gives the per-step
profile: Spark jobs by call site, with their wall and task time, per phase.

``BENCH_ROWS`` (default 6,000,000) sets the size, ``BENCH_DIR`` where the generated CSV is kept
between runs (default: the system temp folder), ``BENCH_PROFILE=0`` hides the per-step table.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

ROWS = int(os.environ.get("BENCH_ROWS", 6_000_000))
DATA_DIR = Path(os.environ.get("BENCH_DIR", Path(tempfile.gettempdir()) / "lakehouse-bench"))
PROFILE = os.environ.get("BENCH_PROFILE", "1") != "0"
TARGET, MOONSHOT, TARGET_WITH_VALIDATE = 1.25, 1.1, 2.5
FIRST_DAY, DAY = date(2026, 1, 1), date(2026, 1, 2)
AT = datetime(2026, 1, 2, 6, tzinfo=UTC)


def session(settings, events: Path):
    """The platform's session recipe, plus an (uncompressed, single-file) event log."""
    from pyspark.sql import SparkSession

    from lake.platform.session import configure, get_session

    events.mkdir(parents=True, exist_ok=True)
    builder = (SparkSession.builder.appName("bench-bulk").master(settings.spark_master)
               .config("spark.eventLog.enabled", "true").config("spark.eventLog.compress", "false")
               .config("spark.eventLog.rolling.enabled", "false")
               .config("spark.eventLog.dir", events.as_uri()))
    configure(builder, settings).getOrCreate()
    return get_session(settings, app_name="bench-bulk")  # same session, the platform's settings


# the functions of the bronze and validate paths timed as steps (those that exist)
STEPS = {
    "lake.contracts.versions": ("in_effect",),
    "lake.ingest.bronze": ("create_meta_tables", "create_zone_tables", "read_raw", "_evolve",
                           "write_batch", "_record_observations"),
    "lake.ingest.observed_schema": ("infer_text_columns", "infer_columns", "observe"),
    "lake.quality.validate": ("create_meta_tables", "create_zone_tables", "_schema_changes",
                              "_previous_profiles", "_check", "count_batch", "value_counts",
                              "validate_dataframe", "detect", "_write", "write_batch", "_record"),
}


class Steps:
    """Wall time of each step (nested: ``bronze > read_raw > infer_text_columns``); the Spark
    jobs a step runs carry its label as their job group, for :func:`print_profile`."""

    def __init__(self, spark):
        self.spark = spark
        self.stack: list[str] = []
        self.wall: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def install(self) -> None:
        import importlib

        for module_name, names in STEPS.items():
            module = importlib.import_module(module_name)
            for name in names:
                fn = getattr(module, name, None)
                if fn is not None and not hasattr(fn, "__wrapped_step__"):
                    setattr(module, name, self.wrap(name, fn))

    def wrap(self, name: str, fn):
        def step(*args, **kwargs):
            return self.run(name, lambda: fn(*args, **kwargs))

        step.__wrapped_step__ = fn
        return step

    def run(self, name: str, fn):
        label = " > ".join([*self.stack, name])
        self.stack.append(name)
        self.wall.setdefault(label, 0.0)  # listed in the order steps start
        self.spark.sparkContext.setJobGroup(label, label)
        started = time.perf_counter()
        try:
            return fn()
        finally:
            self.wall[label] += time.perf_counter() - started
            self.calls[label] += 1
            self.stack.pop()
            outer = " > ".join(self.stack)
            self.spark.sparkContext.setJobGroup(outer, outer)


def deliver(spark, home: Path, settings, source: str, csv: Path, day: date):
    """Declare ``source`` in a project, deliver ``csv`` (hard link) for ``day`` and land it; the
    landed batch and the Source."""
    from lake.config.project import load_project
    from lake.config.sources import load_source
    from lake.ingest.connectors.files import land
    from lake.platform.catalog import ensure_databases
    from tests.bench.lineitem import declare_project

    delivery = Path(settings.source_root) / source / f"ds={day.isoformat()}"
    delivery.mkdir(parents=True, exist_ok=True)
    os.link(csv, delivery / "lineitem.csv")
    project = declare_project(home / source, source, Path(settings.source_root))
    src = load_source(load_project(project), source)
    ensure_databases(spark, settings, [source])
    return land(settings, src, day)[-1], src


def main() -> int:
    import duckdb

    from lake.config.settings import load_settings
    from lake.ingest.bronze import ingest_batch
    from lake.quality.validate import validate_batch
    from tests.bench.lineitem import SPARK_TYPES, write_lineitem

    csv = DATA_DIR / f"lineitem-{ROWS}.csv"
    if not csv.exists():
        started = time.perf_counter()
        write_lineitem(csv, ROWS)
        print(f"generated {csv} in {time.perf_counter() - started:.0f} s")
    warm_csv = DATA_DIR / "lineitem-50000.csv"
    if not warm_csv.exists():
        write_lineitem(warm_csv, 50_000, seed=3)
    size_mb = csv.stat().st_size / 1e6
    home = Path(tempfile.mkdtemp(prefix="bench-bulk-", dir=DATA_DIR))
    settings = load_settings(env={}, home=home, shuffle_partitions=4)
    spark = session(settings, home / "events")
    steps = Steps(spark)
    steps.install()

    def timed(phase: str, fn) -> float:
        started = time.perf_counter()
        steps.run(phase, fn)
        return time.perf_counter() - started
    schema = ", ".join(f"`{k}` {v}" for k, v in SPARK_TYPES.items())

    def plain(path: Path, out: str) -> None:
        (spark.read.schema(schema).option("header", True).csv(str(path))
         .write.format("delta").mode("overwrite").save(str(home / out)))

    def validate(batch, source, day: date) -> list:
        return validate_batch(spark, source, logical_date=day, batch_id=batch.batch_id,
                              validated_at=AT, gx_root=home / "gx")

    # the first day's small batch creates the tables (zone and meta, with their constraints)
    # and warms the JVM up: the measured batch is a day's batch of a running source
    warm_batch, warm_source = deliver(spark, home, settings, "bench_bulk", warm_csv, FIRST_DAY)
    timed("warm-up", lambda: plain(warm_csv, "warm_plain"))
    timed("warm-up", lambda: ingest_batch(spark, warm_source, warm_batch, ingested_at=AT))
    timed("warm-up", lambda: validate(warm_batch, warm_source, FIRST_DAY))

    started = time.perf_counter()
    batch, source = deliver(spark, home, settings, "bench_bulk", csv, DAY)
    landing = time.perf_counter() - started
    landed = Path(batch.files_of("lineitem")[0])
    seconds = {"plain": timed("plain", lambda: plain(landed, "plain"))}
    written = {}

    def bronze() -> None:
        written["bronze"] = ingest_batch(spark, source, batch, ingested_at=AT)

    def validate_day() -> None:
        written["validate"] = validate(batch, source, DAY)

    # plain runs between the measured ones: each is compared with the plain runs beside it, so
    # a machine shared with others (whose load moves in minutes) skews the ratios less
    seconds["bronze"] = timed("bronze", bronze)
    seconds["plain, 2"] = timed("plain, 2", lambda: plain(landed, "plain2"))
    seconds["validate"] = timed("validate", validate_day)
    seconds["plain, 3"] = timed("plain, 3", lambda: plain(landed, "plain3"))
    plain_rows = spark.read.format("delta").load(str(home / "plain")).count()
    columns = ", ".join(f"'{k}': '{v.upper()}'" for k, v in SPARK_TYPES.items())
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    started = time.perf_counter()
    con.execute(f"COPY (FROM read_csv('{landed}', header=true, columns={{{columns}}}, "
                f"ignore_errors=true)) TO '{home / 'duck.parquet'}' (FORMAT parquet)")
    seconds["duckdb"] = time.perf_counter() - started
    duck_rows = con.execute(f"SELECT count(*) FROM '{home / 'duck.parquet'}'").fetchone()[0]
    spark.stop()

    bronze_rows = written["bronze"].writes["bench_bulk_bronze.lineitem"].rows
    (check,) = written["validate"]
    base = statistics.mean(seconds[k] for k in ("plain", "plain, 2", "plain, 3"))
    around_bronze = (seconds["plain"] + seconds["plain, 2"]) / 2
    around_validate = (seconds["plain, 2"] + seconds["plain, 3"]) / 2
    print(f"bulk ingest benchmark: {ROWS:,} rows, 16 columns, {size_mb:,.0f} MB CSV "
          f"({platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"{settings.spark_master}); landing (copy + hash, not timed below) {landing:.1f} s")
    print("  x plain: against the plain runs just before and after it (a plain run: their mean)")
    print(f"  {'run':<34} {'rows':>10} {'seconds':>8} {'x plain':>8} {'rows/s':>10} {'MB/s':>7}")
    lines = [("plain Spark CSV -> Delta (1)", plain_rows, seconds["plain"], base),
             ("bronze (ingest_batch)", bronze_rows, seconds["bronze"], around_bronze),
             ("plain Spark CSV -> Delta (2)", plain_rows, seconds["plain, 2"], base),
             ("validate (validate_batch)", check.counts.rows_in, seconds["validate"],
              around_validate),
             ("plain Spark CSV -> Delta (3)", plain_rows, seconds["plain, 3"], base),
             ("DuckDB CSV -> Parquet (2 threads)*", duck_rows, seconds["duckdb"], base)]
    for name, rows, secs, against in lines:
        print(f"  {name:<34} {rows:>10,} {secs:>8.1f} {secs / against:>7.2f}x "
              f"{rows / secs:>10,.0f} {size_mb / secs:>7.1f}")
    ratio = seconds["bronze"] / around_bronze
    both = ratio + seconds["validate"] / around_validate
    print(f"  bronze {ratio:.2f}x plain (target <= {TARGET}x, moonshot {MOONSHOT}x); bronze + "
          f"validate {both:.2f}x (target <= {TARGET_WITH_VALIDATE}x); validated "
          f"{check.counts.rows_valid:,} valid + {check.counts.rows_quarantined:,} quarantined")
    print("  * DuckDB drops a row with a value that does not fit (ignore_errors); Spark keeps it")
    if PROFILE:
        print_profile(home / "events", steps)
    ok = bronze_rows == plain_rows == ROWS == check.counts.rows_in == (
        check.counts.rows_valid + check.counts.rows_quarantined)
    if not ok:
        print("  ROWS LOST OR MISCOUNTED", file=sys.stderr)
    shutil.rmtree(home, ignore_errors=True)
    return 0 if ok else 1


def print_profile(events: Path, steps: Steps) -> None:
    """Per step (nested, inclusive wall time) the Spark jobs run directly in it, from the event
    log: jobs, tasks, the jobs' wall time and their tasks' run time (2 busy cores = 2x wall)."""
    jobs: dict[int, dict] = {}
    tasks: dict[int, tuple[int, float]] = {}
    (log,) = [p for p in events.iterdir() if p.is_file()]
    for line in log.read_text().splitlines():
        event = json.loads(line)
        kind = event["Event"]
        if kind == "SparkListenerJobStart":
            jobs[event["Job ID"]] = {"step": event.get("Properties", {}).get("spark.jobGroup.id"),
                                     "start": event["Submission Time"],
                                     "stages": event["Stage IDs"]}
        elif kind == "SparkListenerJobEnd":
            jobs[event["Job ID"]]["end"] = event["Completion Time"]
        elif kind == "SparkListenerStageCompleted":
            info = event["Stage Info"]
            run = sum(a.get("Value", 0) for a in info.get("Accumulables", [])
                      if a.get("Name") == "internal.metrics.executorRunTime")
            tasks[info["Stage ID"]] = (info["Number of Tasks"], run / 1000)
    per_step: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
    for job in jobs.values():
        ran = [tasks[s] for s in job["stages"] if s in tasks]
        row = per_step[job["step"] or "-"]
        row[0] += 1
        row[1] += sum(n for n, _ in ran)
        row[2] += (job.get("end", job["start"]) - job["start"]) / 1000
        row[3] += sum(r for _, r in ran)
    print(f"\n  per step (inclusive wall; Spark jobs run directly in the step)\n"
          f"  {'step':<44} {'calls':>5} {'wall s':>7} {'jobs':>5} {'tasks':>5} {'job s':>7} "
          f"{'task s':>7}")
    for label, wall in steps.wall.items():
        if label.startswith("warm-up"):
            continue
        parts = label.split(" > ")
        name = "  " * (len(parts) - 1) + parts[-1]
        n, t, job_s, task_s = per_step.get(label, (0, 0, 0.0, 0.0))
        print(f"  {name:<44} {steps.calls[label]:>5} {wall:>7.1f} {n:>5} {t:>5} {job_s:>7.1f} "
              f"{task_s:>7.1f}")


if __name__ == "__main__":
    sys.exit(main())
