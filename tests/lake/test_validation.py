"""Row-level validation: the exact rules each bronze row fails, and the batch's conservation law."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from lake.bronze import bronze_ddl
from lake.contract import source_contracts
from lake.validation import FAILED, MALFORMED, BatchCounts, count_batch, flag_rows, rule_names

CONTRACTS = source_contracts("retail")
TS = datetime(2026, 1, 1, 10, 0)
INGESTED_AT = datetime(2026, 1, 2, 6, 0, tzinfo=UTC)
REF_CUSTOMER = "reference:customer_id->customers"
REF_PRODUCT = "reference:product_id->products"
ORDER_NOT_NULLS = [f"not_null:{c}" for c in CONTRACTS["orders"].column_names]


def _order(order_id="O1", customer_id="C1", product_id="P1", quantity=1, amount="10.00",
           order_ts=TS, rescued=None) -> tuple:
    return (order_id, customer_id, product_id, quantity,
            None if amount is None else Decimal(amount), order_ts,
            None if rescued is None else json.dumps(rescued), "orders.ndjson", INGESTED_AT,
            "20260102")


# (bronze row, the exact rules it must fail, in rule order)
ORDER_CASES = [
    (_order("O1"), []),
    (_order(None), ["not_null:order_id"]),
    (_order("O3", quantity=None, rescued={"quantity": "two"}), ["type:quantity"]),
    (_order("O4", quantity=None), ["not_null:quantity"]),
    (_order("O5", amount="-1.00"), ["range:amount"]),
    (_order("O6", quantity=0), ["range:quantity"]),
    (_order("O7", order_ts=None, rescued={"order_ts": "yesterday"}), ["type:order_ts"]),
    (_order("O8", amount="0.00"), []),  # the lower bound itself is valid
    # an exact duplicate line: the first copy is kept, the other flagged
    (_order("O9"), []),
    (_order("O9"), ["duplicate"]),
    # the same key with different content: nobody can tell which is right, so all go
    (_order("O10", amount="10.00"), ["unique:order_id"]),
    (_order("O10", amount="20.00"), ["unique:order_id"]),
    # both at once: copies of one line and a conflicting line with its key
    (_order("O11", amount="5.00"), ["unique:order_id"]),
    (_order("O11", amount="5.00"), ["duplicate"]),
    (_order("O11", amount="6.00"), ["unique:order_id"]),
    (_order("O12", customer_id="C9"), [REF_CUSTOMER]),
    (_order("O13", product_id="P9"), [REF_PRODUCT]),
    (_order("O14", customer_id="C9", quantity=0), ["range:quantity", REF_CUSTOMER]),
    (_order(None, None, None, None, None, None, rescued={"_corrupt_record": '{"order_id": '}),
     [MALFORMED, *ORDER_NOT_NULLS]),
]


def _flag(spark, dataset: str, rows: list[tuple], known: dict):
    contract = CONTRACTS[dataset]
    bronze = spark.createDataFrame(rows, bronze_ddl(contract))
    return bronze.transform(flag_rows(contract, known))


def _expected_counts(dataset: str, expected_rules: list[list[str]]) -> BatchCounts:
    by_rule = Counter(rule for rules in expected_rules for rule in rules)
    valid = sum(1 for rules in expected_rules if not rules)
    return BatchCounts(len(expected_rules), valid, len(expected_rules) - valid,
                       {name: by_rule[name] for name in rule_names(CONTRACTS[dataset])})


@pytest.fixture(scope="module")
def known_keys(spark):
    return {
        "customers": spark.createDataFrame([("C1",), ("C2",)], "customer_id STRING"),
        "products": spark.createDataFrame([("P1",), ("P2",), ("P2",)], "product_id STRING"),
    }


def test_every_order_row_fails_exactly_its_rules(spark, known_keys):
    flagged = _flag(spark, "orders", [row for row, _ in ORDER_CASES], known_keys)
    actual = flagged.select("order_id", "customer_id", "product_id", "quantity", "amount",
                            "order_ts", "_rescued_data", FAILED)
    expected = [Row(*row[:7], rules) for row, rules in ORDER_CASES]
    assertDataFrameEqual(actual, spark.createDataFrame(expected, actual.schema))
    # bronze columns pass through untouched (quarantine keeps them)
    assert flagged.columns == [*CONTRACTS["orders"].column_names, "_rescued_data", "_source_file",
                               "_ingested_at", "_batch_id", FAILED]


def test_count_batch_conserves_rows_and_counts_every_rule(spark, known_keys):
    flagged = _flag(spark, "orders", [row for row, _ in ORDER_CASES], known_keys)
    counts = count_batch(flagged, rule_names(CONTRACTS["orders"]))
    assert counts == _expected_counts("orders", [rules for _, rules in ORDER_CASES])
    assert counts.rows_in == counts.rows_valid + counts.rows_quarantined == len(ORDER_CASES)


def _customer(customer_id="C1", segment="consumer", city="Lisbon", updated_at=TS, rescued=None):
    return (customer_id, "Ana Silva", "ana@example.com", city, segment, updated_at,
            None if rescued is None else json.dumps(rescued), "customers.csv", INGESTED_AT,
            "20260102")


CUSTOMER_CASES = [
    (_customer("C1"), []),
    (_customer("C2", city=None), []),  # city is nullable
    (_customer("C3", segment="vip"), ["accepted_values:segment"]),
    (_customer("C4", segment=None), ["not_null:segment"]),  # not also accepted_values
    (_customer("C5", updated_at=None, rescued={"updated_at": "01/02/2026"}), ["type:updated_at"]),
    (_customer("C6", city="Porto"), ["unique:customer_id"]),
    (_customer("C6", city="Madrid"), ["unique:customer_id"]),
]


def test_customer_rows_fail_accepted_values_and_keep_nullable_columns(spark):
    flagged = _flag(spark, "customers", [row for row, _ in CUSTOMER_CASES], {}).persist()
    try:
        actual = flagged.select("customer_id", "city", "segment", "updated_at", "_rescued_data",
                                FAILED)
        expected = [Row(r[0], r[3], r[4], r[5], r[6], rules) for r, rules in CUSTOMER_CASES]
        assertDataFrameEqual(actual, spark.createDataFrame(expected, actual.schema))
        counts = count_batch(flagged, rule_names(CONTRACTS["customers"]))
    finally:
        flagged.unpersist()
    assert counts == _expected_counts("customers", [rules for _, rules in CUSTOMER_CASES])
