from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lakehouse.cli.main import main
from lineage.delivery.spool import spool_event, spooled
from lineage.store.metadata_store import MetadataStore
from tests.lineage.conftest import build_pipeline, validate

REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A SQLite store holding two days of the pipeline (silver v2 on day one, v3 on day two)."""
    root = tmp_path_factory.mktemp("lineage-cli")
    url = f"sqlite:///{root / 'lineage.db'}"
    store = MetadataStore(url)
    days = [build_pipeline(root, silver_version=2, logical_date="2024-01-31"),
            build_pipeline(root, silver_version=3, logical_date="2024-02-01")]
    for day in days:
        for event in day.events:
            store.ingest(event)
    runs = {job: [r.run_id for r in store.executions(job=job)]
            for job in ("validate_orders", "warehouse_fact_orders")}
    count = len(store.events())
    store.close()
    return {"root": root, "url": url, "pipeline": days[0], "runs": runs, "events": count}


@pytest.fixture
def lakehouse(recorded, tmp_path, monkeypatch):
    """Run ``lakehouse lineage ...`` in-process against the recorded store: (exit code, out, err)."""
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LAKEHOUSE_LINEAGE_URL", recorded["url"])

    def run(capsys, *argv: str) -> tuple[int, str, str]:
        code = main(["lineage", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_upstream_text_and_json(lakehouse, capsys, recorded):
    code, out, _ = lakehouse(capsys, "upstream", "warehouse.fact_orders")
    assert code == 0
    assert out.splitlines()[0].startswith("warehouse.fact_orders  [dataset v7]")
    assert "<- validate_orders  [job, last run COMPLETE]" in out
    assert "<- bronze.orders  [dataset v4]" in out
    code, out, _ = lakehouse(capsys, "upstream", "warehouse.fact_orders", "--depth", "1",
                             "--format", "json")
    data = json.loads(out)
    assert data["depth"] == 1
    assert {n["label"] for n in data["nodes"]} == {"warehouse.fact_orders",
                                                   "warehouse_fact_orders", "silver.orders"}


def test_downstream_reaches_the_fact_table(lakehouse, capsys):
    code, out, _ = lakehouse(capsys, "downstream", "bronze.orders", "--format", "json")
    assert code == 0
    labels = {n["label"] for n in json.loads(out)["nodes"]}
    assert {"silver.orders", "quarantine.orders", "warehouse.fact_orders"} <= labels


def test_unknown_node_exits_2_with_the_known_tables(lakehouse, capsys):
    code, out, err = lakehouse(capsys, "upstream", "warehouse.fact_order")
    assert code == 2 and out == ""
    assert err.startswith("lakehouse lineage: unknown lineage node 'warehouse.fact_order'")
    assert "close matches: warehouse.fact_orders" in err


def test_bad_arguments_are_refused_by_the_parser(lakehouse, capsys):
    for argv in (["upstream", "x", "--depth", "-1"], ["upstream", "x", "--as-of", "soon"],
                 ["inputs", "r", "--check", "bronze.orders"], ["graph", "x", "--format", "png"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["lineage", *argv])
        assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "must be a whole number of jobs >= 0" in err
    assert "'soon' is not an ISO-8601 date or timestamp" in err
    assert "expected DATASET@VERSION, e.g. shop_bronze.orders@4" in err


def test_as_of(lakehouse, capsys):
    code, out, _ = lakehouse(capsys, "upstream", "silver.orders", "--as-of",
                             "2024-01-31T06:12:00Z")
    assert code == 0
    assert "<- validate_orders  [job, last run RUNNING]" in out  # started 06:10, ended 06:15
    assert out.splitlines()[0].startswith("silver.orders  [dataset]  ")  # no version yet
    code, out, _ = lakehouse(capsys, "downstream", "bronze.orders", "--as-of",
                             "2024-01-31T06:12:00Z", "--format", "json")
    labels = {n["label"] for n in json.loads(out)["nodes"]}
    assert "silver.orders" in labels and "warehouse.fact_orders" not in labels
    code, out, _ = lakehouse(capsys, "upstream", "silver.orders", "--as-of", "2024-01-31")
    assert code == 0 and "validate_orders  [job, last run COMPLETE]" in out  # end of that day
    code, out, err = lakehouse(capsys, "upstream", "silver.orders", "--as-of", "2024-01-30")
    assert code == 2 and "was not in the lineage store as of 2024-01-30T23:59:59" in err

def test_runs_by_job_and_context(lakehouse, capsys, recorded):
    code, out, _ = lakehouse(capsys, "runs", "--job", "validate_orders", "--format", "json")
    runs = json.loads(out)["runs"]
    assert [r["run_id"] for r in runs] == recorded["runs"]["validate_orders"]
    assert {r["properties"]["parameters"]["logical_date"] for r in runs} == {"2024-01-31",
                                                                            "2024-02-01"}
    dag_run = recorded["pipeline"].dag_run_id
    code, out, _ = lakehouse(capsys, "runs", "--context", dag_run)
    lines = out.splitlines()
    assert lines[0].split() == ["RUN", "ID", "JOB", "STATE", "STARTED", "ENDED"]
    assert len(lines) == 1 + 7  # the DAG, three tasks, three Spark jobs of one day
    code, out, err = lakehouse(capsys, "runs", "--job", "no_such_job")
    assert (code, out) == (0, "") and "no runs recorded for job no_such_job" in err


def test_inputs_and_the_version_check(lakehouse, capsys, recorded):
    first, second = recorded["runs"]["warehouse_fact_orders"]
    code, out, _ = lakehouse(capsys, "inputs", second)
    assert code == 0
    read = out.split("read:")[1].split("wrote:")[0]
    assert re.search(r"silver\.orders\s+v3\s+file://", read)
    code, out, _ = lakehouse(capsys, "inputs", first, "--check", "silver.orders@2")
    assert code == 0 and out.startswith(f"yes: run {first}")
    code, out, _ = lakehouse(capsys, "inputs", second, "--check", "silver.orders@v2")
    assert code == 1 and "did not read silver.orders at version 2; it read v3" in out
    code, out, _ = lakehouse(capsys, "inputs", second, "--check", "bronze.orders@4",
                             "--format", "json")
    assert code == 1
    assert json.loads(out) == {"run_id": second, "dataset": "bronze.orders", "version": "4",
                               "used": False, "versions_read": []}
    code, _, err = lakehouse(capsys, "inputs", "no-such-run")
    assert code == 2 and "no run 'no-such-run'" in err


def test_diff_of_two_days(lakehouse, capsys, recorded):
    first, second = recorded["runs"]["warehouse_fact_orders"]
    code, out, _ = lakehouse(capsys, "diff", first, second)
    assert code == 0
    assert "  logical_date: 2024-01-31 -> 2024-02-01" in out
    assert "  silver.orders: 2 -> 3" in out.split("inputs:")[1]
    code, out, _ = lakehouse(capsys, "diff", first, second, "--format", "json")
    data = json.loads(out)
    assert data["parameters"] == {"logical_date": ["2024-01-31", "2024-02-01"]}
    code, out, _ = lakehouse(capsys, "diff", first, first)
    assert out.splitlines()[-1] == "no differences"


def test_reproduce_prints_time_travel_reads(lakehouse, capsys, recorded):
    first = recorded["runs"]["warehouse_fact_orders"][0]
    silver = recorded["pipeline"].table("silver", "orders")
    code, out, _ = lakehouse(capsys, "reproduce", first)
    assert code == 0
    assert (f'spark.read.format("delta").option("versionAsOf", 2).load("file://{silver}")'
            in out.splitlines())
    assert "SELECT * FROM silver.orders VERSION AS OF 2;" in out.splitlines()
    code, out, _ = lakehouse(capsys, "reproduce", first, "--format", "json")
    (read,) = json.loads(out)["inputs"]
    assert (read["table"], read["version"], read["delta"]) == ("silver.orders", "2", True)


def test_events_as_openlineage_ndjson_validate(lakehouse, capsys, recorded, tmp_path):
    code, out, _ = lakehouse(capsys, "events", "--format", "openlineage")
    lines = out.splitlines()
    assert code == 0 and len(lines) == recorded["events"]
    events = [json.loads(line) for line in lines]
    times = [e["eventTime"] for e in events]
    assert times == sorted(times)
    result = validate({"events": events}, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    code, out, _ = lakehouse(capsys, "events", "--since", "2024-01-31T06:59:00")
    assert [json.loads(line)["eventType"] for line in out.splitlines()] == ["COMPLETE"] * 2


def test_graph_formats(lakehouse, capsys, tmp_path):
    code, out, _ = lakehouse(capsys, "graph", "warehouse.fact_orders")
    assert code == 0 and out.startswith("flowchart LR\n")
    assert re.search(r'n\d+\("bronze\.orders<br/>v4 · quality failed"\)', out)
    code, out, _ = lakehouse(capsys, "graph", "warehouse.fact_orders", "--format", "dot")
    assert out.startswith("digraph lineage {")
    code, out, _ = lakehouse(capsys, "graph", "silver.orders", "--format", "svg")
    ids = {g.get("data-id") for g in ET.fromstring(out).iter("{http://www.w3.org/2000/svg}g")
           if g.get("data-id")}
    assert "job:warehouse_fact_orders" in ids and "job:validate_orders" in ids  # both ways
    page = tmp_path / "out" / "lineage.html"
    code, out, err = lakehouse(capsys, "graph", "warehouse.fact_orders", "--format", "html",
                               "--direction", "upstream", "--output", str(page))
    assert code == 0 and out == "" and f"to {page}" in err
    html = page.read_text()
    assert '"title": "bronze.orders"' in html and "<svg" not in html.split("<script>")[0]
    code, out, _ = lakehouse(capsys, "graph", "bronze.orders", "--format", "json", "--depth", "1")
    nodes = {n["label"]: n for n in json.loads(out)["nodes"]}
    assert nodes["bronze.orders"]["quality"] == {"passed": False, "version": "4",
                                                 "failed": ["not_null(amount)"]}


def test_replay_delivers_the_spool(lakehouse, capsys, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'replay.db'}"
    monkeypatch.setenv("LAKEHOUSE_LINEAGE_URL", url)
    spool = tmp_path / "home" / "lineage_spool"
    pipeline = build_pipeline(tmp_path)
    for event in pipeline.events[:3]:
        spool_event(spool, event)
    spool_event(spool, {"not": "an event"})
    code, out, _ = lakehouse(capsys, "replay")
    assert code == 0
    assert out.strip() == (f"replayed 3 spooled lineage events from {spool}; 0 waiting, "
                           f"1 rejected (see {spool / 'rejected'})")
    assert spooled(spool) == []
    store = MetadataStore(url)
    assert len(store.events()) == 3
    store.close()
    code, out, _ = lakehouse(capsys, "replay", "--format", "json")
    assert json.loads(out) == {"replayed": 0, "waiting": 0, "rejected": 1,
                               "spool_dir": str(spool), "by_destination": {"store": 0}}


@pytest.mark.parametrize("command", ["upstream", "downstream", "runs", "inputs", "diff",
                                     "reproduce", "events", "replay", "graph", "serve"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["lineage", command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: lakehouse lineage {command}")
    if command not in ("replay", "serve", "events"):
        assert "--format" in out


def test_serve_answers_until_interrupted(recorded, tmp_path):
    env = {**os.environ, "LAKEHOUSE_HOME": str(tmp_path), "LAKEHOUSE_LINEAGE_URL": recorded["url"],
           "PYTHONPATH": str(REPO), "PYTHONFAULTHANDLER": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "lakehouse.cli.main", "lineage", "serve", "--port", "0"],
        cwd=REPO, env=env, stderr=subprocess.PIPE, text=True,
    )
    try:
        banner = process.stderr.readline()
        url = re.search(r"lineage server on (http://127\.0\.0\.1:\d+)", banner)
        assert url, banner
        with urllib.request.urlopen(f"{url.group(1)}/api/v1/runs?job=validate_orders",
                                    timeout=10) as response:
            assert len(json.loads(response.read())["runs"]) == 2
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # Still running: SIGABRT makes faulthandler print where each thread is stuck.
            process.send_signal(signal.SIGABRT)
            process.wait(timeout=30)
            pytest.fail("lineage serve did not stop within 30 s of Ctrl-C; its threads:\n"
                        + process.stderr.read()[-6000:])
        finally:
            process.stderr.close()
    assert code == 0
