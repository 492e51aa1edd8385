"""Row-level validation: the exact rules each bronze row fails, and the batch's conservation law."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from lake.config.project import load_project
from lake.config.sources import source_of
from lake.contracts.rules.registry import rules
from lake.contracts.tables import bronze_ddl
from lake.quality.flags import FAILED, MALFORMED, BatchCounts, count_batch, flag_rows

CONTRACTS = source_of(load_project(Path(__file__).resolve().parents[2] / "examples" / "retail"),
                      "retail").contracts
TS = datetime(2026, 1, 1, 10, 0)
INGESTED_AT = datetime(2026, 1, 2, 6, 0, tzinfo=UTC)
REF_CUSTOMER = "reference:customer_id->customers"
REF_PRODUCT = "reference:product_id->products"
ORDER_NOT_NULLS = [f"not_null:{c}" for c in CONTRACTS["orders"].column_names]


def _order(order_id="O1", customer_id="C1", product_id="P1", quantity=1, amount="10.00",
           order_ts=TS, rescued=None, payment="card", returned=False) -> tuple:
    return (order_id, customer_id, product_id, quantity,
            None if amount is None else Decimal(amount), order_ts, payment, returned,
            None if rescued is None else json.dumps(rescued), "orders.ndjson", INGESTED_AT,
            "20260102-001", f"r-{order_id}-{amount}")


# (bronze row, the exact rules it must fail, in rule order)
ORDER_CASES = [
    (_order("O1"), []),
    (_order(None), ["not_null:order_id"]),
    (_order("O3", quantity=None, rescued={"quantity": "two"}), ["type:quantity"]),
    (_order("O4", quantity=None), ["not_null:quantity"]),
    (_order("O5", amount="-1.00"), ["range:amount"]),
    # quantity 0 also breaks the custom rule amount <= quantity * 1000
    (_order("O6", quantity=0), ["range:quantity", "custom:plausible_amount"]),
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
    (_order("O14", customer_id="C9", quantity=0),
     ["range:quantity", REF_CUSTOMER, "custom:plausible_amount"]),
    (_order(None, None, None, None, None, None, rescued={"_corrupt_record": '{"order_id": '},
            payment=None, returned=None),
     [MALFORMED, *ORDER_NOT_NULLS]),
    (_order("O15", payment="cash"), ["accepted_values:payment"]),
    # a warn rule flags the row and keeps it valid (counted, not quarantined)
    (_order("O16", quantity=1, amount="1500.00"), ["custom:plausible_amount"]),
]
WARNED = 1  # rows above failing only warn-severity rules


def _flag(spark, dataset: str, rows: list[tuple], known: dict):
    contract = CONTRACTS[dataset]
    bronze = spark.createDataFrame(rows, bronze_ddl(contract))
    return bronze.transform(flag_rows(contract, known))


def _expected_counts(dataset: str, expected_rules: list[list[str]]) -> BatchCounts:
    active = rules(CONTRACTS[dataset])
    warn_only = {r.name for r in active if not r.quarantines}
    by_rule = Counter(rule for failed in expected_rules for rule in failed)
    valid = sum(1 for failed in expected_rules if set(failed) <= warn_only)
    return BatchCounts(len(expected_rules), valid, len(expected_rules) - valid,
                       {r.name: by_rule[r.name] for r in active})


@pytest.fixture(scope="module")
def known_keys(spark):
    return {
        "customers": spark.createDataFrame([("C1",), ("C2",)], "customer_id STRING"),
        "products": spark.createDataFrame([("P1",), ("P2",), ("P2",)], "product_id STRING"),
    }


def test_every_order_row_fails_exactly_its_rules(spark, known_keys):
    flagged = _flag(spark, "orders", [row for row, _ in ORDER_CASES], known_keys)
    actual = flagged.select("order_id", "customer_id", "product_id", "quantity", "amount",
                            "order_ts", "payment", "returned", "_rescued_data", FAILED)
    expected = [Row(*row[:9], failed) for row, failed in ORDER_CASES]
    assertDataFrameEqual(actual, spark.createDataFrame(expected, actual.schema))
    # bronze columns pass through untouched (quarantine keeps them)
    assert flagged.columns == [*CONTRACTS["orders"].column_names, "_rescued_data", "_source_file",
                               "_ingested_at", "_batch_id", "_record_id", FAILED]


def test_count_batch_conserves_rows_and_counts_every_rule(spark, known_keys):
    flagged = _flag(spark, "orders", [row for row, _ in ORDER_CASES], known_keys)
    counts, _ = count_batch(flagged, rules(CONTRACTS["orders"]))
    assert counts == _expected_counts("orders", [failed for _, failed in ORDER_CASES])
    assert counts.rows_in == counts.rows_valid + counts.rows_quarantined == len(ORDER_CASES)
    valid_by_case = sum(1 for _, failed in ORDER_CASES if not failed)
    assert counts.rows_valid == valid_by_case + WARNED


def _customer(customer_id="C1", segment="consumer", city="Lisbon", updated_at=TS, rescued=None):
    return (customer_id, "Ana Silva", "ana@example.com", city, segment, updated_at,
            None if rescued is None else json.dumps(rescued), "customers.csv", INGESTED_AT,
            "20260102-001", f"r-{customer_id}-{city}")


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
        expected = [Row(r[0], r[3], r[4], r[5], r[6], failed) for r, failed in CUSTOMER_CASES]
        assertDataFrameEqual(actual, spark.createDataFrame(expected, actual.schema))
        counts, _ = count_batch(flagged, rules(CONTRACTS["customers"]))
    finally:
        flagged.unpersist()
    assert counts == _expected_counts("customers", [failed for _, failed in CUSTOMER_CASES])
