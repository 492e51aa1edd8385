"""Benchmark: validating 1M rows (5% bad) vs one hand-written ``df.agg`` of the same metrics.

Side by side in one run, on one Spark session (local[2]), rounds interleaved, median reported:

- baseline: one aggregation an engineer would write for the same numbers: rows, failures of every
  not-null, range, accepted-values and reference rule, exact duplicates and key conflicts (as
  distinct counts), and the profile (nulls, min, max, mean per column);
- validation: :func:`lake.quality.validate.evaluate`: per-row flags for every rule, counts and profile,
  value frequencies, the Great Expectations suite with its Data Docs, the anomaly report;
- quarantine: writing every bad row (50,000) to a Delta table from the persisted flags, and the
  valid ones to another, without collecting rows on the driver.

Target: validation <= 1.5x baseline. ``BENCH_ROWS`` and ``BENCH_ROUNDS`` override the size.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

ROWS = int(os.environ.get("BENCH_ROWS", 1_000_000))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))
TARGET = 1.5


def main() -> int:
    from pyspark.sql import functions as F

    from lake.config.settings import load_settings
    from lake.contracts.reading import parse_contract
    from lake.platform.session import get_session
    from lake.quality.flags import FAILED, is_quarantined
    from lake.quality.validate import evaluate
    from tests.lake.scale_data import COLUMNS, bronze_rows, known_customers

    home = Path(tempfile.mkdtemp(prefix="bench-validation-"))
    settings = load_settings(env={}, home=home, shuffle_partitions=4)
    spark = get_session(settings, app_name="bench-validation")
    contract = parse_contract({
        "dataset": "bench_orders", "columns": COLUMNS, "keys": ["id"],
        "references": [{"column": "customer", "dataset": "customers", "key": "customer"}],
    }, "bench", source="bench")
    path = str(home / "bronze.parquet")
    bronze_rows(spark, ROWS).write.mode("overwrite").parquet(path)
    batch = spark.read.parquet(path)
    customers = known_customers(spark).persist()
    customers.count()

    def baseline() -> None:
        keys = F.broadcast(customers.distinct().withColumn("_known", F.lit(True)))
        data = [c["name"] for c in COLUMNS]
        df = batch.join(keys, "customer", "left")
        failed = [
            *(F.count_if(F.col(c["name"]).isNull()) for c in COLUMNS if not c.get("nullable", 1)),
            F.count_if((F.col("qty") < 1) | (F.col("qty") > 100)), F.count_if(F.col("amount") < 0),
            F.count_if(~F.col("pay").isin("card", "cash")), F.count_if(F.col("_known").isNull()),
            F.count(F.lit(1)) - F.count_distinct(F.struct(*data)),
            F.count_distinct(F.struct(*data)) - F.count_distinct("id"),
        ]
        profile = [agg(F.col(c)) for c in data for agg in (lambda x: F.count_if(x.isNull()),)]
        profile += [agg(F.col(c)) for c in ("qty", "amount") for agg in (F.min, F.max, F.avg)]
        df.agg(F.count(F.lit(1)), *failed, *profile).collect()

    def validation() -> None:
        checked = evaluate(contract, contract.environment, batch, {"customers": customers},
                           gx_root=home / "gx", label="bench")
        checked.flagged.unpersist()

    def quarantine() -> None:
        checked = evaluate(contract, contract.environment, batch, {"customers": customers},
                           gx_root=home / "gx", label="bench")
        bad = is_quarantined(checked.active)
        checked.flagged.where(bad).write.format("delta").mode("overwrite").save(
            str(home / "quarantine"))
        checked.flagged.where(~bad).drop(FAILED).write.format("delta").mode("overwrite").save(
            str(home / "silver"))
        checked.flagged.unpersist()

    for warm in (baseline, validation):  # JIT, GX import, first Delta write
        warm()
    times: dict[str, list[float]] = {"baseline": [], "validation": [], "quarantine": []}
    for _ in range(ROUNDS):
        for name, fn in (("baseline", baseline), ("validation", validation),
                         ("quarantine", quarantine)):
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    quarantined = spark.read.format("delta").load(str(home / "quarantine")).count()
    silver = spark.read.format("delta").load(str(home / "silver")).count()
    median = {k: statistics.median(v) for k, v in times.items()}
    ratio = median["validation"] / median["baseline"]
    print(f"validation benchmark: {ROWS:,} rows, 5% bad, {ROUNDS} rounds, medians "
          f"({platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"{settings.spark_master})")
    print(f"  baseline df.agg of the same metrics   {median['baseline']:7.2f} s")
    print(f"  validation (flags, counts, profile,  {median['validation']:7.2f} s   "
          f"{ratio:.2f}x baseline (target <= {TARGET}x)")
    print("    GX suite + Data Docs, anomalies)")
    print(f"  validation + write silver/quarantine {median['quarantine']:7.2f} s   "
          f"{quarantined:,} quarantined + {silver:,} valid rows = {quarantined + silver:,}")
    ok = quarantined + silver == ROWS and quarantined == ROWS // 20
    if not ok:
        print("  ROWS LOST OR MISCOUNTED", file=sys.stderr)
    spark.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
