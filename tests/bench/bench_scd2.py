"""Benchmark: an SCD 2 MERGE whose cost should follow the changed keys, not the dimension's size.

A dimension of ``BENCH_ROWS`` members (default 1.5M, all current since day 1), built by the
platform's own first load (:func:`warehouse.dimensions.apply_batch`), then one day-2 batch in
which ``BENCH_CHANGED`` of the keys (default 1%) changed: 80% of them updated (a tracked column
differs), 10% deleted (missing from the snapshot / a ``deleted_at`` change), 10% new members.

Two declared dimensions, each applied through the real path (``apply_batch``: SQL from
:mod:`warehouse.scd2`, Delta transaction id, quarantine check):

- ``snapshot``: the batch is every member (``input: snapshot``, ``deletes: invalidate``);
- ``changes``: the batch is only the changed rows (``input: changes``, ``changed_at``,
  ``deleted_when``).

Side by side in one run, rounds interleaved, each round on fresh shallow clones of the built
dimension: the MERGE vs a plain append of the same rows (the batch's rows, shaped as dimension
rows) to a Delta table of the same size (another clone). Delta's operationMetrics of each MERGE
say what it rewrote, next to how many files hold the changed keys. A last part loads a
100-member dimension (a demo day) and counts the Spark jobs each ``apply_batch`` runs.

Targets: MERGE <= 3x append; files rewritten <= files holding changed keys. ``BENCH_QUICK=1``
runs a small size (100,000 rows, one round); ``BENCH_ROWS``/``BENCH_ROUNDS`` set it exactly.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
ROWS = int(os.environ.get("BENCH_ROWS", 100_000 if QUICK else 1_500_000))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 1 if QUICK else 3))
CHANGED = float(os.environ.get("BENCH_CHANGED", 0.01))
SMALL_ROWS = 100
TARGET = 3.0
D1, D2 = date(2026, 5, 1), date(2026, 5, 2)
AT = datetime(2026, 5, 3, tzinfo=UTC)
D2_TS = datetime(2026, 5, 2, tzinfo=UTC)
TRACKED = ("name", "email", "city", "segment")
MEMBERS = {"version": 1, "keys": ["id"], "columns": [
    {"name": "id", "type": "string", "nullable": False},
    *({"name": c, "type": "string"} for c in TRACKED)]}
CHANGES = {"version": 1, "keys": ["id", "updated_at"], "columns": [
    *MEMBERS["columns"], {"name": "updated_at", "type": "timestamp", "nullable": False},
    {"name": "deleted_at", "type": "timestamp"}]}
MODELS = {
    "dim_bench_snapshot": "from: bench.members\nkey: [id]\ntracked: [name, email, city, segment]\n"
                          "surrogate_key: member_sk\ninput: snapshot\ndeletes: invalidate\n",
    "dim_bench_changes": "from: bench.member_changes\nkey: [id]\n"
                         "tracked: [name, email, city, segment]\nsurrogate_key: member_sk\n"
                         "input: changes\nchanged_at: updated_at\n"
                         "deleted_when: deleted_at IS NOT NULL\ndeletes: invalidate\n",
}
METRICS = ("numTargetRowsCopied", "numTargetRowsUpdated", "numTargetRowsInserted",
           "numTargetFilesRemoved", "numTargetFilesAdded", "numTargetDeletionVectorsAdded")


def _kind(i: str) -> str:
    """SQL for a member number's fate on day 2: 'update', 'delete', 'new' or 'same'."""
    per = round(1 / CHANGED)
    return (f"CASE WHEN pmod(xxhash64({i}), {per * 10}) < 8 THEN 'update' "
            f"WHEN pmod(xxhash64({i}), {per * 10}) = 8 THEN 'delete' ELSE 'same' END")


def _members(spark, rows: int, day2: bool):
    """Members 0..rows-1 (day 2: updated ones move city, deleted ones are gone, and one new
    member per ten changed keys is added after the last)."""
    from pyspark.sql import functions as F

    new = round(rows * CHANGED / 10) if day2 else 0
    df = spark.range(rows + new).selectExpr(
        "id AS n", "format_string('C%09d', id) AS id", "concat('member ', id) AS name",
        "concat('m', id, '@example.com') AS email", "concat('city-', pmod(id, 997)) AS city",
        "element_at(array('retail', 'smb', 'corporate', 'public'), "
        "CAST(pmod(id, 4) + 1 AS INT)) AS segment",
        f"CASE WHEN id >= {rows} THEN 'new' ELSE {_kind('id')} END AS fate")
    if day2:
        df = (df.where("fate <> 'delete'")
              .withColumn("city", F.expr("CASE WHEN fate = 'update' THEN concat(city, '-moved') "
                                         "ELSE city END")))
    else:
        df = df.where("fate <> 'new'")
    return df


def _write_batch(spark, dataset: str, df, batch_id: str, day: date, quarantined: int = 0) -> int:
    """Append ``df`` as one validated batch of ``bench.<dataset>`` (silver + batch counts)."""
    from pyspark.sql import functions as F

    from lake.platform.delta import table_location
    from lake.platform.meta_tables import BATCH_COUNTS

    name = f"bench_silver.{dataset}"
    schema = spark.table(name).schema
    out = df.select(*[
        (F.col(f.name) if f.name in df.columns else
         F.lit(f"/landing/{dataset}.csv") if f.name == "_source_file" else
         F.lit(AT) if f.name == "_ingested_at" else
         F.lit(batch_id) if f.name == "_batch_id" else
         F.concat(F.lit(batch_id + "-"), F.col("id")) if f.name == "_record_id" else
         F.lit(None)).cast(f.dataType).alias(f.name) for f in schema])
    out.write.format("delta").mode("append").save(table_location(spark, name))
    rows = spark.read.format("delta").load(table_location(spark, name)).where(
        F.col("_batch_id") == batch_id).count()
    counts = spark.createDataFrame([("bench", dataset, batch_id, day, rows + quarantined, rows,
                                     quarantined, {}, 1, AT)], spark.table(BATCH_COUNTS).schema)
    counts.write.format("delta").mode("append").save(table_location(spark, BATCH_COUNTS))
    return rows


class Profile:
    """Spark jobs and seconds of one piece of work (a job group on this thread)."""

    def __init__(self, spark, label: str) -> None:
        self.sc, self.label = spark.sparkContext, label

    def __enter__(self) -> Profile:
        self.sc.setJobGroup(self.label, self.label)
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.started
        tracker = self.sc.statusTracker()
        self.jobs = len(tracker.getJobIdsForGroup(self.label))
        self.sc.setLocalProperty("spark.jobGroup.id", None)


def _last_metrics(spark, table: str) -> dict[str, int]:
    from lake.platform.delta import delta_table

    last = delta_table(spark, table).history(1).select("operation", "operationMetrics").first()
    metrics = last["operationMetrics"] or {}
    return {"operation": last["operation"], **{m: int(metrics.get(m, 0)) for m in METRICS}}


def main() -> int:  # noqa: PLR0915 - one benchmark, read top to bottom
    from lake.config.settings import load_settings
    from lake.platform.catalog import ensure_databases
    from lake.platform.session import get_session
    from tests.warehouse.builders import scenario
    from warehouse import dimensions
    from warehouse.ledger import PendingBatch
    from warehouse.sql_parts import batch, columns, row_hash, surrogate, ts

    home = Path(tempfile.mkdtemp(prefix="bench-scd2-"))
    settings = load_settings(env={}, home=home)
    spark = get_session(settings, app_name="bench-scd2")
    ensure_databases(spark, settings)
    s = scenario(spark, settings, home / "project", "bench",
                 {"members": MEMBERS, "member_changes": CHANGES})
    for name, text in MODELS.items():
        s.model(f"{name}.yaml", text)
    catalog = s.catalog()

    def dim_of(kind: str, suffix: str):
        base = catalog.dimensions[f"dim_bench_{kind}"]
        return base.model_copy(update={"dimension": f"dim_bench_{kind}{suffix}"})

    def apply(dim, kind: str, batch_id: str, day: date, rows: int):
        info = catalog.selects[f"dim_bench_{kind}"]
        dimensions.create_dimension(spark, dim, info)
        return dimensions.apply_batch(spark, dim, info, PendingBatch(batch_id, day, rows, rows),
                                      recorded_at=AT,
                                      latest_snapshot=dimensions.latest_snapshot(spark, dim))

    # --- data: day 1 (every member), day 2 as a snapshot and as changes
    started = time.perf_counter()
    day1 = _members(spark, ROWS, day2=False)
    n1 = _write_batch(spark, "members", day1.drop("n", "fate"), "20260501-001", D1)
    day2 = _members(spark, ROWS, day2=True)
    n2 = _write_batch(spark, "members", day2.drop("n", "fate"), "20260502-001", D2)
    changes = (_members(spark, ROWS, day2=True).where("fate <> 'same'")
               .unionByName(_members(spark, ROWS, day2=False).where("fate = 'delete'"))
               .selectExpr("*", "TIMESTAMP '2026-05-02 09:00:00' AS updated_at",
                           "CASE WHEN fate = 'delete' THEN TIMESTAMP '2026-05-02 09:00:00' END "
                           "AS deleted_at"))
    n_changes = _write_batch(spark, "member_changes", changes.drop("n", "fate"),
                             "20260502-001", D2)
    base = dim_of("snapshot", "")
    with Profile(spark, "first load") as first:
        apply(base, "snapshot", "20260501-001", D1, n1)
    fates = _members(spark, ROWS, day2=False).select("id", "fate").where(
        "fate IN ('update', 'delete')")
    fates.cache()
    updated = fates.where("fate = 'update'").count()
    deleted = fates.where("fate = 'delete'").count()
    new = round(ROWS * CHANGED / 10)
    n_changed_keys = updated + deleted + new
    expected = (n1 - deleted + new, updated + deleted, n1 + new)
    files = spark.sql(f"SELECT count(DISTINCT _metadata.file_path) AS n FROM {base.table}").first()[0]
    holding = (spark.table(base.table).select("id", "_metadata.file_path").join(fates, "id")
               .select("file_path").distinct().count())
    setup = time.perf_counter() - started
    print(f"setup {setup:.0f} s: {n1:,}-member dimension in {files} files "
          f"(first load {first.seconds:.1f} s, {first.jobs} Spark jobs); day 2: {n2:,}-row "
          f"snapshot, {n_changes:,} changes, {n_changed_keys:,} changed keys held in "
          f"{holding} of {files} files")

    # --- rounds: append vs MERGE, on fresh clones of the day-1 dimension
    append_sql = {
        "snapshot": "SELECT * FROM bench_silver.members WHERE _batch_id = '20260502-001'",
        "changes": "SELECT * FROM bench_silver.member_changes WHERE _batch_id = '20260502-001'",
    }
    rows_of = {"snapshot": n2, "changes": n_changes}
    times: dict[str, list[float]] = {}
    jobs: dict[str, int] = {}
    metrics: dict[str, dict] = {}
    for r in range(ROUNDS):
        for kind in ("snapshot", "changes"):
            target, appended = dim_of(kind, f"_m{r}"), dim_of(kind, f"_a{r}")
            for dim in (target, appended):
                spark.sql(f"DROP TABLE IF EXISTS {dim.table}")
                spark.sql(f"CREATE TABLE {dim.table} SHALLOW CLONE {base.table}")
            k, tr = list(base.key), list(base.tracked)
            append = (f"INSERT INTO {appended.table} SELECT {surrogate(k, 'src', ts(D2_TS))}, "
                      f"{columns([*k, *tr], 'src.')}, {row_hash(tr, 'src')}, {ts(D2_TS)}, NULL, "
                      f"true, false, false, {ts(AT)}, {batch('20260502-001')} "
                      f"FROM ({append_sql[kind]}) AS src")
            with Profile(spark, f"append {kind} {r}") as p:
                spark.sql(append)
            times.setdefault(f"append {kind}", []).append(p.seconds)
            with Profile(spark, f"merge {kind} {r}") as p:
                apply(target, kind, "20260502-001", D2, rows_of[kind])
            times.setdefault(f"merge {kind}", []).append(p.seconds)
            jobs[kind] = p.jobs
            metrics[kind] = _last_metrics(spark, target.table)
            if not _check(spark, target, expected):
                print(f"  WRONG HISTORY after the {kind} MERGE", file=sys.stderr)
                return 1
            for dim in (target, appended):
                spark.sql(f"DROP TABLE IF EXISTS {dim.table}")

    # --- a demo day: 100 members, one changed key
    small = _small(spark, s, catalog, apply)

    median = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nSCD2 benchmark: {ROWS:,}-row dimension, {CHANGED:.1%} changed keys, {ROUNDS} "
          f"round(s), medians ({platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cpus, {settings.spark_master})")
    print(f"  {'':34} {'rows':>10} {'s':>7} {'x append':>9} {'jobs':>5} {'copied':>10} "
          f"{'files -/+':>10} {'DVs':>5} {'hold':>5}")
    worst = 0.0
    for kind in ("snapshot", "changes"):
        m = metrics[kind]
        ratio = median[f"merge {kind}"] / median[f"append {kind}"]
        worst = max(worst, ratio)
        print(f"  {'append ' + kind + ' rows':34} {rows_of[kind]:>10,} "
              f"{median[f'append {kind}']:>7.2f}")
        print(f"  {'MERGE ' + kind + ' (apply_batch)':34} {rows_of[kind]:>10,} "
              f"{median[f'merge {kind}']:>7.2f} {ratio:>8.2f}x {jobs[kind]:>5} "
              f"{m['numTargetRowsCopied']:>10,} "
              f"{m['numTargetFilesRemoved']:>4}/{m['numTargetFilesAdded']:<5} "
              f"{m['numTargetDeletionVectorsAdded']:>5} {holding:>5}")
    for label, (seconds, n_jobs) in small.items():
        print(f"  {label:34} {SMALL_ROWS:>10,} {seconds:>7.2f} {'':>9} {n_jobs:>5}")
    rewritten = max(metrics[k]["numTargetFilesRemoved"] for k in metrics)
    print(f"  targets: MERGE <= {TARGET}x append ({'met' if worst <= TARGET else 'MISSED'}: "
          f"{worst:.2f}x); files rewritten <= files holding changed keys "
          f"({'met' if rewritten <= holding else 'MISSED'}: {rewritten} vs {holding})")
    spark.stop()
    shutil.rmtree(home, ignore_errors=True)  # its metastore server stops with it
    return 0


def _check(spark, dim, expected: tuple[int, int, int]) -> bool:
    """The MERGE's history: (current rows, closed rows, members) as the day-2 fates say."""
    got = spark.sql(f"SELECT count_if(is_current) AS current, count_if(NOT is_current) AS closed, "
                    f"count(DISTINCT id) AS members FROM {dim.table}").first()
    if tuple(got) != expected:
        print(f"  {dim.table}: (current, closed, members) {tuple(got)}, expected {expected}",
              file=sys.stderr)
    return tuple(got) == expected


def _small(spark, s, catalog, apply) -> dict[str, tuple[float, int]]:
    """A demo day: a 100-member dimension loaded, then one key changed (seconds, Spark jobs)."""
    out = {}
    spark.sql("DELETE FROM bench_silver.members")
    day1 = _members(spark, SMALL_ROWS, day2=False).drop("n", "fate")
    n1 = _write_batch(spark, "members", day1, "20260601-001", date(2026, 6, 1))
    day2 = day1.selectExpr("id", "name", "email",
                           "CASE WHEN id = 'C000000007' THEN 'elsewhere' ELSE city END AS city",
                           "segment")
    n2 = _write_batch(spark, "members", day2, "20260602-001", date(2026, 6, 2))
    dim = catalog.dimensions["dim_bench_snapshot"].model_copy(
        update={"dimension": "dim_bench_small"})
    spark.sql(f"DROP TABLE IF EXISTS {dim.table}")
    with Profile(spark, "small first") as p:
        apply(dim, "snapshot", "20260601-001", date(2026, 6, 1), n1)
    out["demo day: first load"] = (p.seconds, p.jobs)
    with Profile(spark, "small change") as p:
        apply(dim, "snapshot", "20260602-001", date(2026, 6, 2), n2)
    out["demo day: one key changed"] = (p.seconds, p.jobs)
    return out


if __name__ == "__main__":
    sys.exit(main())
