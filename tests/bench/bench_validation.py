"""Benchmark: validating 1M and 10M rows (5% bad) vs one hand-written ``df.agg`` of the same metrics.

Side by side in one run, on one Spark session (local[2]), per size:

- baseline: one aggregation an engineer would write for the same numbers: rows, failures of every
  not-null, range, accepted-values and reference rule, exact duplicates and key conflicts (as
  distinct counts), and the profile (nulls, min, max, mean per column);
- validation: :func:`lake.quality.validate.evaluate`: per-row flags for every rule, counts and profile,
  value frequencies, the Great Expectations suite with its Data Docs, the anomaly report;
- quarantine: the same, then writing every bad row (5%) to a Delta table from the persisted flags,
  and the valid ones to another, without collecting rows on the driver.

The bronze rows are generated once per size as Parquet and kept between runs. After a warm-up,
each round runs baseline, validation, baseline, quarantine; a validation (or quarantine) is
compared with the mean of the two baselines beside it, since on a shared machine the load moves
within minutes, and the table shows medians over the rounds. A per-step profile (wall time and
Spark jobs) of the last validation of each size follows.

Target: validation <= 1.5x baseline at every size. ``BENCH_ROWS`` (comma-separated sizes,
default ``1000000,10000000``), ``BENCH_ROUNDS`` (default 3) and ``BENCH_DIR`` (where the generated
Parquet is kept, default the system temp folder) override the defaults.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SIZES = [int(n) for n in os.environ.get("BENCH_ROWS", "1000000,10000000").split(",")]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))
DATA_DIR = Path(os.environ.get("BENCH_DIR", Path(tempfile.gettempdir()) / "lakehouse-bench"))
TARGET = 1.5
# the steps of evaluate() the profile times: functions of lake.quality.validate, and their labels
STEPS = {"count_batch": "flag, persist, count", "value_counts": "value counts",
         "validate_dataframe": "Great Expectations", "detect": "anomalies"}


class Steps:
    """Wall time and Spark jobs of each step of one validation (``statusTracker`` job groups)."""

    def __init__(self, spark):
        self.spark = spark
        self.rows: dict[str, list[float]] = {}
        self.active = False
        self.runs = 0

    def install(self) -> None:
        import lake.quality.validate as validate

        for name, label in STEPS.items():
            setattr(validate, name, self.wrap(label, getattr(validate, name)))

    def jobs(self, group: str) -> int:
        return len(self.spark.sparkContext._jsc.statusTracker().getJobIdsForGroup(group))

    def wrap(self, label: str, fn):
        def step(*args, **kwargs):
            if not self.active:
                return fn(*args, **kwargs)
            sc = self.spark.sparkContext
            group = f"{label} {self.runs}"
            sc.setJobGroup(group, group)
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.rows[label] = [time.perf_counter() - started, self.jobs(group)]
                sc.setJobGroup(f"validation {self.runs}", "validation")

        return step

    def record(self, fn) -> float:
        """Run ``fn`` with the steps timed; its wall time."""
        sc = self.spark.sparkContext
        self.runs += 1
        self.rows = {}
        self.active = True
        sc.setJobGroup(f"validation {self.runs}", "validation")
        started = time.perf_counter()
        try:
            fn()
        finally:
            self.active = False
            wall = time.perf_counter() - started
            sc.setLocalProperty("spark.jobGroup.id", None)
        self.rows["other"] = [wall - sum(w for w, _ in self.rows.values()),
                              self.jobs(f"validation {self.runs}")]
        self.rows["total"] = [wall, sum(j for _, j in self.rows.values())]
        return wall


def bronze(spark, rows: int):
    """The generated bronze rows of this size, written once to Parquet under DATA_DIR."""
    from tests.lake.scale_data import bronze_rows

    path = DATA_DIR / f"validation-{rows}.parquet"
    if not (path / "_SUCCESS").exists():
        bronze_rows(spark, rows).write.mode("overwrite").parquet(str(path))
    return spark.read.parquet(str(path))


def main() -> int:
    from pyspark.sql import functions as F

    from lake.config.settings import load_settings
    from lake.contracts.reading import parse_contract
    from lake.platform.session import get_session
    from lake.quality.flags import FAILED, is_quarantined
    from lake.quality.validate import evaluate
    from tests.lake.scale_data import COLUMNS, known_customers

    home = Path(tempfile.mkdtemp(prefix="bench-validation-"))
    settings = load_settings(env={}, home=home, shuffle_partitions=4)
    spark = get_session(settings, app_name="bench-validation")
    steps = Steps(spark)
    steps.install()
    contract = parse_contract({
        "dataset": "bench_orders", "columns": COLUMNS, "keys": ["id"],
        "references": [{"column": "customer", "dataset": "customers", "key": "customer"}],
    }, "bench", source="bench")
    customers = known_customers(spark).persist()
    customers.count()
    table: list[tuple] = []
    profiles: dict[int, dict] = {}
    ok = True
    for size in SIZES:
        batch = bronze(spark, size)

        def baseline(batch=batch) -> None:
            keys = F.broadcast(customers.distinct().withColumn("_known", F.lit(True)))
            data = [c["name"] for c in COLUMNS]
            df = batch.join(keys, "customer", "left")
            failed = [
                *(F.count_if(F.col(c["name"]).isNull()) for c in COLUMNS
                  if not c.get("nullable", 1)),
                F.count_if((F.col("qty") < 1) | (F.col("qty") > 100)),
                F.count_if(F.col("amount") < 0),
                F.count_if(~F.col("pay").isin("card", "cash")), F.count_if(F.col("_known").isNull()),
                F.count(F.lit(1)) - F.count_distinct(F.struct(*data)),
                F.count_distinct(F.struct(*data)) - F.count_distinct("id"),
            ]
            profile = [F.count_if(F.col(c).isNull()) for c in data]
            profile += [agg(F.col(c)) for c in ("qty", "amount") for agg in (F.min, F.max, F.avg)]
            df.agg(F.count(F.lit(1)), *failed, *profile).collect()

        def validation(batch=batch, size=size) -> None:
            checked = evaluate(contract, contract.environment, batch, {"customers": customers},
                               gx_root=home / "gx", label=f"bench {size}")
            checked.flagged.unpersist()

        def quarantine(batch=batch, size=size) -> None:
            checked = evaluate(contract, contract.environment, batch, {"customers": customers},
                               gx_root=home / "gx", label=f"bench {size}")
            bad = is_quarantined(checked.active)
            checked.flagged.where(bad).write.format("delta").mode("overwrite").save(
                str(home / f"quarantine-{size}"))
            checked.flagged.where(~bad).drop(FAILED).write.format("delta").mode("overwrite").save(
                str(home / f"silver-{size}"))
            checked.flagged.unpersist()

        def timed(fn) -> float:
            started = time.perf_counter()
            fn()
            return time.perf_counter() - started

        for warm in (baseline, validation):  # JIT, GX import, first Delta write
            warm()
        times: dict[str, list[float]] = defaultdict(list)
        ratios: dict[str, list[float]] = defaultdict(list)
        before = timed(baseline)
        for _ in range(ROUNDS):
            for name in ("validation", "quarantine"):
                wall = steps.record(validation) if name == "validation" else timed(quarantine)
                after = timed(baseline)
                times[name].append(wall)
                times["baseline"] += [before] if not times["baseline"] else []
                times["baseline"].append(after)
                ratios[name].append(wall / ((before + after) / 2))
                before = after
        profiles[size] = dict(steps.rows)
        quarantined = spark.read.format("delta").load(str(home / f"quarantine-{size}")).count()
        silver = spark.read.format("delta").load(str(home / f"silver-{size}")).count()
        if not (quarantined + silver == size and quarantined == size // 20):
            print(f"  {size:,} ROWS: LOST OR MISCOUNTED", file=sys.stderr)
            ok = False
        median = {k: statistics.median(v) for k, v in times.items()}
        table.append((size, median["baseline"], median["validation"],
                      statistics.median(ratios["validation"]), median["quarantine"],
                      statistics.median(ratios["quarantine"]), quarantined, silver))

    print(f"validation benchmark: 5% bad rows, {ROUNDS} rounds, medians "
          f"({platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"{settings.spark_master}); ratio = run / mean of the baselines beside it")
    print(f"  {'rows':>12} {'baseline s':>11} {'validation s':>13} {'ratio':>6} "
          f"{'+ writes s':>11} {'ratio':>6}   quarantined + valid")
    for size, base, val, ratio, quar, qratio, quarantined, silver in table:
        flag = "" if ratio <= TARGET else "  (> target)"
        print(f"  {size:>12,} {base:>11.2f} {val:>13.2f} {ratio:>5.2f}x {quar:>11.2f} "
              f"{qratio:>5.2f}x   {quarantined:,} + {silver:,}{flag}")
    print(f"  target: validation <= {TARGET}x baseline")
    for size, rows in profiles.items():
        print(f"\n  last validation of {size:,} rows, per step")
        print(f"  {'step':<22} {'wall s':>7} {'jobs':>5}")
        for name, (wall, jobs) in rows.items():
            print(f"  {name:<22} {wall:>7.2f} {int(jobs):>5}")
    spark.stop()
    shutil.rmtree(home, ignore_errors=True)  # its metastore server stops with it
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
