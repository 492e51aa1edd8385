"""End to end: `lakehouse demo` runs retail_daily through Airflow's dag.test() with real
spark-submit jobs for two days, then re-runs the second day; tables and lineage are checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lineage.store.metadata_store import MetadataStore
from tests.lineage.conftest import VALIDATOR

pytestmark = pytest.mark.e2e
LAKEHOUSE = str(Path(sys.executable).with_name("lakehouse"))


def _lakehouse(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "AIRFLOW"))}
    env.update({"LAKEHOUSE_HOME": str(home), "TZ": "UTC"})
    proc = subprocess.run([LAKEHOUSE, *args], env=env, capture_output=True, text=True, timeout=1500)
    if check and proc.returncode != 0:
        pytest.fail(f"lakehouse {' '.join(args)} exited {proc.returncode}:\n"
                    f"{proc.stderr[-3000:]}\n{proc.stdout[-6000:]}")
    return proc


def _versions(summary: dict) -> dict[str, int]:
    return {t["table"]: t["version"] for t in summary["tables"]}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    home = tmp_path_factory.mktemp("e2e-home")
    first = json.loads(_lakehouse(home, "demo", "--days", "2", "--format", "json").stdout)
    rerun = json.loads(
        _lakehouse(home, "demo", "--start", "2026-01-02", "--days", "1", "--format", "json").stdout
    )
    return home, first, rerun


def _delta(spark, home: Path, table: str):
    zone, name = table.split(".")
    root = home / ("warehouse" if zone == "warehouse" else "lake")
    return spark.read.format("delta").load(str(root / zone / name))


def test_both_days_succeed_through_airflow(demo):
    _, first, rerun = demo
    assert [r["state"] for r in first["runs"]] == ["success", "success"]
    assert set(first["runs"][0]["tasks"]) == {"land", "bronze", "validate", "warehouse"}
    assert rerun["runs"][0]["state"] == "success"


def test_rerunning_a_day_leaves_every_table_unchanged(demo):
    _, first, rerun = demo
    assert _versions(rerun) == _versions(first)
    assert {t["table"]: t["rows"] for t in rerun["tables"]} == {
        t["table"]: t["rows"] for t in first["tables"]
    }


def test_nothing_lost_between_bronze_silver_and_quarantine(demo, spark):
    home, _, _ = demo
    for dataset in ("customers", "products", "orders"):
        bronze = _delta(spark, home, f"bronze.{dataset}").count()
        silver = _delta(spark, home, f"silver.{dataset}").count()
        quarantined = _delta(spark, home, f"quarantine.{dataset}").count()
        assert bronze == silver + quarantined, dataset
    assert _delta(spark, home, "quarantine.orders").count() > 0


def test_scd2_dimension_has_history_and_one_current_row(demo, spark):
    home, _, _ = demo
    dim = _delta(spark, home, "warehouse.dim_customer")
    per_key = dim.groupBy("customer_id").agg(
        {"*": "count", "is_current": "max"}
    ).withColumnRenamed("count(1)", "versions")
    assert per_key.where("versions >= 2").count() > 0
    current = dim.where("is_current").groupBy("customer_id").count()
    assert current.where("count > 1").count() == 0
    fact = _delta(spark, home, "warehouse.fact_orders")
    assert fact.count() == _delta(spark, home, "silver.orders").count()


def test_every_task_and_job_emitted_valid_lineage(demo, tmp_path):
    home, _, _ = demo
    events = MetadataStore(f"sqlite:///{home / 'lineage.db'}").events()
    by_job: dict[str, set[str]] = {}
    for e in events:
        by_job.setdefault(e["job"]["name"], set()).add(e["eventType"])
    for job in ("retail_daily.land", "retail_daily.bronze", "retail_daily.validate",
                "retail_daily.warehouse", "retail.bronze", "retail.validate",
                "retail.load_warehouse"):
        assert {"START", "COMPLETE"} <= by_job.get(job, set()), job
    # Spark job -> Airflow task -> DAG run.
    task_runs = {(e["job"]["name"], e["run"]["runId"]) for e in events}
    for e in events:
        if e["job"]["name"] == "retail.validate":
            parent = e["run"]["facets"]["parent"]
            assert ("retail_daily.validate", parent["run"]["runId"]) in task_runs
            assert parent["root"]["job"]["name"] == "retail_daily"
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(json.dumps(e) for e in events))
    proc = subprocess.run([sys.executable, str(VALIDATOR), str(path)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_lineage_upstream_of_fact_reaches_landing(demo):
    home, _, _ = demo
    graph = json.loads(_lakehouse(home, "lineage", "upstream", "warehouse.fact_orders",
                                  "--format", "json").stdout)
    labels = json.dumps(graph)
    for table in ("bronze.orders", "silver.orders", "bronze.customers", "silver.customers"):
        assert table in labels
    assert str(home / "landing" / "retail" / "orders") in labels


def test_sql_refuses_ddl_and_changes_nothing(demo, spark):
    home, _, _ = demo
    before = _delta(spark, home, "warehouse.fact_orders").count()
    proc = _lakehouse(home, "sql", "DROP TABLE warehouse.fact_orders", check=False)
    assert proc.returncode == 2
    assert "refused: DROP TABLE is not a read-only query" in proc.stderr
    assert _delta(spark, home, "warehouse.fact_orders").count() == before


def test_sql_runs_snowflake_against_the_catalog(demo):
    home, _, _ = demo
    no_double_current = json.loads(_lakehouse(
        home, "sql", "--format", "json",
        "SELECT customer_id FROM warehouse.dim_customer GROUP BY customer_id "
        "HAVING sum(CASE WHEN is_current THEN 1 ELSE 0 END) > 1",
    ).stdout)
    assert no_double_current == []
    rows = json.loads(_lakehouse(
        home, "sql", "--dialect", "snowflake", "--format", "json",
        "SELECT customer_id, IFF(is_current, 'current', 'closed') AS state "
        "FROM warehouse.dim_customer QUALIFY ROW_NUMBER() OVER "
        "(PARTITION BY customer_id ORDER BY valid_from DESC) = 1",
    ).stdout)
    assert rows and {r["state"] for r in rows} <= {"current", "closed"}
    assert len({r["customer_id"] for r in rows}) == len(rows)


def test_day_two_schema_changes_are_new_contract_versions_and_anomalies(demo):
    home, first, _ = demo
    assert first["contract_versions"] == {"customers": 1, "orders": 2, "products": 2}
    report = json.loads(_lakehouse(home, "quality", "report", "orders", "--format", "json").stdout)
    found = {(a["batch"], a["type"], a["column"], a["severity"]) for a in report["anomalies"]}
    assert ("20260102", "new_column", "channel", "warning") in found
    assert ("20260101", "out_of_range", "amount", "error") in found
    products = json.loads(_lakehouse(home, "quality", "report", "products", "--batch", "20260102",
                                     "--format", "json").stdout)
    assert [(a["type"], a["column"], a["details"]["change"]) for a in products["anomalies"]] == [
        ("type_mismatch", "weight_g", "widened")]
    history = json.loads(_lakehouse(home, "contract", "history", "orders", "--format", "json").stdout)
    assert [(v["version"], v["origin"]) for v in history["versions"]] == [
        (1, "repo"), (2, "evolution")]
    proposal = _lakehouse(home, "contract", "infer", "bronze.orders").stdout
    assert "name: order_id" in proposal and "name: channel" in proposal
    assert "\nversion: 3\n" in proposal, "proposed as the version after the one in effect"
