"""Benchmark: a small day of the retail demo, end to end through Airflow, and its cost over days.

In a fresh home (``LAKEHOUSE_HOME`` in a temp folder, ``LAKEHOUSE_PROJECT=examples/retail``),
one process runs days 1..``BENCH_DAYS`` (default 30) of the example's generator as ``make demo``
does (``lakehouse run retail --ds D`` through :func:`lakehouse.cli.main.main`, day 4 with
``--environment SERVING``): one warm Spark application serves every day, every Spark step runs
in its Airflow task's process. Per day it prints end-to-end seconds (the ingest DAG and the
warehouse DAG, as ``lakehouse run`` does, with Airflow's own start-up of each DAG run) and each
task's seconds (Airflow's task instance); the Delta commits of every table, read from each
table's history, are attributed to the task that ran when they were made.

1. **Small batch latency.** Target: a warm day <= 30 s end to end (moonshot 15 s), the median of
   days 3..N (day 1 creates the tables and warms the JVM, day 2 evolves two contracts); and each
   Spark step <= 2x a minimal spark-submit of the same Delta writes. For day ``BENCH_SUBMIT_DAY``
   (default 5, the first plain day after the schema changes of days 2-4), side by side:
   the step in process (warm), the real step as a spark-submit (a second fresh home runs days
   1..that day with ``LAKEHOUSE_SPARK_TASKS=spark_submit``, so each step is the
   SparkSubmitOperator of ``jobs/<job>.py``), and :mod:`tests.bench.minimal_writes` under
   spark-submit with the platform's settings (``spark_conf(settings, short_lived=True)``, tables
   by path so no metastore): the same commits, to copies of the same tables as they were before
   the step, with the rows the step's commits added (a MERGE merges the same rows). Both
   spark-submits include the JVM's start-up; the minimal one runs ``BENCH_SUBMIT_ROUNDS``
   (default 2) times, before and after the spark-submit home, and its median is used. A last
   minimal spark-submit makes the same writes twice: its second pass (warm JVM) next to the step
   in process says how much of a warm step is the platform's own work.
2. **Incremental.** Target: day N <= 1.2x day 1 (cost follows new data, not history). Day N /
   day 1 and day N / day 2 (day 1 creates tables and warms the JVM: day 2 is the honest
   steady-state comparison), per step, each step's trend over days 3..N (least-squares seconds
   per day), and the size of history at day N.

``BENCH_DAYS`` scales it down (3 is enough to check the harness), ``BENCH_SKIP_SUBMIT=1`` skips
part 1's spark-submits, ``BENCH_KEEP=1`` keeps the homes (their paths are printed; the days and
every commit are in ``<home>/bench-days.json``). Progress goes to stderr; Airflow's and Spark's
own output to ``<home>/logs/bench-daily.log``. A 30-day run takes ~25 min plus ~10 min of
spark-submits.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

DAYS = int(os.environ.get("BENCH_DAYS", 30))
SKIP_SUBMIT = os.environ.get("BENCH_SKIP_SUBMIT", "") not in ("", "0")
SUBMIT_DAY = min(int(os.environ.get("BENCH_SUBMIT_DAY", 5)), DAYS)
ROUNDS = int(os.environ.get("BENCH_SUBMIT_ROUNDS", 2))
KEEP = os.environ.get("BENCH_KEEP", "") not in ("", "0")
SEED, FIRST_DAY = 7, date(2026, 1, 1)
TARGET_DAY_S, MOONSHOT_DAY_S, TARGET_STEP, TARGET_INCREMENTAL = 30.0, 15.0, 2.0, 1.2
TASKS = ("wait_for_delivery", "land", "bronze", "validate", "load")
STEPS = {"bronze": "bronze", "validate": "validate", "load": "load_warehouse"}  # task -> job
MINIMAL = Path(__file__).with_name("minimal_writes.py")
# settings that may stay as the developer set them; every other LAKEHOUSE_* would point the
# fresh home elsewhere
KEPT_SETTINGS = ("LAKEHOUSE_JARS_DIR", "LAKEHOUSE_SPARK_MASTER", "LAKEHOUSE_SHUFFLE_PARTITIONS")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fresh_home(prefix: str, spark_tasks: str) -> dict[str, str]:
    """An environment for a new home of the retail example."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LAKEHOUSE_") or k in KEPT_SETTINGS}
    return {**env, "LAKEHOUSE_HOME": tempfile.mkdtemp(prefix=prefix),
            "LAKEHOUSE_PROJECT": str(REPO / "examples" / "retail"),
            "LAKEHOUSE_SPARK_TASKS": spark_tasks}


def run_days(days: int, label: str) -> list[dict]:
    """Days 1..``days`` of the retail example in this process, as ``make demo`` runs them (the
    home is the environment's); stops at the first failed day."""
    from examples.retail.generator.source import environment_of, generate_drop
    from lake.config.settings import load_settings
    from lakehouse.cli.context import jvm_output_to
    from lakehouse.cli.main import main as lakehouse

    settings = load_settings()
    log = settings.home / "logs" / "bench-daily.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    dates = [FIRST_DAY + timedelta(days=n) for n in range(days)]
    for day in dates:
        generate_drop(Path(settings.source_root) / "retail" / f"ds={day}", day, SEED)
    out = []
    for n, day in enumerate(dates, 1):
        environment = environment_of(day)
        argv = ["run", "retail", "--ds", day.isoformat(), "--format", "json"]
        argv += ["--environment", environment] if environment != "TRAINING" else []
        since, report = datetime.now(UTC), io.StringIO()
        started = time.perf_counter()
        with jvm_output_to(log), redirect_stdout(report):
            code = lakehouse(argv)
        seconds = time.perf_counter() - started
        results = json.loads(report.getvalue() or "[]")
        tasks = {t: s for r in results for t, s in r["tasks"].items()}
        out.append({"day": day.isoformat(), "environment": environment, "seconds": seconds,
                    "tasks": tasks, "windows": _task_windows(since), "ok": code == 0,
                    "dags": {r["dag"]: r["seconds"] for r in results}})
        say(f"  [{label}] day {n}/{days} {day} {environment}: {seconds:.1f} s  "
            + "  ".join(f"{t} {tasks[t]:.1f}" for t in TASKS if t in tasks))
        if code != 0:
            say(f"  [{label}] {day} failed (exit {code}); Airflow's output is in {log}")
            break
    return out


def _task_windows(since: datetime) -> dict[str, tuple[float, float]]:
    """Start and end (epoch seconds) of the task instances that started after ``since``."""
    from airflow.models.taskinstance import TaskInstance as TI
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(select(TI.task_id, TI.start_date, TI.end_date)
                               .where(TI.start_date >= since)).all()
    return {task: (start.timestamp(), end.timestamp()) for task, start, end in rows if end}


def read_commits(spark, settings, days: list[dict]) -> list[dict]:
    """Every Delta commit of the home's tables, with the day and task it was made in."""
    from delta.tables import DeltaTable

    commits = []
    for root in (Path(settings.lake_root), Path(settings.warehouse_root)):
        for log in sorted(root.rglob("_delta_log")):
            history = (DeltaTable.forPath(spark, str(log.parent)).history()
                       .selectExpr("version", "unix_millis(timestamp) AS ms", "operation",
                                   "operationParameters AS params", "operationMetrics AS metrics")
                       .collect())
            for h in history:
                day, task = _made_in(h.ms / 1000, days)
                commits.append({"table": str(log.parent), "name": log.parent.name,
                                "version": h.version, "operation": h.operation,
                                "params": dict(h.params or {}), "metrics": dict(h.metrics or {}),
                                "day": day, "task": task})
    return commits


def _made_in(at: float, days: list[dict]) -> tuple[str | None, str | None]:
    for d in days:
        for task, (start, end) in d["windows"].items():
            if start - 0.01 <= at <= end + 0.5:
                return d["day"], task
    return None, None


# --- part 1: the minimal spark-submit of a step's writes

def minimal_specs(spark, commits: list[dict], day: str, home: Path) -> dict[str, dict]:
    """Per step of ``day``: the commits :mod:`tests.bench.minimal_writes` makes (each commit's
    added rows pickled beside them), and the tables they go to (path in the home, first version)."""
    specs = {}
    for task in STEPS:
        mine = sorted((c for c in commits if c["day"] == day and c["task"] == task),
                      key=lambda c: (c["table"], c["version"]))
        odd = sorted({c["operation"] for c in mine} - {"WRITE", "MERGE"})
        if odd:
            say(f"  {task} of {day} made {', '.join(odd)} commits, which the minimal script "
                "does not repeat; no baseline for it")
            continue
        spec, sources = [], {}
        for i, c in enumerate(mine):
            rel = str(Path(c["table"]).relative_to(home))
            sources.setdefault(rel, (c["table"], c["version"]))
            df, rows, merge = _commit_rows(spark, c)
            rows_file = home / "bench-minimal" / task / f"commit-{i}.pickle"
            rows_file.parent.mkdir(parents=True, exist_ok=True)
            rows_file.write_bytes(pickle.dumps([tuple(r) for r in rows]))
            spec.append({"table": rel, "operation": c["operation"],
                         "mode": c["params"].get("mode"),
                         "predicate": c["params"].get("predicate") if c["operation"] == "WRITE"
                         else None,
                         "merge": merge, "txn": _txn(Path(c["table"]), c["version"]),
                         "files": len(_added_files(Path(c["table"]), c["version"])),
                         "key": _unique_column(df) if c["operation"] == "MERGE" else None,
                         "rows": str(rows_file), "schema": df.schema.jsonValue(),
                         "added": len(rows)})
        specs[task] = {"task": task, "commits": spec, "sources": sources,
                       "rows": sum(s["added"] for s in spec),
                       "files": sum(s["files"] for s in spec),
                       "operations": sorted({s["operation"] for s in spec})}
    return specs


def _commit_rows(spark, c: dict):
    """The table as the commit left it, the rows the commit added, and for a MERGE how the
    minimal script merges them: ``upsert`` (updated and inserted rows, matched on a key), or for
    a MERGE that changed no row, ``insert_only`` of as many rows of the table as its source had
    (all of them matched, so the MERGE commits nothing, as the real one did)."""
    table, version, metrics = c["table"], c["version"], c["metrics"]
    df = spark.read.format("delta").option("versionAsOf", version).load(table)
    changed = ("numTargetRowsInserted", "numTargetRowsUpdated", "numTargetRowsDeleted")
    if c["operation"] == "MERGE" and not any(int(metrics.get(k, 0)) for k in changed):
        source = int(metrics.get("numSourceRows", 0))
        before = spark.read.format("delta").option("versionAsOf", version - 1).load(table)
        return df, before.limit(source).collect(), "insert_only"
    added = _added_files(Path(table), version)
    rows = (df.where(f"element_at(split(_metadata.file_path, '/'), -1) IN "
                     f"({', '.join(repr(f) for f in added)})").collect() if added else [])
    expected = int(metrics.get("numOutputRows", len(rows)))
    if len(rows) != expected:
        say(f"  {c['name']} v{version}: {len(rows)} rows in its files, {expected} in its metrics")
    return df, rows, "upsert" if c["operation"] == "MERGE" else None


def _actions(table: Path, version: int) -> list[dict]:
    entry = table / "_delta_log" / f"{version:020d}.json"
    return [json.loads(line) for line in entry.read_text().splitlines() if line.strip()]


def _added_files(table: Path, version: int) -> list[str]:
    """Names of the data files a commit added (not those it only put a deletion vector on)."""
    actions = _actions(table, version)
    removed = {a["remove"]["path"] for a in actions if "remove" in a}
    return [unquote(a["add"]["path"]).rsplit("/", 1)[-1] for a in actions
            if "add" in a and a["add"]["path"] not in removed]


def _txn(table: Path, version: int) -> list | None:
    """The commit's transaction id (appId, version), which makes even a no-op write commit."""
    txn = [a["txn"] for a in _actions(table, version) if "txn" in a]
    return [txn[0]["appId"], txn[0]["version"]] if txn else None


def _unique_column(df) -> str:
    """The first column that identifies a row of ``df`` (a surrogate key, a fact's grain)."""
    for field in df.schema.fields[:4]:
        c = f"`{field.name}`"
        got = df.selectExpr("count(*)", f"count(DISTINCT {c})", f"count_if({c} IS NULL)").first()
        if got[0] == got[1] and got[2] == 0:
            return field.name
    raise RuntimeError(f"no key among the first columns of {df.schema.simpleString()[:200]}")


def copy_before(source: str, target: Path, version: int) -> None:
    """``target``: the Delta table at ``source`` as it was before ``version`` (its files, its
    log up to ``version - 1``)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    log = target / "_delta_log"
    for f in log.iterdir():
        head = f.name.lstrip(".").split(".", 1)[0]  # with Hadoop's .<file>.crc
        if f.name == "_last_checkpoint" or (head.isdigit() and int(head) >= version):
            f.unlink()


def run_minimal(settings, spec: dict, log: Path, passes: int = 1) -> dict:
    """One spark-submit of :mod:`tests.bench.minimal_writes` making a step's commits on fresh
    copies of its tables, ``passes`` times (each pass on copies of its own): the wall time,
    the first pass's commits, and the writes of the first and the last pass."""
    from lake.platform.session import spark_conf

    files = []
    for n in range(passes):
        folder = settings.home / "bench-minimal" / spec["task"] / f"pass-{n}"
        for rel, (source, version) in spec["sources"].items():
            copy_before(source, folder / rel, version)
        files.append(folder / "spec.json")
        files[-1].write_text(json.dumps({"commits": [
            {**c, "table": str(folder / c["table"])} for c in spec["commits"]]}))
    conf = {**spark_conf(settings, short_lived=True), "spark.sql.catalogImplementation": "in-memory"}
    bin_dir = Path(sys.executable).parent
    cmd = [str(bin_dir / "spark-submit"), "--master", settings.spark_master,
           *[x for k, v in conf.items() for x in ("--conf", f"{k}={v}")],
           "--name", "bench-minimal-writes", str(MINIMAL), *map(str, files)]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1",
           "PATH": str(bin_dir) + os.pathsep + os.environ.get("PATH", "")}
    started = time.perf_counter()
    with log.open("a") as err:
        done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True,
                              check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        with log.open("a") as err:
            err.write(done.stdout)
        raise RuntimeError(f"minimal spark-submit failed ({done.returncode}); see {log}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    first = files[0].parent
    made = [(first / rel, int(f.name.split(".")[0]))
            for rel, (_, version) in spec["sources"].items()
            for f in (first / rel / "_delta_log").glob("*.json")
            if f.name.split(".")[0].isdigit() and int(f.name.split(".")[0]) >= version]
    return {"seconds": seconds, "made": len(made),
            "files": sum(len(_added_files(copy, v)) for copy, v in made),
            "session_s": out["session_s"], "writes_s": out["writes_s"][0],
            "warm_writes_s": out["writes_s"][-1]}


def submit_home(days: int) -> list[dict]:
    """Days 1..``days`` in a second fresh home whose Spark steps are spark-submits."""
    env = fresh_home("bench-daily-submit-", "spark_submit")
    out = Path(env["LAKEHOUSE_HOME"]) / "days.json"
    say(f"spark-submit home {env['LAKEHOUSE_HOME']}: days 1..{days}")
    done = subprocess.run([sys.executable, __file__, "--worker", str(days), str(out)], env=env,
                          check=False)
    result = json.loads(out.read_text()) if out.exists() else []
    _stop_metastore(env)
    if not KEEP:
        shutil.rmtree(env["LAKEHOUSE_HOME"], ignore_errors=True)
    if done.returncode != 0 or len(result) < days or not result[-1]["ok"]:
        raise RuntimeError("the spark-submit home failed; rerun with BENCH_KEEP=1 and see "
                           "its logs/bench-daily.log")
    return result


def _stop_metastore(env: dict[str, str]) -> None:
    from lake.config.settings import load_settings
    from lake.platform import derby_server, metastore

    settings = load_settings(env=env)
    if not metastore.user_connection(settings):
        derby_server.stop_server(settings)


# --- reports

def print_days(days: list[dict], commits: list[dict]) -> float:
    print(f"\nDaily run of the retail example, {len(days)} days in one process "
          f"({os.cpu_count()} cpus, load average {_load()}); seconds")
    print(f"  {'day':10} {'env':8} {'e2e':>6} " + " ".join(f"{_short(t):>8}" for t in TASKS)
          + f" {'airflow':>8} {'commits':>8}")
    for d in days:
        tasks = [d["tasks"].get(t) for t in TASKS]
        rest = d["seconds"] - sum(s for s in tasks if s)
        n = sum(1 for c in commits if c["day"] == d["day"])
        print(f"  {d['day']:10} {d['environment']:8} {d['seconds']:>6.1f} "
              + " ".join(f"{s:>8.1f}" if s is not None else f"{'-':>8}" for s in tasks)
              + f" {rest:>8.1f} {n:>8}")
    warm = [d["seconds"] for d in days[2:]] or [days[-1]["seconds"]]
    median = statistics.median(warm)
    which = f"median of days 3..{len(days)}" if len(days) > 2 else f"day {len(days)}"
    print(f"  airflow: end to end minus the tasks (Airflow's database, DAG files, parsing and "
          f"runs; day 1 also starts Spark)\n  commits: Delta commits made that day\n"
          f"  warm day ({which}): {median:.1f} s; target "
          f"<= {TARGET_DAY_S:.0f} s {'met' if median <= TARGET_DAY_S else 'MISSED'}, moonshot "
          f"<= {MOONSHOT_DAY_S:.0f} s {'met' if median <= MOONSHOT_DAY_S else 'missed'}\n  day 1 "
          f"(creates the tables, starts the JVM): {days[0]['seconds']:.1f} s")
    return median


def print_incremental(days: list[dict], commits: list[dict], history: dict) -> None:
    last = days[-1]
    cols = [days[0], days[1], last] if len(days) > 2 else days

    def value(d, what):
        if what == "end to end":
            return d["seconds"]
        if what == "commits":
            return sum(1 for c in commits if c["day"] == d["day"])
        if what == "airflow":
            return d["seconds"] - sum(d["tasks"].values())
        return d["tasks"].get(what)

    n = len(days)
    print(f"\nIncremental: day {n} vs day 1 and day 2 (seconds; trend: least-squares "
          f"s/day over days 3..{n})")
    print(f"  {'':18}" + "".join(f" {'day ' + str(days.index(d) + 1):>8}" for d in cols)
          + f" {f'd{n}/d1':>8} {f'd{n}/d2':>8} {'trend':>8}")
    for what in ("end to end", *TASKS, "airflow", "commits"):
        values = [value(d, what) for d in cols]
        ratios = [_ratio(value(last, what), value(days[i], what)) for i in (0, 1)
                  if i < n]
        series = [(i + 1, value(d, what)) for i, d in enumerate(days) if i >= 2]
        trend = (statistics.linear_regression(*zip(*series, strict=True)).slope
                 if len(series) >= 3 and all(v is not None for _, v in series) else None)
        print(f"  {what:18}" + "".join(f" {_num(v):>8}" for v in values)
              + "".join(f" {r:>8}" for r in ratios) + f" {_num(trend, '+.2f'):>8}")
    ratio1 = last["seconds"] / days[0]["seconds"]
    print(f"  target: day {n} <= {TARGET_INCREMENTAL}x day 1 "
          f"({'met' if ratio1 <= TARGET_INCREMENTAL else 'MISSED'}: {ratio1:.2f}x); day {n} / "
          f"day 2: {last['seconds'] / days[min(1, n - 1)]['seconds']:.2f}x")
    print(f"  history at day {n}: " + "; ".join(f"{k} {v}" for k, v in history.items()))


def history_size(spark, settings, commits: list[dict]) -> dict[str, str]:
    from delta.tables import DeltaTable

    def path(zone_root, *parts):
        return str(Path(zone_root, *parts))

    fact = path(settings.warehouse_root, "warehouse", "fact_orders")
    out = {}
    for label, table in (("fact_orders", fact),
                         ("dim_customer", path(settings.warehouse_root, "warehouse",
                                               "dim_customer")),
                         ("silver.orders", path(settings.lake_root, "silver", "retail", "orders")),
                         ("silver.customers", path(settings.lake_root, "silver", "retail",
                                                   "customers"))):
        if not Path(table).is_dir():
            continue
        detail = DeltaTable.forPath(spark, table).detail().first()
        rows = spark.read.format("delta").load(table).count()
        versions = max(c["version"] for c in commits if c["table"] == table) + 1
        out[label] = f"{rows:,} rows, {detail['numFiles']} files, {versions} versions"
    out["Delta commits, all tables"] = str(len(commits))
    return out


def print_steps(day_no: int, in_process: dict, submitted: dict, specs: dict,
                minimal: dict[str, list[dict]], warm: dict[str, float]) -> None:
    print(f"\nSpark steps of day {day_no} ({(FIRST_DAY + timedelta(days=day_no - 1))}), seconds; "
          f"both spark-submits include the JVM's start-up (load average {_load()})")
    print(f"  {'step':15} {'in proc':>8} {'submit':>8} {'minimal':>8} {'(start':>7} {'writes)':>7} "
          f"{'sub/min':>8} {'warm wr':>8} {'in/warm':>8} {'commits':>8} {'files':>7} {'rows':>5}"
          "  operations")
    worst = 0.0
    for task, job in STEPS.items():
        if task not in specs:
            continue
        runs, spec = minimal[task], specs[task]
        m = statistics.median(r["seconds"] for r in runs)
        writes = statistics.median(r["writes_s"] for r in runs)
        real = submitted["tasks"].get(task, float("nan"))
        in_proc = in_process["tasks"].get(task, float("nan"))
        worst = max(worst, real / m)
        made = f"{len(spec['commits'])}/{min(r['made'] for r in runs)}"
        files = f"{spec['files']}/{min(r['files'] for r in runs)}"
        print(f"  {job:15} {in_proc:>8.1f} {real:>8.1f} {m:>8.1f} {m - writes:>7.1f} "
              f"{writes:>7.1f} {real / m:>7.2f}x {warm[task]:>8.1f} {in_proc / warm[task]:>7.1f}x "
              f"{made:>8} {files:>7} {spec['rows']:>5}  {', '.join(spec['operations'])}")
    print(f"  in proc: the Airflow task in `lakehouse run`'s process (warm JVM); submit: the task "
          "(SparkSubmitOperator of jobs/<job>.py)\n  in a home run with "
          f"LAKEHOUSE_SPARK_TASKS=spark_submit; minimal: median of {ROUNDS} spark-submit(s) of "
          "tests/bench/minimal_writes.py,\n  start: all but its writes (JVM, Python, session, "
          "exit); warm wr: the same writes again in the minimal's JVM (a second pass);\n"
          "  in/warm: in proc / warm wr (the platform's work per Delta write, both warm); "
          "commits, files: made by the real step / by the minimal one\n"
          f"  end to end that day: in process {in_process['seconds']:.1f} s, spark-submit "
          f"{submitted['seconds']:.1f} s\n  target: real spark-submit <= {TARGET_STEP}x minimal "
          f"({'met' if worst <= TARGET_STEP else 'MISSED'}: worst {worst:.2f}x)")


def _short(task: str) -> str:
    return {"wait_for_delivery": "wait"}.get(task, task)


def _num(v, fmt: str = ".1f") -> str:
    return "-" if v is None else format(v, fmt)


def _ratio(a, b) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "-"


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    if DAYS < 3:
        say("BENCH_DAYS: give at least 3 days (day 1 and 2 are compared with the last)")
        return 2
    env = fresh_home("bench-daily-", "in_process")
    for key in [k for k in os.environ if k.startswith("LAKEHOUSE_") and k not in env]:
        del os.environ[key]
    os.environ.update(env)
    from lake.config.settings import load_settings
    from lake.platform.session import get_session

    settings = load_settings()
    say(f"home {settings.home}: days 1..{DAYS} of the retail example in this process")
    days = run_days(DAYS, "in process")
    if not days[-1]["ok"] or len(days) < DAYS:
        return 1
    spark = get_session(settings)  # the warm session the tasks used
    commits = read_commits(spark, settings, days)
    (settings.home / "bench-days.json").write_text(json.dumps({"days": days, "commits": commits}))
    loads = [_load()]
    specs, minimal, warm, submitted = {}, {}, {}, None
    if not SKIP_SUBMIT:
        specs = minimal_specs(spark, commits, days[SUBMIT_DAY - 1]["day"], settings.home)
        log = settings.home / "logs" / "bench-minimal.log"
        for r in range(ROUNDS):
            if r == ROUNDS // 2:
                submitted = submit_home(SUBMIT_DAY)[SUBMIT_DAY - 1]
                loads.append(_load())
            for task, spec in specs.items():
                minimal.setdefault(task, []).append(run_minimal(settings, spec, log))
                say(f"  minimal {task} (round {r + 1}): {minimal[task][-1]['seconds']:.1f} s")
        if submitted is None:
            submitted = submit_home(SUBMIT_DAY)[SUBMIT_DAY - 1]
        for task, spec in specs.items():  # the same writes in a warm JVM: a second pass
            warm[task] = run_minimal(settings, spec, log, passes=2)["warm_writes_s"]
            say(f"  minimal {task}, warm JVM: writes {warm[task]:.1f} s")
    history = history_size(spark, settings, commits)
    print_days(days, commits)
    print_incremental(days, commits, history)
    if submitted is not None:
        print_steps(SUBMIT_DAY, days[SUBMIT_DAY - 1], submitted, specs, minimal, warm)
    print(f"\nload averages seen (1/5/15 min): {' | '.join(loads + [_load()])}")
    spark.stop()
    _stop_metastore(env)
    if KEEP:
        say(f"kept {settings.home}")
    else:
        shutil.rmtree(settings.home, ignore_errors=True)
    return 0


def worker(days: int, out: str) -> int:
    """``--worker DAYS OUT``: days 1..DAYS in this process's home, their results to ``OUT``."""
    result = run_days(days, "spark-submit")
    Path(out).write_text(json.dumps(result))
    return 0 if result and result[-1]["ok"] else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        sys.exit(worker(int(sys.argv[2]), sys.argv[3]))
    sys.exit(main())
