"""Column lineage read off SQL with sqlglot, through the warehouse's SCD2 MERGE and fact SELECT."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobs.load_warehouse import with_column_lineage
from lineage.errors import QueryError
from lineage.events.column_lineage import (
    AGGREGATION,
    IDENTITY,
    TRANSFORMATION,
    Source,
    column_lineage,
    to_locations,
)
from lineage.events.run_events import DatasetRef, run_event, to_json
from tests.lineage.conftest import T0, validate

RETAIL = Path(__file__).resolve().parents[3] / "examples" / "retail"
AT = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def retail():
    """The retail example's models and the SQL its warehouse load runs for one batch."""
    from lake.config.project import load_project
    from warehouse import facts, scd2
    from warehouse.dimensions import batch_select
    from warehouse.models.catalog import load_models

    catalog = load_models(load_project(RETAIL))
    dims = catalog.dimensions
    batch = "20260102-001"

    def dimension_sql(name: str) -> str:
        info = catalog.selects[name]
        select = batch_select(info, dims[name].input_table, batch)
        protected = batch_select(info, dims[name].input_table, batch)
        return scd2.snapshot_merge(dims[name], select, protected, effective=AT, recorded=AT,
                                   batch_id=batch)

    fact = catalog.facts["fact_orders"]
    info = catalog.selects["fact_orders"]
    fact_sql = facts.fact_merge(fact, batch_select(info, "retail_silver.orders", batch),
                                list(info.columns), dims, recorded=AT, batch_id=batch)
    return {"warehouse.dim_customer": dimension_sql("dim_customer"),
            "warehouse.dim_product": dimension_sql("dim_product"),
            "warehouse.fact_orders": fact_sql}


def test_scd2_merge_maps_each_dimension_column_to_its_silver_column(retail):
    found = column_lineage(retail["warehouse.dim_customer"])
    assert found["city"] == [Source("retail_silver.customers", "city", IDENTITY, False)]
    assert found["customer_id"] == [
        Source("retail_silver.customers", "customer_id", IDENTITY, False)]
    # xxhash64(customer_id, logical date): the date is a literal, the key the only column;
    # a hash, so the key cannot be read back from it (masking).
    assert found["customer_sk"] == [
        Source("retail_silver.customers", "customer_id", TRANSFORMATION, True)]
    # s.row_hash in the MERGE is an identity of the source's sha2(...): a masked transformation.
    assert found["row_hash"] == [Source("retail_silver.customers", c, TRANSFORMATION, True)
                                 for c in sorted(("name", "email", "city", "segment"))]
    for bookkeeping in ("valid_from", "valid_to", "is_current", "recorded_at", "_batch_id"):
        assert found.get(bookkeeping, []) == []  # literals of the batch, not columns
    assert not any(table == "warehouse.dim_customer" for sources in found.values()
                   for table, *_ in sources)  # the target's own columns are no input
    product = column_lineage(retail["warehouse.dim_product"])
    assert product["unit_price"] == [
        Source("retail_silver.products", "unit_price", IDENTITY, False)]


def test_fact_orders_keys_come_from_the_dimensions_and_measures_from_silver(retail):
    found = column_lineage(retail["warehouse.fact_orders"])
    assert ("warehouse.dim_customer", "customer_sk") in {
        (s.table, s.column) for s in found["customer_sk"]}
    assert ("warehouse.dim_product", "product_sk") in {
        (s.table, s.column) for s in found["product_sk"]}
    assert found["amount"] == [Source("retail_silver.orders", "amount", IDENTITY, False)]
    # CAST(date_format(order_ts, 'yyyyMMdd') AS INT): computed, not copied, and not a hash.
    assert found["date_key"] == [
        Source("retail_silver.orders", "order_ts", TRANSFORMATION, False)]
    assert found.get("recorded_at", []) == []


def test_subqueries_ctes_unions_and_stars_are_followed():
    sql = ("WITH o AS (SELECT * FROM silver.orders) "
           "SELECT x.id, x.total FROM (SELECT o.order_id AS id, o.amount * o.quantity AS total "
           "FROM o UNION ALL SELECT r.order_id, r.refund FROM silver.refunds r) AS x")
    assert column_lineage(sql) == {
        "id": [Source("silver.orders", "order_id"), Source("silver.refunds", "order_id")],
        "total": [Source("silver.orders", "amount", TRANSFORMATION),
                  Source("silver.orders", "quantity", TRANSFORMATION),
                  Source("silver.refunds", "refund", IDENTITY)],
    }


def test_subtypes_compose_through_ctes_and_aggregates():
    sql = ("WITH c AS (SELECT customer_id, md5(email) AS email_key, amount FROM silver.sales) "
           "SELECT c.customer_id AS id, (c.email_key) AS k, sum(c.amount) AS total, "
           "max(upper(c.email_key)) AS top, c.amount + 1 AS next FROM c GROUP BY 1, 2")
    assert column_lineage(sql) == {
        "id": [Source("silver.sales", "customer_id", IDENTITY, False)],
        "k": [Source("silver.sales", "email", TRANSFORMATION, True)],  # renamed hash: masked
        "total": [Source("silver.sales", "amount", AGGREGATION, False)],
        "top": [Source("silver.sales", "email", AGGREGATION, True)],
        "next": [Source("silver.sales", "amount", TRANSFORMATION, False)],
    }


def test_statements_that_build_no_table_are_refused():
    with pytest.raises(QueryError, match="not DROP"):
        column_lineage("DROP TABLE silver.orders")
    with pytest.raises(QueryError, match="cannot read the transform's SQL"):
        column_lineage("SELECT FROM WHERE (")


def test_the_warehouse_job_emits_valid_column_lineage_facets(tmp_path, retail):
    silver = ("retail_silver.customers", "retail_silver.products", "retail_silver.orders")
    written = ("warehouse.dim_customer", "warehouse.dim_product", "warehouse.fact_orders")
    loc = {t: str(tmp_path / t.replace(".", "/")) for t in (*silver, *written)}
    inputs = [DatasetRef(loc[t], table=t, version=3) for t in silver]
    outputs = with_column_lineage([DatasetRef(loc[t], table=t, version=1) for t in written],
                                  inputs, {t: [retail[t]] for t in written})
    dim = outputs[0].column_lineage
    assert dim["city"] == [Source(loc["retail_silver.customers"], "city", IDENTITY, False)]
    assert "valid_from" not in dim  # no column feeds it
    assert Source(loc["warehouse.dim_customer"], "customer_sk", TRANSFORMATION, False) in \
        outputs[2].column_lineage["customer_sk"]
    event = json.loads(to_json(run_event(
        "COMPLETE", namespace="lakehouse", job_name="retail.load_warehouse",
        run_id="0190d2d6-6a4b-7c3e-9e4a-0a1b2c3d4e5f", event_time=T0, inputs=inputs,
        outputs=outputs)))
    fields = event["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert fields["city"]["inputFields"] == [
        {"namespace": "file", "name": loc["retail_silver.customers"], "field": "city",
         "transformations": [{"type": "DIRECT", "subtype": "IDENTITY", "masking": False}]}]
    assert fields["customer_sk"]["inputFields"] == [
        {"namespace": "file", "name": loc["retail_silver.customers"], "field": "customer_id",
         "transformations": [{"type": "DIRECT", "subtype": "TRANSFORMATION", "masking": True}]}]
    result = validate({"warehouse": [event]}, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_to_locations_drops_unrecorded_tables():
    mapping = {"a": [Source("silver.x", "a", TRANSFORMATION), Source("other.y", "a")], "b": []}
    assert to_locations(mapping, {"silver.x": "/lake/silver/x"}) == {
        "a": [Source("/lake/silver/x", "a", TRANSFORMATION)]}
