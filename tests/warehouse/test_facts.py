"""Declared facts against expected rows: dimension versions as of event time (a late fact gets
the version valid then), inferred members filled in when the member arrives, a corrected
re-delivery replacing its fact, a grain that must identify one row; the view over them; and the
column lineage read off the SQL that ran."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from lake.platform.delta import table_version
from tests.warehouse.builders import AT, drop_models, scenario

D1, D2 = date(2026, 4, 1), date(2026, 4, 2)
T1, T2 = datetime(2026, 4, 1), datetime(2026, 4, 2)
INFERRED = datetime(1900, 1, 1)
CONTRACTS = {
    "customers": {"version": 1, "keys": ["customer_id"], "columns": [
        {"name": "customer_id", "type": "string", "nullable": False},
        {"name": "city", "type": "string"}]},
    "orders": {"version": 1, "keys": ["order_id"], "columns": [
        {"name": "order_id", "type": "string", "nullable": False},
        {"name": "customer_id", "type": "string"},
        {"name": "order_ts", "type": "timestamp", "nullable": False},
        {"name": "amount", "type": "decimal(10,2)"}]},
}
DIM = "from: facttest.customers\nkey: customer_id\ntracked: [city]\ninput: snapshot\n"
FACT = """/*
grain: [order_id]
event_time: order_ts
lookups:
  - {dimension: dim_fcust, on: {customer_id: customer_id}}
unknown_members: infer
measures: [amount]
*/
SELECT order_id, customer_id, order_ts, to_date(order_ts) AS order_date, amount
FROM facttest_silver.orders
"""
VIEW = """/* description: revenue per city as it was when the order was placed */
SELECT c.city, sum(f.amount) AS revenue
FROM warehouse.fact_forders AS f JOIN warehouse.dim_fcust AS c ON f.fcust_sk = c.fcust_sk
GROUP BY c.city
"""


def _o(order_id: str, customer: str, ts: str, amount: str) -> dict:
    return {"order_id": order_id, "customer_id": customer, "order_ts": datetime.fromisoformat(ts),
            "amount": Decimal(amount)}


def _c(customer: str, city: str) -> dict:
    return {"customer_id": customer, "city": city}


@pytest.fixture(scope="module")
def loaded(spark, session_settings, tmp_path_factory):
    from warehouse.load import load_warehouse

    s = scenario(spark, session_settings, tmp_path_factory.mktemp("facts"), "facttest", CONTRACTS)
    drop_models(spark, "dim_fcust", "fact_forders", "v_fcity")
    s.model("dim_fcust.yaml", DIM)
    s.model("fact_forders.sql", FACT)
    s.model("views/v_fcity.sql", VIEW)
    s.batch("customers", "20260401-001", D1, [_c("c1", "Lisbon"), _c("c2", "Porto")])
    s.batch("orders", "20260401-001", D1, [_o("o1", "c1", "2026-04-01 10:00", "10"),
                                           _o("o2", "c3", "2026-04-01 11:00", "5")])
    first = load_warehouse(spark, s.catalog(), recorded_at=AT)
    after_day1 = spark.table("warehouse.dim_fcust").collect()
    s.batch("customers", "20260402-001", D2, [_c("c1", "Madrid"), _c("c2", "Porto"),
                                              _c("c3", "Berlin")])
    s.batch("orders", "20260402-001", D2, [
        _o("o3", "c1", "2026-04-02 09:00", "7"),
        _o("o4", "c1", "2026-04-01 12:00", "3"),  # late: placed on day 1, delivered on day 2
        _o("o5", "c2", "2026-03-30 08:00", "4")])  # before c2's first known version
    s.batch("orders", "20260402-002", D2, [_o("o3", "c1", "2026-04-02 09:00", "8")])  # corrected
    second = load_warehouse(spark, s.catalog(), recorded_at=AT)
    return s, first, second, after_day1


def _sk(spark, customer: str, valid_from: datetime) -> int:
    return spark.sql(f"SELECT xxhash64('{customer}', TIMESTAMP '{valid_from}') AS k").first()["k"]


def test_an_unknown_customer_becomes_an_inferred_member_then_is_filled_in(spark, loaded):
    _, first, second, after_day1 = loaded
    assert first.failed == {} and second.failed == {}
    c3 = [r for r in after_day1 if r["customer_id"] == "c3"]
    assert len(c3) == 1 and c3[0]["is_inferred"] and c3[0]["city"] is None
    assert c3[0]["valid_from"] == INFERRED and c3[0]["is_current"]
    dim = spark.table("warehouse.dim_fcust").select(
        "customer_id", "city", "valid_from", "valid_to", "is_current", "is_inferred")
    assertDataFrameEqual(dim, [
        Row(customer_id="c1", city="Lisbon", valid_from=T1, valid_to=T2, is_current=False,
            is_inferred=False),
        Row(customer_id="c1", city="Madrid", valid_from=T2, valid_to=None, is_current=True,
            is_inferred=False),
        Row(customer_id="c2", city="Porto", valid_from=T1, valid_to=None, is_current=True,
            is_inferred=False),
        # the inferred member filled in place: its key (and the facts on it) stay right
        Row(customer_id="c3", city="Berlin", valid_from=INFERRED, valid_to=None, is_current=True,
            is_inferred=False),
    ])


def test_facts_key_to_the_version_valid_at_event_time(spark, loaded):
    facts = spark.table("warehouse.fact_forders").select("order_id", "fcust_sk", "amount",
                                                         "order_date", "_batch_id")
    assertDataFrameEqual(facts, [
        Row(order_id="o1", fcust_sk=_sk(spark, "c1", T1), amount=Decimal("10.00"),
            order_date=date(2026, 4, 1), _batch_id="20260401-001"),
        Row(order_id="o2", fcust_sk=_sk(spark, "c3", INFERRED), amount=Decimal("5.00"),
            order_date=date(2026, 4, 1), _batch_id="20260401-001"),
        # the correction delivered later replaced the first o3
        Row(order_id="o3", fcust_sk=_sk(spark, "c1", T2), amount=Decimal("8.00"),
            order_date=date(2026, 4, 2), _batch_id="20260402-002"),
        # late: keyed to the Lisbon version valid when it was placed
        Row(order_id="o4", fcust_sk=_sk(spark, "c1", T1), amount=Decimal("3.00"),
            order_date=date(2026, 4, 1), _batch_id="20260402-001"),
        Row(order_id="o5", fcust_sk=_sk(spark, "c2", T1), amount=Decimal("4.00"),
            order_date=date(2026, 3, 30), _batch_id="20260402-001"),
    ])


def test_the_view_reads_the_facts_with_their_versions(spark, loaded):
    rows = spark.table("warehouse.v_fcity").collect()
    assert {r["city"]: r["revenue"] for r in rows} == {
        "Lisbon": Decimal("13.00"), "Madrid": Decimal("8.00"), "Berlin": Decimal("5.00"),
        "Porto": Decimal("4.00")}


def test_loading_again_changes_nothing(spark, loaded):
    from warehouse.load import load_warehouse

    s = loaded[0]
    tables = ("warehouse.dim_fcust", "warehouse.fact_forders")
    before = {t: table_version(spark, t) for t in tables}
    again = load_warehouse(spark, s.catalog(), recorded_at=AT)
    assert again.failed == {}
    assert all(outcomes == [] for outcomes in again.outcomes.values())
    assert {t: table_version(spark, t) for t in tables} == before


def test_column_lineage_is_read_off_the_sql_that_ran(loaded):
    from lineage.events.column_lineage import column_lineage

    second = loaded[2]
    statements = second.sql["warehouse.fact_forders"]
    assert len(statements) == 2  # one MERGE per batch
    mapping = column_lineage(statements[0])
    assert [(s.table, s.column, s.subtype) for s in mapping["amount"]] == [
        ("facttest_silver.orders", "amount", "IDENTITY")]
    assert ("warehouse.dim_fcust", "fcust_sk") in {(s.table, s.column)
                                                   for s in mapping["fcust_sk"]}
    assert [(s.table, s.column) for s in mapping["order_date"]] == [
        ("facttest_silver.orders", "order_ts")]


def test_two_rows_of_one_grain_in_a_batch_stop_the_fact(spark, loaded):
    from warehouse.load import load_warehouse

    s = loaded[0]
    s.batch("orders", "20260403-001", date(2026, 4, 3), [
        _o("o9", "c1", "2026-04-03 09:00", "1"), _o("o9", "c2", "2026-04-03 10:00", "2")])
    result = load_warehouse(spark, s.catalog(), recorded_at=AT, models=("fact_forders",))
    assert "fact_forders" in result.failed
    assert "several rows with the grain" in result.failed["fact_forders"]
    assert '"order_id":"o9"' in result.failed["fact_forders"]
