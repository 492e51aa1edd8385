"""The retail example project run in-process for three days on the generator's real dirty
data: land (files connector), bronze, validate (silver + quarantine), the declared warehouse
(SCD2 dim_customer and dim_product, fact_orders), then the warehouse load again.

The expected SCD2 history and the late orders' customer versions are rebuilt independently in
Python from the drop files.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from examples.retail.generator.source import EPOCH, generate_drop
from lake.config.project import load_project
from lake.config.sources import source_of
from lake.platform.catalog import ensure_databases
from lake.platform.delta import table_version
from lake.platform.meta_tables import BATCH_COUNTS, create_meta_tables
from lake.quality.validate import DatasetValidation

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parents[2] / "examples" / "retail"
SOURCE = "retail"
DATASETS = ("customers", "products", "orders")
DAYS = [EPOCH + timedelta(days=n) for n in range(3)]
BATCHES = [f"{day:%Y%m%d}-001" for day in DAYS]
DIM_CUSTOMER, DIM_PRODUCT, FACT_ORDERS = ("warehouse.dim_customer", "warehouse.dim_product",
                                          "warehouse.fact_orders")
WAREHOUSE_TABLES = (DIM_CUSTOMER, DIM_PRODUCT, FACT_ORDERS)
TRACKED = ("name", "email", "city", "segment")
DIM_COLUMNS = ("customer_id", *TRACKED, "valid_from", "valid_to", "is_current")

# The orders dirt generate_drop plants every day (see the generator), as quarantine reasons.
ORDER_DIRT = {
    "duplicate": 2,
    "not_null:order_id": 2,
    "type:quantity": 1,
    "type:amount": 1,
    "range:amount": 2,
    "reference:customer_id->customers": 2,
}


def _at(day: date, hour: int = 0) -> datetime:
    """A moment of ``day`` in UTC, naive, as Spark returns timestamps to this (TZ=UTC) process."""
    return datetime.combine(day, time(hour))


def _table(zone: str, dataset: str) -> str:
    return f"{SOURCE}_{zone}.{dataset}"


@dataclass
class PipelineRun:
    drops: dict[date, Path]
    validations: dict[date, list[DatasetValidation]]
    dim_after_day: dict[date, list[Row]]   # dim_customer (DIM_COLUMNS) after each day's load
    versions: dict[str, int]               # warehouse table versions after the first pass
    contents: dict[str, list[Row]]         # warehouse tables after the first pass
    rerun_versions: dict[str, int]
    rerun_contents: dict[str, list[Row]]
    rerun_outcomes: dict[str, list]        # what the second warehouse load did per model


def _warehouse_state(spark) -> tuple[dict[str, int], dict[str, list[Row]]]:
    versions = {t: table_version(spark, t) for t in WAREHOUSE_TABLES}
    contents = {t: spark.table(t).collect() for t in WAREHOUSE_TABLES}
    return versions, contents


@pytest.fixture(scope="module")
def pipeline(spark, session_settings, tmp_path_factory) -> PipelineRun:
    from lake.ingest.bronze import ingest_batch
    from lake.ingest.connectors.files import land
    from lake.quality.validate import validate_batch
    from tests.warehouse.builders import drop_models
    from warehouse.load import load_warehouse
    from warehouse.models.catalog import load_models

    root = tmp_path_factory.mktemp("retail")
    settings = session_settings.model_copy(
        update={"source_root": str(root / "source"), "landing_root": str(root / "landing")})
    project = load_project(PROJECT)
    source = source_of(project, SOURCE)
    catalog = load_models(project)
    ensure_databases(spark, settings, [SOURCE])
    for dataset in (*DATASETS, "documents"):
        for zone in ("bronze", "silver", "quarantine"):
            spark.sql(f"DROP TABLE IF EXISTS {_table(zone, dataset)}")
    create_meta_tables(spark)
    spark.sql(f"DELETE FROM {BATCH_COUNTS} WHERE source = '{SOURCE}'")
    drop_models(spark, *catalog.order)
    drops, validations, dim_after_day = {}, {}, {}
    for day, batch in zip(DAYS, BATCHES, strict=True):
        drops[day] = generate_drop(root / "source" / SOURCE / f"ds={day}", day).root
        (landed,) = land(settings, source, day)
        assert landed.batch_id == batch
        run_at = _at(day + timedelta(days=1), 6).replace(tzinfo=UTC)
        ingest_batch(spark, source, landed, ingested_at=run_at)
        validations[day] = validate_batch(spark, source, logical_date=day, batch_id=batch,
                                          validated_at=run_at, gx_root=root / "gx")
        assert load_warehouse(spark, catalog, recorded_at=run_at).failed == {}
        dim_after_day[day] = spark.table(DIM_CUSTOMER).select(*DIM_COLUMNS).collect()
    versions, contents = _warehouse_state(spark)
    again = load_warehouse(spark, catalog, recorded_at=datetime(2026, 2, 1, 12, tzinfo=UTC))
    rerun_versions, rerun_contents = _warehouse_state(spark)
    return PipelineRun(drops, validations, dim_after_day, versions, contents, rerun_versions,
                       rerun_contents, again.outcomes)


# -- what the drops hold, read in Python -----------------------------------------------------------


def _customers_csv(drop: Path) -> dict[str, tuple[str, ...]]:
    with (drop / "customers.csv").open(newline="", encoding="utf-8") as fh:
        return {r["customer_id"]: tuple(r[c] or None for c in TRACKED) for r in csv.DictReader(fh)}


def _order_lines(drop: Path) -> list[dict]:
    return [json.loads(line) for line in (drop / "orders.ndjson").read_text("utf-8").splitlines()]


def _ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def expected_history(drops: dict[date, Path], days: list[date]) -> list[Row]:
    """dim_customer as SCD2 over the daily full extracts of ``days``, built without Spark."""
    versions: list[dict] = []
    current: dict[str, dict] = {}
    for day in days:
        at = _at(day)
        snapshot = _customers_csv(drops[day])
        for customer_id, attributes in sorted(snapshot.items()):
            version = current.get(customer_id)
            if version is not None and version["attributes"] == attributes:
                continue
            if version is not None:
                version["valid_to"] = at
            current[customer_id] = {"customer_id": customer_id, "attributes": attributes,
                                    "valid_from": at, "valid_to": None}
            versions.append(current[customer_id])
        for customer_id in sorted(set(current) - set(snapshot)):  # deleted upstream
            current.pop(customer_id)["valid_to"] = at
    return [
        Row(**dict(zip(DIM_COLUMNS, (v["customer_id"], *v["attributes"], v["valid_from"],
                                     v["valid_to"], v["valid_to"] is None), strict=True)))
        for v in versions
    ]


# -- a) nothing lost, and every rejected row says why ----------------------------------------------


def test_every_landed_row_is_in_silver_or_quarantine_and_counted(spark, pipeline):
    counts = {
        (r["zone"], r["dataset"], r["_batch_id"]): r["n"]
        for r in spark.sql(" UNION ALL ".join(
            f"SELECT '{zone}' AS zone, '{name}' AS dataset, _batch_id, count(*) AS n "
            f"FROM {_table(zone, name)} GROUP BY _batch_id"
            for zone in ("bronze", "silver", "quarantine") for name in DATASETS
        )).collect()
    }
    recorded = {(r["dataset"], r["_batch_id"]): r for r in
                spark.table(BATCH_COUNTS).where(f"source = '{SOURCE}'").collect()}
    assert len(recorded) == len(DATASETS) * len(DAYS)
    for day, batch in zip(DAYS, BATCHES, strict=True):
        drop = pipeline.drops[day]
        landed = {
            "orders": len(_order_lines(drop)),
            "customers": len(_customers_csv(drop)),
            "products": 30,
        }
        for name in DATASETS:
            bronze = counts.get(("bronze", name, batch), 0)
            silver = counts.get(("silver", name, batch), 0)
            quarantined = counts.get(("quarantine", name, batch), 0)
            where = f"{name} batch {batch}"
            assert bronze == landed[name], f"{where}: bronze lost or invented rows"
            assert bronze == silver + quarantined, f"{where}: rows lost in validation"
            row = recorded[(name, batch)]
            assert (row["rows_in"], row["rows_valid"], row["rows_quarantined"]) == (
                bronze, silver, quarantined), where
            assert row["logical_date"] == day, where
        # master data of the demo is clean: nothing of it is held back
        assert counts.get(("quarantine", "customers", batch), 0) == 0
        assert counts.get(("quarantine", "products", batch), 0) == 0


def test_quarantined_orders_carry_the_generators_dirt_as_reasons(spark, pipeline):
    rows = spark.table(_table("quarantine", "orders")).select(
        "_batch_id", "_failed_rules", "_rescued_data", "_contract_version").collect()
    recorded = {
        r["_batch_id"]: dict(r["rule_counts"])
        for r in spark.table(BATCH_COUNTS)
        .where(f"source = '{SOURCE}' AND dataset = 'orders'").collect()
    }
    for day, batch in zip(DAYS, BATCHES, strict=True):
        batch_rows = [r for r in rows if r["_batch_id"] == batch]
        reasons = Counter(rule for r in batch_rows for rule in r["_failed_rules"])
        assert reasons == ORDER_DIRT, f"batch {batch}"
        assert recorded[batch] == ORDER_DIRT, f"batch {batch}: meta.batch_counts"
        assert all(len(r["_failed_rules"]) == 1 for r in batch_rows), "one planted fault per row"
        # orders gain `channel` on the second day: contract v2 (schema evolution) from then on
        assert {r["_contract_version"] for r in batch_rows} == {1 if day == EPOCH else 2}
        # the misfit raw values are kept, exactly as landed
        landed = _order_lines(pipeline.drops[day])
        misfits = [
            {field: line[field]} for line in landed for field in ("quantity", "amount")
            if isinstance(line.get(field), str)
        ]
        rescued = [json.loads(r["_rescued_data"]) for r in batch_rows if r["_rescued_data"]]
        assert sorted(rescued, key=str) == sorted(misfits, key=str), f"batch {batch}"


def test_great_expectations_reports_the_same_null_keys_as_the_quarantine(pipeline):
    for day in DAYS:
        (orders,) = [v for v in pipeline.validations[day] if v.dataset == "orders"]
        (outcome,) = [o for o in orders.expectations.outcomes if o.rule == "not_null:order_id"]
        assert not outcome.success
        assert outcome.unexpected_count == orders.counts.by_rule["not_null:order_id"] == 2
        assert outcome.element_count == orders.counts.rows_in


# -- b) SCD2 dim_customer: expected history vs actual, idempotent re-runs --------------------------


@pytest.mark.parametrize("days_loaded", [1, 2, 3])
def test_dim_customer_history_matches_the_extracts(pipeline, days_loaded):
    day = DAYS[days_loaded - 1]
    expected = expected_history(pipeline.drops, DAYS[:days_loaded])
    assertDataFrameEqual(pipeline.dim_after_day[day], expected)


def test_loading_the_warehouse_again_changes_no_table(pipeline):
    assert pipeline.rerun_versions == pipeline.versions
    assert all(outcomes == [] for outcomes in pipeline.rerun_outcomes.values())
    for table in WAREHOUSE_TABLES:
        assertDataFrameEqual(pipeline.rerun_contents[table], pipeline.contents[table])
    final = [Row(*(r[c] for c in DIM_COLUMNS)) for r in pipeline.rerun_contents[DIM_CUSTOMER]]
    assertDataFrameEqual(final, expected_history(pipeline.drops, DAYS))


def test_dim_customer_versions_are_well_formed(pipeline):
    rows = pipeline.rerun_contents[DIM_CUSTOMER]
    by_customer: dict[str, list[Row]] = {}
    for r in rows:
        by_customer.setdefault(r["customer_id"], []).append(r)
    assert len({r["customer_sk"] for r in rows}) == len(rows), "surrogate keys are unique"
    assert all(sum(r["is_current"] for r in v) <= 1 for v in by_customer.values())
    assert max(len(v) for v in by_customer.values()) >= 2, "some customer changed"
    first, last = _customers_csv(pipeline.drops[DAYS[0]]), _customers_csv(pipeline.drops[DAYS[-1]])
    deleted = sorted(set(first) - set(last))
    assert deleted, "the demo deletes customers every day"
    for customer_id in deleted:
        versions = by_customer[customer_id]  # closed, not removed
        assert not any(r["is_current"] for r in versions), customer_id
        assert all(r["valid_to"] is not None for r in versions), customer_id


# -- c) fact_orders: one row per valid order, keyed to the version valid at order time -------------


def test_fact_orders_has_one_row_per_silver_order(spark, pipeline):
    assertDataFrameEqual(
        spark.table(FACT_ORDERS).select("_batch_id", "order_id"),
        spark.table(_table("silver", "orders")).select("_batch_id", "order_id"),
    )


def test_every_fact_row_keys_to_versions_valid_at_order_time(spark, pipeline):
    bad = spark.sql(f"""
        SELECT f.order_id FROM {FACT_ORDERS} f
        LEFT JOIN {DIM_CUSTOMER} c ON f.customer_sk = c.customer_sk
        LEFT JOIN {DIM_PRODUCT} p ON f.product_sk = p.product_sk
        WHERE NOT (c.customer_id <=> f.customer_id AND c.valid_from <= f.order_ts
                   AND f.order_ts < coalesce(c.valid_to, TIMESTAMP '9999-12-31')
                   AND p.product_id <=> f.product_id AND p.valid_from <= f.order_ts
                   AND f.order_ts < coalesce(p.valid_to, TIMESTAMP '9999-12-31'))
    """).collect()
    assert bad == []


def test_late_orders_key_to_the_customer_version_of_their_order_day(spark, pipeline):
    history = expected_history(pipeline.drops, DAYS)
    expected = []
    for day in DAYS:
        for line in _order_lines(pipeline.drops[day]):
            ts = _ts(line["order_ts"])
            if ts.date() < day:
                (version,) = [
                    v for v in history if v["customer_id"] == line["customer_id"]
                    and v["valid_from"] <= ts and (v["valid_to"] is None or ts < v["valid_to"])
                ]
                expected.append(Row(line["order_id"], *version))
    assert len(expected) == 3 * (len(DAYS) - 1), "3 late orders a day after the first"
    assert any(not r[-1] for r in expected), "some late order's customer has changed since"
    late_ids = ", ".join(f"'{r[0]}'" for r in expected)
    actual = spark.sql(f"""
        SELECT f.order_id, {', '.join(f'c.{col}' for col in DIM_COLUMNS)}
        FROM {FACT_ORDERS} f JOIN {DIM_CUSTOMER} c ON f.customer_sk = c.customer_sk
        WHERE f.order_id IN ({late_ids})
    """).collect()
    assertDataFrameEqual(actual, expected)
    assert any(not r["is_current"] for r in actual), "a late order keys to a closed version"


# -- e) what users see: quality reports, contract versions, a proposed contract ---------------------


def test_day_two_schema_changes_are_new_contract_versions_and_anomalies(spark, pipeline):
    from lake.contracts.versions import history
    from lake.quality.report import load_report

    report = load_report(spark, SOURCE, "orders")
    found = {(a["batch"], a["type"], a["column"], a["severity"]) for a in report["anomalies"]}
    assert (BATCHES[1], "new_column", "channel", "warning") in found
    assert (BATCHES[0], "out_of_range", "amount", "error") in found
    products = load_report(spark, SOURCE, "products", BATCHES[1])
    assert [(a["type"], a["column"], a["details"]["change"]) for a in products["anomalies"]] == [
        ("type_mismatch", "weight_g", "widened")]
    versions = history(spark, SOURCE, "orders")["orders"]
    assert [(v.version, v.origin) for v in versions] == [(1, "repo"), (2, "evolution")]


def test_a_proposed_contract_follows_the_version_in_effect(spark, pipeline, session_settings):
    from lake.contracts.inference import infer_contract

    settings = session_settings.model_copy(update={
        "landing_root": str(next(iter(pipeline.drops.values())).parents[2] / "landing")})
    source = source_of(load_project(PROJECT), SOURCE)
    proposal, origin = infer_contract(spark, settings, source, "orders", date(2026, 2, 1))
    assert origin == f"{len(DAYS)} landed file(s)"
    assert "channel" in proposal.column_names and "order_id" in proposal.column_names
    assert proposal.version == 3, "proposed as the version after the one in effect"
