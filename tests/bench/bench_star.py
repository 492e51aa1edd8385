"""Benchmark: the Star Schema Benchmark on the warehouse through the SQL endpoint, against DuckDB
on the same data as Parquet, with Spark plain and with Apache DataFusion Comet.

One run, one fresh home. The SSB tables (:mod:`tests.bench.ssb`, scale factor ``BENCH_SF``,
default 1: 6M lineorder rows) are generated once as Parquet, which DuckDB reads (2 threads) and
Spark loads into Delta tables of the ``warehouse`` database: the dimensions as they are, the fact
declared clustered on its date key (liquid clustering, :mod:`warehouse.models.layout`) and
written by :data:`APPENDS` appends, as daily loads leave it, then compacted and clustered by
:func:`lake.platform.maintenance.maintain`. Two Spark applications, each in a process of its own
(Comet is a plugin of the application) and each serving the warm SQL endpoint: plain Spark,
which loads the tables and counts the fact's files each query scans before and after the
OPTIMIZE (its executed plans' scan metrics), and one with ``LAKEHOUSE_SPARK_ACCELERATOR=comet``,
which first reports what Comet runs natively (the executed plans' operators, and Comet's
``EXPLAIN``, which says why the rest falls back).

Each query runs once in each engine to warm up, then ``BENCH_ROUNDS`` rounds (default 5) run
each query in each engine in turn (the endpoints through psycopg), so that the three see the same
load on the machine: the medians, their ratios, and the results checked equal (sorted, numbers
within 1e-9). Targets: geometric mean of Spark-through-the-endpoint / DuckDB <= 6x (moonshot
<= 3x).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.bench import ssb  # noqa: E402 - after the repository is on the path

SF = float(os.environ.get("BENCH_SF", 1))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))
APPENDS = 30
"""Appends that write the fact before it is clustered (4 files each)."""
TARGET_FILE_SIZE = "32mb"
PASSWORD = "bench-password"
TARGET, MOONSHOT = 6.0, 3.0
FACT = "warehouse.lineorder"
PRUNING_PROBE = ("select sum(lo_extendedprice * lo_discount) as revenue from lineorder "
                 "where lo_orderdate between 19930101 and 19931231 "
                 "and lo_discount between 1 and 3 and lo_quantity < 25")
"""Q1.1 with its year on the fact's date key, the clustering column: the files clustering skips
(the SSB queries reach the date through the join, which Spark prunes files by only for
partition columns)."""


def main() -> None:
    from lake.config.settings import load_settings
    from lake.platform.derby_server import stop_server

    home = Path(tempfile.mkdtemp(prefix="bench-star-"))
    started = time.perf_counter()
    paths = ssb.generate(home / "parquet", SF)
    print(f"SSB at scale factor {SF:g} generated in {time.perf_counter() - started:.0f} s "
          f"({home / 'parquet'})", flush=True)
    apps: dict[str, tuple[subprocess.Popen, dict[str, Any]]] = {}
    try:
        for accelerator in ("none", "comet"):  # one after the other: the first loads the tables
            apps[accelerator] = _start_spark(home, accelerator)
        measured = _side_by_side(paths, {acc: found["endpoint"] for acc, (_, found) in apps.items()})
    finally:
        for process, _ in apps.values():
            process.stdin.close()
            process.wait(timeout=300)
        stop_server(load_settings(env={}, home=home))
    _report(apps["none"][1], apps["comet"][1]["comet"], *measured)
    shutil.rmtree(home)


# -- the Spark applications --------------------------------------------------------------------------


def _start_spark(home: Path, accelerator: str) -> tuple[subprocess.Popen, dict[str, Any]]:
    """Start :func:`spark_application` in a process of its own; the process and what it found,
    once its endpoint serves."""
    out = home / f"spark-{accelerator}.json"
    process = subprocess.Popen([sys.executable, __file__, "--spark", accelerator, str(home)],
                               stdin=subprocess.PIPE)
    while not out.exists():
        if process.poll() is not None:
            raise SystemExit(f"the Spark application ({accelerator}) ended: exit code "
                             f"{process.returncode}")
        time.sleep(1)
    return process, json.loads(out.read_text())


def spark_application(accelerator: str, home: Path) -> None:
    """One Spark application with ``accelerator``: the plain one loads the tables and counts
    files scanned, the Comet one reports its plans; then each serves the endpoint (its address
    and those findings in ``spark-<accelerator>.json``) until its input closes."""
    from lake.config.settings import load_settings
    from lake.platform.session import get_session
    from warehouse.sql.endpoint.server import SPARK_CONF, EndpointConfig, SqlEndpoint

    settings = load_settings(env={}, home=home, sql_endpoint_password=PASSWORD,
                             spark_accelerator=accelerator)
    conf = dict(SPARK_CONF)
    if accelerator == "comet":
        conf["spark.sql.extendedExplainProviders"] = "org.apache.comet.ExtendedExplainInfo"
    spark = get_session(settings, f"bench-star-{accelerator}", conf=conf)
    if accelerator == "none":
        found = _load_and_cluster(spark, settings, home / "parquet")
    else:
        found = {"comet": {name: _comet_plan(spark, sql) for name, sql in ssb.QUERIES.items()}}
    endpoint = SqlEndpoint(spark, EndpointConfig.from_settings(settings, port=0)).start()
    found["endpoint"] = endpoint.address
    out = home / f"spark-{accelerator}.json"
    out.with_suffix(".tmp").write_text(json.dumps(found))
    out.with_suffix(".tmp").rename(out)  # whole, when the parent sees it
    sys.stdin.read()
    endpoint.close()
    spark.stop()


def _load_and_cluster(spark, settings, parquet: Path) -> dict[str, Any]:
    """The SSB tables as Delta tables; the fact's files scanned per query before and after
    maintenance's OPTIMIZE."""
    from pyspark.sql import functions as F

    from lake.platform.catalog import ensure_databases
    from lake.platform.maintenance import TablePlan, maintain
    from lake.platform.tables import create_table
    from warehouse.models.layout import Layout

    ensure_databases(spark, settings)
    layout = Layout(cluster_by=("lo_orderdate",), target_file_size=TARGET_FILE_SIZE)
    started = time.perf_counter()
    for name in ssb.TABLES[:-1]:
        spark.read.parquet(str(parquet / f"{name}.parquet")).write.format("delta") \
            .saveAsTable(f"warehouse.{name}")
    fact = spark.read.parquet(str(parquet / "lineorder.parquet"))
    create_table(spark, FACT, ", ".join(f"{f.name} {f.dataType.simpleString()}"
                                        for f in fact.schema), cluster_by=layout.cluster_by)
    orders = fact.agg(F.max("lo_orderkey")).first()[0]
    for i in range(APPENDS):
        fact.where(F.col("lo_orderkey").between(orders * i // APPENDS + 1,
                                                orders * (i + 1) // APPENDS)) \
            .repartition(4).write.format("delta").mode("append").saveAsTable(FACT)
    loaded = time.perf_counter() - started
    before = _files_scanned(spark)
    started = time.perf_counter()
    (upkeep,) = maintain(spark, [TablePlan(FACT, layout.zorder_by, layout.target_file_bytes)],
                         time_travel_days=7)
    return {"load_s": loaded, "optimize_s": time.perf_counter() - started,
            "fact_rows": spark.table(FACT).count(), "files_before": before,
            "files_after": _files_scanned(spark),
            "fact_files": [upkeep.files_before, upkeep.files_after]}


def _files_scanned(spark) -> dict[str, int]:
    """Files of the fact each query read (run on the application's own session: the scan
    metrics of its executed plan), the pruning probe's too."""
    return {name: sum(int(node.metrics().apply("numFiles").value())
                      for node in _executed(spark, sql)
                      if node.getClass().getSimpleName() == "FileSourceScanExec"
                      and node.tableIdentifier().get().table() == FACT.split(".")[1])
            for name, sql in {**ssb.QUERIES, "probe": PRUNING_PROBE}.items()}


def _executed(spark, sql: str) -> list:
    """Run ``sql`` (as the endpoint transpiles it) on ``spark``: the operators of its executed
    plan, inside the adaptive plan's query stages."""
    from warehouse.sql.analyst import to_spark_sql

    spark.catalog.setCurrentDatabase("warehouse")
    frame = spark.sql(to_spark_sql(sql, "postgres"))
    frame.collect()
    found, stack = [], [frame._jdf.queryExecution().executedPlan()]  # noqa: SLF001
    while stack:
        node = stack.pop()
        kind = node.getClass().getSimpleName()
        if kind == "AdaptiveSparkPlanExec":
            stack.append(node.executedPlan())
            continue
        if kind.endswith("QueryStageExec"):
            stack.append(node.plan())
            continue
        found.append(node)
        children = node.children()
        stack.extend(children.apply(i) for i in range(children.size()))
    return found


def _comet_plan(spark, sql: str) -> dict[str, Any]:
    """What Comet did with ``sql``: the operators of its executed plan, and Comet's own account
    (its ``EXPLAIN EXTENDED`` section): operators it runs natively of those it could, why the
    others stay in Spark, and the scans."""
    from warehouse.sql.analyst import to_spark_sql

    operators = [node.getClass().getSimpleName() for node in _executed(spark, sql)]
    text = spark.sql(f"EXPLAIN EXTENDED {to_spark_sql(sql, 'postgres')}").first()[0]
    comet = text.partition("== Extended Information (Comet) ==")[2]
    summary = re.search(r"Comet accelerated (\d+) out of (\d+)", comet)
    return {"operators": operators,
            "native": int(summary[1]) if summary else 0,
            "eligible": int(summary[2]) if summary else 0,
            "fallbacks": sorted(set(re.findall(r"\[COMET: ([^\]]+)\]", comet))),
            "scans": sorted({line.strip(" +-:") for line in comet.splitlines() if "Scan" in line})}


# -- side by side, and the report --------------------------------------------------------------------


def _side_by_side(paths: dict[str, Path], endpoints: dict[str, tuple[str, int]]
                  ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, list]], list[str]]:
    """Each query once in each engine (warm-up), then ``ROUNDS`` rounds of each query in each
    engine in turn: the median seconds and the rows, per engine and query, and the load average
    at the start of each round and at the end."""
    import duckdb
    import psycopg

    con = duckdb.connect(config={"threads": 2})
    for name, path in paths.items():
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
    with ExitStack() as stack:
        runners = {"duckdb": lambda sql: con.execute(sql).fetchall()}
        for accelerator, (host, port) in endpoints.items():
            conn = stack.enter_context(psycopg.connect(host=host, port=port, user="analyst",
                                                       password=PASSWORD, dbname="warehouse",
                                                       autocommit=True))
            runners[accelerator] = lambda sql, conn=conn: conn.execute(sql).fetchall()
        rows = {engine: {name: [list(r) for r in run(sql)] for name, sql in ssb.QUERIES.items()}
                for engine, run in runners.items()}
        times: dict[str, dict[str, list[float]]] = {e: {n: [] for n in ssb.QUERIES} for e in runners}
        loads = []
        for _ in range(ROUNDS):
            loads.append(_loadavg())
            for name, sql in ssb.QUERIES.items():
                for engine, run in runners.items():
                    started = time.perf_counter()
                    run(sql)
                    times[engine][name].append(time.perf_counter() - started)
        loads.append(_loadavg())
    medians = {e: {n: statistics.median(t) for n, t in by_query.items()} for e, by_query in times.items()}
    return medians, rows, loads


def _same(a: list[list], b: list[list]) -> bool:
    """The same rows in any order, numbers within a relative 1e-9."""
    def key(row: list) -> list:
        return [(0, v, "") if isinstance(v, int | float) else (1, 0, str(v)) for v in row]

    def close(x: Any, y: Any) -> bool:
        numbers = isinstance(x, int | float) and isinstance(y, int | float)
        return math.isclose(x, y, rel_tol=1e-9) if numbers else x == y

    return len(a) == len(b) and all(
        len(r) == len(s) and all(map(close, r, s))
        for r, s in zip(sorted(a, key=key), sorted(b, key=key), strict=True))


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _report(spark: dict, comet: dict[str, dict], seconds: dict[str, dict[str, float]],
            rows: dict[str, dict[str, list]], loads: list[str]) -> None:
    """The table, the geometric means against the targets, files scanned, Comet's plans."""
    names = list(ssb.QUERIES)
    before, after = spark["files_before"], spark["files_after"]
    print(f"\nSSB, scale factor {SF:g}: lineorder {spark['fact_rows']:,} rows (loaded in "
          f"{spark['load_s']:.0f} s, OPTIMIZE {spark['optimize_s']:.0f} s: "
          f"{spark['fact_files'][0]} files -> {spark['fact_files'][1]}); Spark local[2] through "
          f"the SQL endpoint vs DuckDB (2 threads), median of {ROUNDS} warm rounds, interleaved")
    print(f"{'query':<6} {'rows':>5} {'plain s':>8} {'duckdb s':>8} {'ratio':>6} {'comet s':>8} "
          f"{'ratio':>6} {'plain/comet':>11} {'fact files scanned':>19}  equal")
    mismatches = []
    for name in names:
        p, c, d = (seconds[e][name] for e in ("none", "comet", "duckdb"))
        equal = {e: _same(rows[e][name], rows["duckdb"][name]) for e in ("none", "comet")}
        mismatches += [f"{name} ({'plain' if e == 'none' else e})" for e, ok in equal.items()
                       if not ok]
        print(f"{name:<6} {len(rows['duckdb'][name]):>5} {p:>8.3f} {d:>8.3f} {p / d:>5.1f}x "
              f"{c:>8.3f} {c / d:>5.1f}x {p / c:>10.2f}x {before[name]:>9} -> {after[name]:<6}  "
              f"{'yes' if all(equal.values()) else 'NO'}")

    def geomean(a: str, b: str) -> float:
        return math.exp(statistics.fmean(math.log(seconds[a][n] / seconds[b][n]) for n in names))

    print(f"geometric mean, Spark / DuckDB: plain {geomean('none', 'duckdb'):.1f}x, Comet "
          f"{geomean('comet', 'duckdb'):.1f}x (target <= {TARGET:g}x, moonshot <= {MOONSHOT:g}x); "
          f"plain / Comet: {geomean('none', 'comet'):.2f}x")
    print(f"pruning probe (Q1.1's year on lo_orderdate): {before['probe']} fact files scanned "
          f"before OPTIMIZE, {after['probe']} after")
    _report_comet(comet)
    print(f"load average (1/5/15 min) at the start of each round, and at the end: "
          f"{'; '.join(loads)}")
    if mismatches:
        raise SystemExit(f"results differ from DuckDB's: {', '.join(mismatches)}")


def _report_comet(plans: dict[str, dict]) -> None:
    native = sum(p["native"] for p in plans.values())
    eligible = sum(p["eligible"] for p in plans.values())
    each = ", ".join(f"{name} {p['native']}/{p['eligible']}" for name, p in plans.items())
    print(f"Comet's EXPLAIN: {native} of {eligible} eligible operators of the 13 plans native "
          f"(per query: {each})")
    for reason in sorted({r for p in plans.values() for r in p["fallbacks"]}):
        print(f"  fallback: {reason}")
    for scan in sorted({s for p in plans.values() for s in p["scans"]}):
        print(f"  scan: {scan[:160]}")
    operators = Counter(op for p in plans.values() for op in p["operators"])
    for native_ops in (True, False):
        ops = {op: n for op, n in operators.most_common() if op.startswith("Comet") == native_ops}
        print(f"  executed plans, {'Comet' if native_ops else 'Spark'} operators: "
              + ", ".join(f"{op} {n}" for op, n in ops.items()))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--spark"]:
        spark_application(sys.argv[2], Path(sys.argv[3]))
    else:
        main()
