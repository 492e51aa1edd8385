"""Benchmark: the warm SQL endpoint against a Spark start per query.

A warehouse table of ``BENCH_ROWS`` customers (default 1M) in a fresh home; the endpoint runs
in this process on its own Spark application (FAIR scheduler, as ``lakehouse serve sql``).
Side by side in one run:

- a point query (``WHERE customer_id = k``, a new k each time) through psycopg on a warm
  connection, ``BENCH_ROUNDS`` times (default 20): median and worst;
- ``lakehouse sql`` (its own process) with the endpoint running, ``BENCH_CLI_ROUNDS`` times
  (default 5), against ``lakehouse sql --local`` (a Spark session started for the query), once.

Targets: point query <= 1 s; the CLI through the endpoint <= 1.5 s.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

ROWS = int(os.environ.get("BENCH_ROWS", 1_000_000))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 20))
CLI_ROUNDS = int(os.environ.get("BENCH_CLI_ROUNDS", 5))
PASSWORD = "bench-password"


def main() -> None:
    import psycopg

    from lake.config.settings import load_settings
    from lake.platform.catalog import ensure_databases
    from lake.platform.session import get_session
    from warehouse.sql.endpoint.server import SPARK_CONF, EndpointConfig, SqlEndpoint

    home = Path(tempfile.mkdtemp(prefix="bench-endpoint-"))
    settings = load_settings(env={}, home=home, sql_endpoint_password=PASSWORD)
    spark = get_session(settings, "bench-sql-endpoint", conf=SPARK_CONF)
    ensure_databases(spark, settings)
    spark.range(ROWS).selectExpr("id AS customer_id", "concat('customer ', id) AS name",
                                 "id % 97 AS segment", "current_date() AS since") \
        .repartition(4).write.format("delta").saveAsTable("warehouse.bench_customers")
    endpoint = SqlEndpoint(spark, EndpointConfig.from_settings(settings, port=0)).start(home)
    host, port = endpoint.address
    point = []
    with psycopg.connect(host=host, port=port, user="analyst", password=PASSWORD,
                         dbname="warehouse", autocommit=True) as conn:
        conn.execute("SELECT count(*) FROM bench_customers").fetchall()  # warm-up
        for i in range(ROUNDS):
            key = (i * 7919) % ROWS
            started = time.perf_counter()
            rows = conn.execute("SELECT * FROM bench_customers WHERE customer_id = %s",
                                (key,)).fetchall()
            point.append(time.perf_counter() - started)
            assert len(rows) == 1 and rows[0][0] == key
    env = {**os.environ, **settings.as_env(), "PYTHONPATH": str(REPO)}
    query = "SELECT name FROM bench_customers WHERE customer_id = 4242"

    def cli(*extra: str) -> float:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "lakehouse.cli.main", "sql", *extra, query],
                              env=env, cwd=home, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        assert done.returncode == 0 and "customer 4242" in done.stdout, done.stderr
        return elapsed

    warm = [cli() for _ in range(CLI_ROUNDS)]
    endpoint.close()
    cold = cli("--local")
    spark.stop()
    shutil.rmtree(home, ignore_errors=True)  # its metastore server stops with it
    print(f"rows in the table: {ROWS:,}")
    print(f"point query, warm endpoint: median {statistics.median(point):.3f} s, worst "
          f"{max(point):.3f} s over {ROUNDS} (target <= 1 s)")
    print(f"lakehouse sql through the endpoint: median {statistics.median(warm):.2f} s, worst "
          f"{max(warm):.2f} s over {CLI_ROUNDS} (target <= 1.5 s)")
    print(f"lakehouse sql --local (Spark started for the query): {cold:.2f} s; "
          f"ratio {cold / statistics.median(warm):.1f}x")


if __name__ == "__main__":
    main()
