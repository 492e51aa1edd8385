"""Column lineage read off SQL with sqlglot, through the warehouse's SCD2 MERGE and fact SELECT."""

from __future__ import annotations

import json

import pytest

from jobs.load_warehouse import with_column_lineage
from lineage.column_lineage import column_lineage, to_locations
from lineage.errors import QueryError
from lineage.events import DatasetRef, run_event, to_json
from tests.lineage.conftest import T0, validate
from warehouse.facts import fact_orders_sql
from warehouse.models import DIM_CUSTOMER, DIM_PRODUCT
from warehouse.scd2 import merge_sql


def test_scd2_merge_maps_each_dimension_column_to_its_silver_column():
    found = column_lineage(merge_sql(DIM_CUSTOMER))
    assert found["city"] == [("silver.customers", "city")]
    assert found["customer_id"] == [("silver.customers", "customer_id")]
    # xxhash64(customer_id, logical date): the date is a parameter, the key the only column.
    assert found["customer_sk"] == [("silver.customers", "customer_id")]
    assert found["row_hash"] == [("silver.customers", c) for c in sorted(DIM_CUSTOMER.tracked)]
    for bookkeeping in ("valid_from", "valid_to", "is_current", "recorded_at", "_batch_id"):
        assert found[bookkeeping] == []  # set from the logical date and the batch, not columns
    assert not any(table == DIM_CUSTOMER.table for sources in found.values()
                   for table, _ in sources)  # the target's own columns are no input
    product = column_lineage(merge_sql(DIM_PRODUCT))
    assert product["unit_price"] == [("silver.products", "unit_price")]


def test_fact_orders_keys_come_from_the_dimensions_and_measures_from_silver():
    found = column_lineage(fact_orders_sql())
    assert found["customer_sk"] == [("warehouse.dim_customer", "customer_sk")]
    assert found["product_sk"] == [("warehouse.dim_product", "product_sk")]
    assert found["amount"] == [("silver.orders", "amount")]
    assert found["date_key"] == [("silver.orders", "order_ts")]
    assert found["recorded_at"] == []


def test_subqueries_ctes_unions_and_stars_are_followed():
    sql = ("WITH o AS (SELECT * FROM silver.orders) "
           "SELECT x.id, x.total FROM (SELECT o.order_id AS id, o.amount * o.quantity AS total "
           "FROM o UNION ALL SELECT r.order_id, r.refund FROM silver.refunds r) AS x")
    assert column_lineage(sql) == {
        "id": [("silver.orders", "order_id"), ("silver.refunds", "order_id")],
        "total": [("silver.orders", "amount"), ("silver.orders", "quantity"),
                  ("silver.refunds", "refund")],
    }


def test_statements_that_build_no_table_are_refused():
    with pytest.raises(QueryError, match="not DROP"):
        column_lineage("DROP TABLE silver.orders")
    with pytest.raises(QueryError, match="cannot read the transform's SQL"):
        column_lineage("SELECT FROM WHERE (")


def test_the_warehouse_job_emits_valid_column_lineage_facets(tmp_path):
    loc = {t: str(tmp_path / t.replace(".", "/")) for t in (
        "silver.customers", "silver.products", "silver.orders", DIM_CUSTOMER.table,
        DIM_PRODUCT.table, "warehouse.fact_orders")}
    inputs = [DatasetRef(loc[t], table=t, version=3)
              for t in ("silver.customers", "silver.products", "silver.orders")]
    outputs = with_column_lineage(
        [DatasetRef(loc[t], table=t, version=1)
         for t in (DIM_CUSTOMER.table, DIM_PRODUCT.table, "warehouse.fact_orders")], inputs)
    dim = outputs[0].column_lineage
    assert dim["city"] == [(loc["silver.customers"], "city")]
    assert "valid_from" not in dim  # no column feeds it
    assert outputs[2].column_lineage["customer_sk"] == [(loc[DIM_CUSTOMER.table], "customer_sk")]
    event = json.loads(to_json(run_event(
        "COMPLETE", namespace="lakehouse", job_name="retail.load_warehouse",
        run_id="0190d2d6-6a4b-7c3e-9e4a-0a1b2c3d4e5f", event_time=T0, inputs=inputs,
        outputs=outputs)))
    fields = event["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert fields["city"]["inputFields"] == [
        {"namespace": "file", "name": loc["silver.customers"], "field": "city",
         "transformations": []}]
    result = validate({"warehouse": [event]}, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_to_locations_drops_unrecorded_tables():
    mapping = {"a": [("silver.x", "a"), ("other.y", "a")], "b": []}
    assert to_locations(mapping, {"silver.x": "/lake/silver/x"}) == {
        "a": [("/lake/silver/x", "a")]}
