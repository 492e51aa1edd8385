"""Lineage benchmarks (not tests): `make bench` runs this file and prints tables of figures.

1. Every lineage query on a SQLite store holding 10,000 runs (target: each under 1 s).
2. A small real Spark + Delta write job with lineage on vs off, interleaved in one run
   (target: on/off <= 1.05).
3. 1,000 runs (2,000 events) through an outage of the HTTP endpoint and of the store, then replay:
   events lost and duplicated (target: 0 and 0).

BENCH_RUNS, BENCH_JOB_ROUNDS and BENCH_DELIVERY_RUNS scale it down for a quick look.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

RUNS = int(os.environ.get("BENCH_RUNS", "10000"))
JOB_ROUNDS = int(os.environ.get("BENCH_JOB_ROUNDS", "12"))
DELIVERY_RUNS = int(os.environ.get("BENCH_DELIVERY_RUNS", "1000"))
T0 = datetime(2026, 1, 1, tzinfo=UTC)
JOBS = ("bronze_orders", "validate_orders", "load_warehouse")
TABLES = ("landing.orders", "bronze.orders", "silver.orders", "warehouse.fact_orders")


def _events(root: Path, index: int) -> list[dict]:
    return [json.loads(to_json(e)) for e in _run_events(root, index)]


def _run_events(root: Path, index: int) -> list:
    """One run of one of three chained jobs: START, COMPLETE with versioned input and output."""
    from lineage.events import DatasetRef, QualityResult, run_event

    step = index % 3
    day = index // 3
    source, target = TABLES[step], TABLES[step + 1]
    run_id = str(uuid.uuid4())
    when = T0 + timedelta(minutes=index)
    quality = QualityResult(row_count=100, metrics={"rows_valid": 98},
                            assertions=(("not_null", day % 7 != 0, "amount"),))
    inputs = [DatasetRef(str(root / source.replace(".", "/")), table=source, version=day,
                         quality=quality if step == 1 else None)]
    outputs = [DatasetRef(str(root / target.replace(".", "/")), table=target, version=day + 1,
                          row_count=100 + day % 5, schema=(("id", "bigint"), ("amount", "double")))]
    common = {"namespace": "lakehouse", "job_name": JOBS[step], "run_id": run_id,
              "parameters": {"ds": (T0 + timedelta(days=day)).date().isoformat()}}
    return [run_event("START", event_time=when, inputs=inputs, **common),
            run_event("COMPLETE", event_time=when + timedelta(seconds=30), inputs=inputs,
                      outputs=outputs, **common)]


def _timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def _print_table(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    lines = [header, *[tuple(str(c) for c in r) for r in rows]]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print(f"\n{title}")
    for number, line in enumerate(lines):
        print("  " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))
        if number == 0:
            print("  " + "  ".join("-" * w for w in widths))


def bench_queries(folder: Path) -> None:
    from lineage.diff import diff_runs
    from lineage.queries import downstream, upstream
    from lineage.render import dataset_quality, neighbourhood
    from lineage.reproduce import input_reads
    from lineage.store import MetadataStore

    url = f"sqlite:///{folder / 'lineage.db'}"
    store = MetadataStore(url)
    started = time.perf_counter()
    for index in range(RUNS):
        for event in _events(folder, index):
            store.ingest(event)
    ingest_s = time.perf_counter() - started
    runs = store.executions(job="validate_orders", limit=2)
    middle = T0 + timedelta(minutes=RUNS // 2)
    queries = {
        "upstream warehouse.fact_orders": lambda: upstream(store, "warehouse.fact_orders"),
        "downstream landing.orders": lambda: downstream(store, "landing.orders"),
        "upstream --as-of (midway)": lambda: upstream(store, "warehouse.fact_orders",
                                                      as_of=middle),
        "graph (both ways + quality)": lambda: dataset_quality(
            store, neighbourhood(store, "silver.orders")),
        "runs --job (newest 100)": lambda: store.executions(job="validate_orders", limit=100),
        "runs --context (newest 100)": lambda: store.executions(context="validate_orders",
                                                                limit=100),
        "artifacts --dataset (newest 100)": lambda: store.artifacts(
            name=upstream(store, "bronze.orders", depth=0).roots[0].split(":", 1)[1], limit=100),
        "inputs RUN": lambda: store.run(runs[-1].run_id),
        "diff RUN_A RUN_B": lambda: diff_runs(store, runs[0].run_id, runs[-1].run_id),
        "reproduce RUN": lambda: input_reads(store, runs[-1].run_id),
        "events --since (last 100 min)": lambda: store.events(
            since=T0 + timedelta(minutes=RUNS - 100)),
    }
    rows = []
    for name, query in queries.items():
        query()  # warm
        seconds = min(_timed(query)[0] for _ in range(3))
        rows.append((name, f"{seconds * 1000:8.1f} ms", "ok" if seconds < 1 else "OVER 1 s"))
    store.close()
    _print_table(f"1. queries on a SQLite store of {RUNS:,} runs ({2 * RUNS:,} events, ingested "
                 f"in {ingest_s:.0f} s = {2 * RUNS / ingest_s:.0f} events/s)",
                 ("query", "best of 3", "< 1 s"), rows)


def bench_job_overhead(folder: Path) -> None:
    from lake.settings import load_settings
    from lake.spark import get_session
    from lineage.emitter import emit_safely, make_client
    from lineage.events import DatasetRef, run_event

    settings = load_settings(env={}, home=folder / "home", shuffle_partitions=2)
    spark = get_session(settings, app_name="bench-lineage")
    table = str(folder / "bench_delta")
    client = make_client(f"sqlite:///{folder / 'job-lineage.db'}", folder / "spool", "store")

    def job(lineage: bool, round_: int) -> None:
        run = {"namespace": "lakehouse", "job_name": "bench_write", "run_id": str(uuid.uuid4())}
        if lineage:
            emit_safely(client, run_event("START", event_time=datetime.now(UTC), **run))
        df = spark.range(2000).selectExpr("id", f"id * {round_} AS v")
        df.write.format("delta").mode("overwrite").save(table)
        if lineage:
            version = spark.sql(f"DESCRIBE HISTORY delta.`{table}` LIMIT 1").first()["version"]
            emit_safely(client, run_event(
                "COMPLETE", event_time=datetime.now(UTC), **run,
                outputs=[DatasetRef(table, table="bench.delta", version=version, row_count=2000,
                                    schema=(("id", "bigint"), ("v", "bigint")))]))
        else:
            spark.sql(f"DESCRIBE HISTORY delta.`{table}` LIMIT 1").first()  # same work

    job(True, 0)
    job(False, 0)  # warm both paths
    on, off = [], []
    for round_ in range(JOB_ROUNDS):  # interleaved, alternating who goes first
        order = (True, False) if round_ % 2 == 0 else (False, True)
        for lineage in order:
            seconds = _timed(lambda lineage=lineage, r=round_: job(lineage, r))[0]
            (on if lineage else off).append(seconds)
    spark.stop()
    median_on, median_off = statistics.median(on), statistics.median(off)
    ratio = median_on / median_off
    _print_table("2. a Spark + Delta write job, lineage on vs off (median of "
                 f"{JOB_ROUNDS} interleaved runs each)",
                 ("lineage", "median s", "ratio", "target <= 1.05"),
                 [("off", f"{median_off:.3f}", "1.000", ""),
                  ("on (store)", f"{median_on:.3f}", f"{ratio:.3f}",
                   "ok" if ratio <= 1.05 else "OVER")])


def bench_delivery(folder: Path) -> None:
    from lineage.emitter import emit_safely, make_client
    from lineage.server import make_server
    from lineage.spool import spooled
    from lineage.store import MetadataStore
    from lineage.transports import http_spool_dir, replay_all
    from tests.lineage.databases import free_port

    events = [e for i in range(DELIVERY_RUNS) for e in _run_events(folder, i)]
    expected = {(e.run.runId, e.eventType.value) for e in events}
    rows = []

    # HTTP endpoint down for the first half of the runs, back for the second half, then replay.
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    receiver = MetadataStore(f"sqlite:///{folder / 'receiver.db'}")
    client = make_client("sqlite://", folder / "spool-http", endpoint)
    half = len(events) // 2
    started = time.perf_counter()
    for event in events[:half]:
        emit_safely(client, event)
    server = make_server(receiver, "127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    for event in events[half:]:
        emit_safely(client, event)
    replay_all(endpoint, store_url="sqlite://", spool_dir=folder / "spool-http")
    seconds = time.perf_counter() - started
    got = [(e["run"]["runId"], e["eventType"]) for e in receiver.events()]
    left = len(spooled(http_spool_dir(folder / "spool-http", endpoint)))
    rows.append(("HTTP endpoint down for half", len(events), len(expected - set(got)),
                 len(got) - len(set(got)), left, f"{seconds:.1f}"))
    server.shutdown()
    server.server_close()
    receiver.close()

    # The store unreachable (its folder missing) for the first half, then back.
    home = folder / "store-home"
    url = f"sqlite:///{home / 'lineage.db'}"
    client = make_client(url, folder / "spool-store", "store")
    started = time.perf_counter()
    for event in events[:half]:
        emit_safely(client, event)
    home.mkdir()
    for event in events[half:]:
        emit_safely(client, event)
    replay_all("store", store_url=url, spool_dir=folder / "spool-store")
    seconds = time.perf_counter() - started
    store = MetadataStore(url)
    got = [(e["run"]["runId"], e["eventType"]) for e in store.events()]
    store.close()
    rows.append(("store down for half", len(events), len(expected - set(got)),
                 len(got) - len(set(got)), len(spooled(folder / "spool-store")),
                 f"{seconds:.1f}"))
    _print_table(f"3. {DELIVERY_RUNS:,} runs through an outage, then replay",
                 ("scenario", "events", "lost", "duplicated", "still spooled", "seconds"), rows)


def to_json(event) -> str:
    from lineage.events import to_json as serialize

    return serialize(event)


def main() -> int:
    import logging

    logging.basicConfig(level=logging.ERROR)
    folder = Path(tempfile.mkdtemp(prefix="bench-lineage-"))
    try:
        for name, bench in (("queries", bench_queries), ("delivery", bench_delivery),
                            ("job", bench_job_overhead)):
            (folder / name).mkdir()
            bench(folder / name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
