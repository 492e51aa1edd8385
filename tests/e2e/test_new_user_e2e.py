"""End to end, as a new user: a source folder of CSV files made here, declarations only (a
source with three datasets that reference each other, their contracts, a dimension, a fact and a
view), run through Airflow with the `lakehouse` command for three days with a changed customer,
a deleted one, a late sale and a corrected re-delivery; then every warehouse table is compared
with rows computed here, independently, from the CSV files."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from lineage.store.metadata_store import MetadataStore
from tests.lineage.conftest import VALIDATOR

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
LAKEHOUSE = str(Path(sys.executable).with_name("lakehouse"))
D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)

SOURCE = """\
source: shop
description: The shop's nightly CSV export
owner: shop-data@example.com
schedule: "@daily"
deliveries:
  connector: files
  root: "{source_root}/shop"
  layout: "ds={ds}/"
  complete_when: {marker: _SUCCESS}
datasets:
  customers: {files: "customers*.csv"}
  products: {files: "products.csv"}
  sales: {files: "sales*.csv", csv: {delimiter: ";"}}
"""
CONTRACTS = {
    "customers": """\
dataset: customers
columns:
  - {name: customer_id, type: string, nullable: false}
  - {name: name, type: string, nullable: false}
  - {name: city, type: string}
keys: [customer_id]
""",
    "products": """\
dataset: products
columns:
  - {name: product_id, type: string, nullable: false}
  - {name: label, type: string}
  - {name: price, type: "decimal(8,2)", nullable: false, min: 0}
keys: [product_id]
""",
    "sales": """\
dataset: sales
columns:
  - {name: sale_id, type: string, nullable: false}
  - {name: customer_id, type: string, nullable: false}
  - {name: product_id, type: string, nullable: false}
  - {name: sold_at, type: timestamp, nullable: false}
  - {name: quantity, type: int, nullable: false, min: 1}
  - {name: amount, type: "decimal(10,2)", nullable: false, min: 0}
keys: [sale_id]
references:
  - {column: customer_id, dataset: customers, key: customer_id}
  - {column: product_id, dataset: products, key: product_id}
""",
}
DIMENSION = """\
description: Shop customers, one row per version
from: shop.customers
key: [customer_id]
scd: 2
tracked: [name, city]
input: snapshot
deletes: invalidate
surrogate_key: customer_sk
"""
FACT = """\
/*
description: One row per sale, keyed to the customer version of the sale's time
grain: [sale_id]
event_time: sold_at
lookups:
  - {dimension: dim_shop_customer, on: [customer_id]}
measures: [quantity, amount]
*/
SELECT sale_id, customer_id, product_id, sold_at, quantity, amount
FROM shop_silver.sales
"""
VIEW = """\
SELECT c.city, sum(f.amount) AS revenue, count(*) AS sales
FROM warehouse.fact_shop_sales AS f
JOIN warehouse.dim_shop_customer AS c ON f.customer_sk = c.customer_sk
GROUP BY c.city
"""

CUSTOMERS = {
    D1: [("c1", "Ann", "Lisbon"), ("c2", "Bob", "Porto"), ("c3", "Cid", "Madrid")],
    D2: [("c1", "Ann", "Berlin"), ("c2", "Bob", "Porto"), ("c4", "Dee", "Gent")],  # c3 deleted
    D3: [("c1", "Ann", "Berlin"), ("c2", "Bob", "Porto"), ("c4", "Dee", "Gent")],
}
PRODUCTS = [("p1", "Lamp", "10.00"), ("p2", "Mug", "5.00")]
SALES = {
    D1: [("s1", "c1", "p1", "2026-03-01 10:00:00", "2", "20.00"),
         ("s2", "c2", "p2", "2026-03-01 11:00:00", "1", "5.00"),
         ("s3", "c9", "p1", "2026-03-01 12:00:00", "1", "10.00")],  # unknown customer
    D2: [("s4", "c1", "p1", "2026-03-02 09:00:00", "1", "10.00"),
         ("s5", "c1", "p2", "2026-03-01 15:00:00", "3", "15.00"),  # late: sold on day 1
         ("s6", "c4", "p2", "2026-03-02 10:00:00", "1", "5.00")],
    D3: [("s7", "c2", "p1", "2026-03-03 08:00:00", "1", "10.00")],
}
CORRECTION = [("s4", "c1", "p1", "2026-03-02 09:00:00", "2", "20.00")]  # day 2, delivered later


def _csv(header: list[str], rows: list[tuple], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _deliver(root: Path, day: date, files: dict[str, str]) -> None:
    folder = root / "shop" / f"ds={day.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    (folder / "_SUCCESS").write_text("")


def _day_files(day: date) -> dict[str, str]:
    return {
        f"customers_{day:%Y%m%d}.csv": _csv(["customer_id", "name", "city"], CUSTOMERS[day]),
        "products.csv": _csv(["product_id", "label", "price"], PRODUCTS),
        "sales_1.csv": _csv(["sale_id", "customer_id", "product_id", "sold_at", "quantity",
                             "amount"], SALES[day], ";"),
    }


def _write_project(root: Path) -> None:
    root.mkdir(parents=True)
    (root / "lakehouse.yaml").write_text("name: new-user\ndefaults: {start_date: 2026-03-01}\n")
    source = root / "sources" / "shop"
    (source / "contracts").mkdir(parents=True)
    (source / "source.yaml").write_text(SOURCE)
    for name, text in CONTRACTS.items():
        (source / "contracts" / f"{name}.yaml").write_text(text)
    (root / "warehouse" / "views").mkdir(parents=True)
    (root / "warehouse" / "dim_shop_customer.yaml").write_text(DIMENSION)
    (root / "warehouse" / "fact_shop_sales.sql").write_text(FACT)
    (root / "warehouse" / "views" / "shop_revenue_by_city.sql").write_text(VIEW)


class User:
    def __init__(self, tmp: Path) -> None:
        self.home, self.project, self.source_root = tmp / "home", tmp / "project", tmp / "source"
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("LAKEHOUSE_", "AIRFLOW"))}
        self.env.update({"LAKEHOUSE_HOME": str(self.home), "LAKEHOUSE_PROJECT": str(self.project),
                         "LAKEHOUSE_SOURCE_ROOT": str(self.source_root), "TZ": "UTC"})

    def lakehouse(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([LAKEHOUSE, *args], env=self.env, capture_output=True, text=True,
                              timeout=3600)
        if check and proc.returncode != 0:
            pytest.fail(f"lakehouse {' '.join(args)} exited {proc.returncode}:\n"
                        f"{proc.stderr[-4000:]}\n{proc.stdout[-3000:]}")
        return proc


@pytest.fixture(scope="module")
def user(tmp_path_factory) -> User:
    me = User(tmp_path_factory.mktemp("new-user"))
    _write_project(me.project)
    me.validated = me.lakehouse("sources", "validate", "--format", "json")
    runs = []
    for day in (D1, D2):
        _deliver(me.source_root, day, _day_files(day))
        runs.append(json.loads(me.lakehouse("run", "shop", "--ds", day.isoformat(),
                                            "--format", "json").stdout))
    # a corrected sales file for day 2 arrives with day 3's delivery: both days run
    _deliver(me.source_root, D2, {"sales_2_correction.csv": _csv(
        ["sale_id", "customer_id", "product_id", "sold_at", "quantity", "amount"],
        CORRECTION, ";")})
    _deliver(me.source_root, D3, _day_files(D3))
    for day in (D2, D3):
        runs.append(json.loads(me.lakehouse("run", "shop", "--ds", day.isoformat(),
                                            "--format", "json").stdout))
    me.runs = runs
    me.status = json.loads(me.lakehouse("status", "--format", "json").stdout)
    return me


def _delta(spark, user: User, zone: str, name: str):
    if zone == "warehouse":
        return spark.read.format("delta").load(str(user.home / "warehouse" / "warehouse" / name))
    return spark.read.format("delta").load(str(user.home / "lake" / zone / "shop" / name))


def expected_customers() -> list[tuple]:
    """dim_shop_customer as SCD 2 over the daily snapshots, without Spark:
    (customer_id, name, city, valid_from, valid_to)."""
    versions, current = [], {}
    for day in (D1, D2, D3):
        at = datetime(day.year, day.month, day.day)
        snapshot = {c: (n, city) for c, n, city in CUSTOMERS[day]}
        for key, attributes in sorted(snapshot.items()):
            if key in current and current[key]["attributes"] == attributes:
                continue
            if key in current:
                current[key]["valid_to"] = at
            current[key] = {"key": key, "attributes": attributes, "from": at, "valid_to": None}
            versions.append(current[key])
        for key in sorted(set(current) - set(snapshot)):
            current.pop(key)["valid_to"] = at
    return sorted((v["key"], *v["attributes"], v["from"], v["valid_to"]) for v in versions)


def expected_sales() -> list[tuple]:
    """(sale_id, amount, customer_id, valid_from of the customer version at the sale's time)."""
    history = expected_customers()
    sales = {s[0]: s for day in (D1, D2, D3) for s in SALES[day]} | {s[0]: s for s in CORRECTION}
    out = []
    for sale_id, customer, _product, sold_at, _qty, amount in sales.values():
        if customer not in {c for c, *_ in CUSTOMERS[D1] + CUSTOMERS[D2]}:
            continue  # quarantined: an unknown customer
        at = datetime.fromisoformat(sold_at)
        (version,) = [v for v in history if v[0] == customer and v[3] <= at
                      and (v[4] is None or at < v[4])]
        out.append((sale_id, Decimal(amount), customer, version[3]))
    return sorted(out)


def test_the_declarations_validate_and_every_run_succeeds(user):
    report = json.loads(user.validated.stdout)
    assert report["ok"] and report["sources"] == ["shop"]
    assert report["models"] == ["dim_shop_customer", "fact_shop_sales", "shop_revenue_by_city"]
    for run in user.runs:
        assert [(r["dag"], r["state"]) for r in run] == [("ingest_shop", "success"),
                                                           ("warehouse", "success")]
        assert set(run[0]["tasks"]) == {"wait_for_delivery", "land", "bronze", "validate"}


def test_dim_customer_matches_the_snapshots(spark, user):
    rows = _delta(spark, user, "warehouse", "dim_shop_customer").select(
        "customer_id", "name", "city", "valid_from", "valid_to").collect()
    assert sorted(tuple(r) for r in rows) == expected_customers()


def test_fact_sales_keys_each_sale_to_the_customer_version_of_its_time(spark, user):
    fact = _delta(spark, user, "warehouse", "fact_shop_sales")
    dim = _delta(spark, user, "warehouse", "dim_shop_customer")
    rows = fact.join(dim, "customer_sk").select(
        "sale_id", "amount", fact["customer_id"], "valid_from").collect()
    assert sorted(tuple(r) for r in rows) == expected_sales()
    assert fact.count() == len(expected_sales()), "one row per sale, the correction replaced s4"


def test_the_view_sums_revenue_by_the_city_at_sale_time(spark, user):
    revenue: dict[str, Decimal] = {}
    history = {(c, f): city for c, _n, city, f, _t in expected_customers()}
    for _sale, amount, customer, valid_from in expected_sales():
        city = history[(customer, valid_from)]
        revenue[city] = revenue.get(city, Decimal(0)) + amount
    out = json.loads(user.lakehouse("sql", "--format", "json",
                                    "SELECT city, revenue FROM warehouse.shop_revenue_by_city")
                     .stdout)
    assert {r["city"]: Decimal(str(r["revenue"])) for r in out} == revenue


def test_nothing_is_lost_and_the_bad_sale_says_why(spark, user):
    for name in ("sales", "customers", "products"):
        bronze = _delta(spark, user, "bronze", name).count()
        assert bronze == (_delta(spark, user, "silver", name).count()
                          + _delta(spark, user, "quarantine", name).count()), name
    (bad,) = _delta(spark, user, "quarantine", "sales").collect()
    assert bad["sale_id"] == "s3" and bad["_failed_rules"] == ["reference:customer_id->customers"]
    batches = sorted(r["_batch_id"] for r in _delta(spark, user, "bronze", "sales")
                     .select("_batch_id").distinct().collect())
    assert batches == ["20260301-001", "20260302-001", "20260302-002", "20260303-001"]


def test_status_shows_each_table_with_its_last_run(user):
    (shop,) = user.status["sources"]
    assert shop["last_run_state"] == "success" and shop["last_landed"]["batch"] == "20260303-001"
    tables = {t["dataset"]: t for t in shop["tables"]}
    assert tables["sales"]["quarantined"] == 1 and tables["sales"]["contract_version"] == 1
    assert tables["sales"]["last_batch"] == "20260303-001"
    models = {m["model"]: m for m in user.status["warehouse"]}
    assert models["fact_shop_sales"]["rows"] == len(expected_sales())


def test_every_task_and_job_emitted_valid_lineage(user, tmp_path):
    events = MetadataStore(f"sqlite:///{user.home / 'lineage.db'}").events()
    by_job: dict[str, set[str]] = {}
    for e in events:
        by_job.setdefault(e["job"]["name"], set()).add(e["eventType"])
    for job in ("ingest_shop.land", "ingest_shop.bronze", "ingest_shop.validate",
                "shop.bronze", "shop.validate", "warehouse.load", "warehouse.load_warehouse"):
        assert {"START", "COMPLETE"} <= by_job.get(job, set()), job
    task_runs = {(e["job"]["name"], e["run"]["runId"]) for e in events}
    for e in events:
        if e["job"]["name"] == "shop.validate":
            parent = e["run"]["facets"]["parent"]
            assert ("ingest_shop.validate", parent["run"]["runId"]) in task_runs
            assert parent["root"]["job"]["name"] == "ingest_shop"
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(json.dumps(e) for e in events))
    proc = subprocess.run([sys.executable, str(VALIDATOR), str(path)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    graph = user.lakehouse("lineage", "upstream", "warehouse.fact_shop_sales", "--format", "json")
    text = graph.stdout
    for table in ("shop_silver.sales", "shop_bronze.sales", "shop_silver.customers"):
        assert table in text
    assert str(user.home / "landing" / "shop" / "sales") in text


def test_a_rerun_through_spark_submit_changes_no_table(spark, user):
    """The cluster path: the same DAGs with each Spark step a spark-submit of ``jobs/``; the
    day's batches are committed already, so every table keeps its Delta version."""
    from delta.tables import DeltaTable

    tables = [user.home / "lake" / zone / "shop" / name
              for zone in ("bronze", "silver", "quarantine")
              for name in ("customers", "products", "sales")]
    tables += [user.home / "warehouse" / "warehouse" / name
               for name in ("dim_shop_customer", "fact_shop_sales")]

    def versions() -> dict[str, int]:
        return {str(t): DeltaTable.forPath(spark, str(t)).history(1).first()["version"]
                for t in tables}

    before = versions()
    submit = User.__new__(User)
    submit.env = {**user.env, "LAKEHOUSE_SPARK_TASKS": "spark_submit"}
    run = json.loads(submit.lakehouse("run", "shop", "--ds", D3.isoformat(),
                                      "--format", "json").stdout)
    assert [(r["dag"], r["state"]) for r in run] == [("ingest_shop", "success"),
                                                       ("warehouse", "success")]
    assert versions() == before
