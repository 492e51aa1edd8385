"""Lineage benchmarks (not tests): `make bench` runs this file and prints tables of figures.

1. Building a SQLite store of 10,000 runs (batched, and one event per transaction as jobs emit),
   then every lineage query on it, through the Python API and the CLI (target: each under 1 s).
2. A small real Spark + Delta write job with the lineage a real job emits on vs off, interleaved
   in one run, with the lineage part also timed directly (target: on/off <= 1.05).
3. 1,000 runs (2,000 events) through an outage of the HTTP endpoint and of the store, then replay:
   events lost and duplicated (target: 0 and 0).

BENCH_RUNS, BENCH_SINGLE_RUNS, BENCH_JOB_ROUNDS and BENCH_DELIVERY_RUNS scale it down for a
quick look.
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
SINGLE_RUNS = int(os.environ.get("BENCH_SINGLE_RUNS", "500"))
INGEST_BATCH = 500
JOB_ROUNDS = int(os.environ.get("BENCH_JOB_ROUNDS", "40"))
DELIVERY_RUNS = int(os.environ.get("BENCH_DELIVERY_RUNS", "1000"))
T0 = datetime(2026, 1, 1, tzinfo=UTC)
JOBS = ("bronze_orders", "validate_orders", "load_warehouse")
TABLES = ("landing.orders", "bronze.orders", "silver.orders", "warehouse.fact_orders")


def _events(root: Path, index: int) -> list[dict]:
    return [json.loads(to_json(e)) for e in _run_events(root, index)]


def _run_events(root: Path, index: int) -> list:
    """One run of one of three chained jobs: START, COMPLETE with versioned input and output."""
    from lineage.events.run_events import DatasetRef, QualityResult, run_event

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
    from lineage.queries.diff import diff_runs
    from lineage.queries.graph import downstream, neighbourhood, upstream
    from lineage.queries.reproduce import input_reads
    from lineage.store.metadata_store import MetadataStore
    from lineage.views.render import dataset_quality, render

    url = f"sqlite:///{folder / 'lineage.db'}"
    store = MetadataStore(url)
    events = [e for index in range(RUNS) for e in _events(folder, index)]
    started = time.perf_counter()
    for first in range(0, len(events), INGEST_BATCH):
        store.ingest_many(events[first:first + INGEST_BATCH])
    batch_s = time.perf_counter() - started
    # One event per transaction, as a job emits them, into the full store.
    singles = [e for index in range(RUNS, RUNS + SINGLE_RUNS) for e in _events(folder, index)]
    started = time.perf_counter()
    for event in singles:
        store.ingest(event)
    single_s = time.perf_counter() - started
    runs = store.executions(job="validate_orders", limit=2)
    middle = T0 + timedelta(minutes=RUNS // 2)
    bronze = upstream(store, "bronze.orders", depth=0).roots[0].split(":", 1)[1]

    def graph_html():
        graph = neighbourhood(store, "silver.orders")
        return render(graph, "html", dataset_quality(store, graph))

    queries = {
        "upstream warehouse.fact_orders": lambda: upstream(store, "warehouse.fact_orders"),
        "downstream landing.orders": lambda: downstream(store, "landing.orders"),
        "upstream --depth 1": lambda: upstream(store, "warehouse.fact_orders", depth=1),
        "upstream --as-of (midway)": lambda: upstream(store, "warehouse.fact_orders",
                                                      as_of=middle),
        "graph --format html (both ways + quality)": graph_html,
        "runs --job (newest 100)": lambda: store.executions(job="validate_orders", limit=100),
        "runs --context (newest 100)": lambda: store.executions(context="validate_orders",
                                                                limit=100),
        "artifacts --dataset (newest 100)": lambda: store.artifacts(name=bronze, limit=100),
        "artifacts --context (newest 100)": lambda: store.artifacts(context="validate_orders",
                                                                    limit=100),
        "inputs RUN (and --check)": lambda: store.run(runs[-1].run_id),
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
    _print_table(
        f"1a. building a SQLite store of {RUNS:,} runs ({len(events):,} events)",
        ("ingestion", "events", "seconds", "events/s"),
        [(f"ingest_many, {INGEST_BATCH} per transaction", f"{len(events):,}", f"{batch_s:.1f}",
          f"{len(events) / batch_s:.0f}"),
         ("ingest, one per transaction (as jobs emit)", f"{len(singles):,}", f"{single_s:.1f}",
          f"{len(singles) / single_s:.0f}")])
    _print_table(f"1b. queries on that store ({RUNS + SINGLE_RUNS:,} runs), Python API",
                 ("query", "best of 3", "< 1 s"), rows)
    _print_table("1c. the same through the CLI (a new process each: start-up, imports, "
                 "opening the store)", ("command", "best of 3", "< 1 s"),
                 _cli_rows(url, runs[0].run_id, runs[-1].run_id))


def _cli_rows(url: str, run_a: str, run_b: str) -> list[tuple]:
    import subprocess

    lakehouse = Path(sys.executable).with_name("lakehouse")
    env = {**os.environ, "LAKEHOUSE_LINEAGE_URL": url}
    commands = [
        ["lineage", "upstream", "warehouse.fact_orders"],
        ["lineage", "downstream", "landing.orders", "--format", "json"],
        ["lineage", "runs", "--job", "validate_orders"],
        ["lineage", "inputs", run_b],
        ["lineage", "diff", run_a, run_b],
        ["lineage", "graph", "silver.orders", "--format", "html"],
    ]
    rows = []
    for command in commands:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([str(lakehouse), *command], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - started)
        seconds = min(times)
        rows.append(("lakehouse " + " ".join("RUN" if c in (run_a, run_b) else c
                                             for c in command),
                     f"{seconds * 1000:8.1f} ms", "ok" if seconds < 1 else "OVER 1 s"))
    return rows


def bench_job_overhead(folder: Path) -> None:
    """The lineage a real job emits (jobs.run.lineage_run: a client per run, START, COMPLETE with
    the output's schema, version and row count, into the store) around a small Spark + Delta
    write, against the same write without it. The lineage part is also timed on its own, which
    Spark's run-to-run noise does not blur."""
    from delta.tables import DeltaTable

    from jobs.run import JobArgs, lineage_run
    from lake.config.settings import load_settings
    from lake.platform.session import get_session
    from lineage.events.run_events import DatasetRef

    settings = load_settings(env={}, home=folder / "home", shuffle_partitions=2)
    settings.home.mkdir(parents=True, exist_ok=True)
    spark = get_session(settings, app_name="bench-lineage")
    table = str(folder / "bench_delta")
    args = JobArgs("bench_write", datetime(2026, 1, 1).date(), "bench", False)

    def write(round_: int) -> int:
        df = spark.range(2000).selectExpr("id", f"id * {round_} AS v")
        df.write.format("delta").mode("overwrite").save(table)
        # Jobs read the version they wrote in either case (lake.delta_io.write_batch does).
        return DeltaTable.forPath(spark, table).history(1).select("version").first()[0]

    def job(lineage: bool, round_: int) -> tuple[float, float]:
        """Run one job; the seconds spent emitting lineage, and describing the output for it."""
        if not lineage:
            write(round_)
            return 0.0, 0.0
        started = time.perf_counter()
        context = lineage_run(spark, settings, args)
        record = context.__enter__()  # a new client, START
        emitting = time.perf_counter() - started
        version = write(round_)
        started = time.perf_counter()
        schema = tuple((f.name, f.dataType.simpleString())
                       for f in DeltaTable.forPath(spark, table).toDF().schema)
        record.outputs.append(DatasetRef(table, table="bench.delta", version=version,
                                         row_count=2000, schema=schema))
        describing = time.perf_counter() - started
        started = time.perf_counter()
        context.__exit__(None, None, None)  # COMPLETE
        return emitting + time.perf_counter() - started, describing

    for round_ in range(3):  # warm both paths (JIT, caches, the store's first open)
        job(True, round_)
        job(False, round_)
    on, off, ratios, emit_s, describe_s = [], [], [], [], []
    for round_ in range(JOB_ROUNDS):  # interleaved, alternating who goes first
        times = {}
        for lineage in ((True, False) if round_ % 2 == 0 else (False, True)):
            seconds, (emitting, describing) = _timed(
                lambda lineage=lineage, r=round_: job(lineage, r))
            times[lineage] = seconds
            if lineage:
                emit_s.append(emitting)
                describe_s.append(describing)
        on.append(times[True])
        off.append(times[False])
        ratios.append(times[True] / times[False])
    spark.stop()
    median_on, median_off = statistics.median(on), statistics.median(off)
    low, high = _bootstrap_median(ratios)
    emitting, describing = statistics.median(emit_s), statistics.median(describe_s)
    direct = 1 + (emitting + describing) / median_off
    _print_table(
        f"2. a Spark + Delta write job, lineage on vs off ({JOB_ROUNDS} interleaved pairs)",
        ("measure", "value", "target <= 1.05"),
        [("median job, lineage off", f"{median_off * 1000:.0f} ms", ""),
         ("median job, lineage on", f"{median_on * 1000:.0f} ms", ""),
         ("ratio of medians (on / off)", f"{median_on / median_off:.3f}",
          "ok" if median_on / median_off <= 1.05 else "OVER"),
         ("median of paired ratios [95% CI]",
          f"{statistics.median(ratios):.3f} [{low:.3f}, {high:.3f}]",
          "ok" if high <= 1.05 else "OVER" if low > 1.05 else "inconclusive"),
         ("lineage timed directly: emitting (client, START, COMPLETE)",
          f"{emitting * 1000:.1f} ms", ""),
         ("lineage timed directly: describing the output (Delta schema)",
          f"{describing * 1000:.1f} ms", ""),
         ("1 + lineage time / median job off", f"{direct:.3f}",
          "ok" if direct <= 1.05 else "OVER")])


def _bootstrap_median(values: list[float], resamples: int = 2000) -> tuple[float, float]:
    """A 95% bootstrap confidence interval of the median of ``values``."""
    import random

    generator = random.Random(7)
    medians = sorted(statistics.median(generator.choices(values, k=len(values)))
                     for _ in range(resamples))
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


def bench_delivery(folder: Path) -> None:
    from lineage.delivery.destinations import http_spool_dir
    from lineage.delivery.emitter import emit_safely, make_client
    from lineage.delivery.replay import replay_all
    from lineage.delivery.spool import spooled
    from lineage.store.metadata_store import MetadataStore
    from lineage.views.server import make_server
    from tests.databases import free_port

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
    from lineage.events.run_events import to_json as serialize

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
