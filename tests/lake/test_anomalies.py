"""Anomaly detection: every anomaly type from profiles, counts and schema changes (pure)."""

from __future__ import annotations

import math

import pytest

from lake.contracts.reading import parse_contract
from lake.contracts.rules.registry import rules
from lake.quality.anomalies import ANOMALY_TYPES, detect, jensen_shannon, l_infinity
from lake.quality.profile import ColumnProfile, Profile

CONTRACT = parse_contract({
    "dataset": "orders", "environments": ["TRAINING", "SERVING"], "min_rows": 100,
    "columns": [
        {"name": "id", "type": "string", "nullable": False},
        {"name": "amount", "type": "double", "min": 0, "max": 100, "drift": 0.1},
        {"name": "pay", "type": "string", "accepted_values": ["card", "cash"], "drift": 0.2},
        {"name": "city", "type": "string", "max_null_fraction": 0.1},
        {"name": "label", "type": "boolean", "environments": ["TRAINING"]},
    ],
}, "test", source="t")


def _profile(rows=200, *, pay=None, hist=None, on_previous=None, city_nulls=0, amount=(0, 90)):
    return Profile(rows, {
        "id": ColumnProfile("id", "string"),
        "amount": ColumnProfile("amount", "double", min=amount[0], max=amount[1],
                                cuts=[10.0, 50.0], hist=hist or [50, 100, 50],
                                hist_on_previous=on_previous or []),
        "pay": ColumnProfile("pay", "string", values=pay or {"card": 150, "cash": 50}),
        "city": ColumnProfile("city", "string", nulls=city_nulls),
    })


def _types(found):
    return [(a.type, a.column, a.severity) for a in found]


def test_a_clean_batch_like_the_previous_one_has_no_anomalies():
    active = rules(CONTRACT, "TRAINING")
    now = _profile(on_previous=[50, 100, 50])
    assert detect(CONTRACT, "TRAINING", active, {}, now, _profile(), []) == []


def test_schema_changes_become_anomalies_with_their_severity():
    changes = [
        {"kind": "new_column", "column": "channel", "contract_type": None,
         "observed_type": "string", "accepted": True},
        {"kind": "new_column", "column": "coupon", "contract_type": None,
         "observed_type": "string", "accepted": False},
        {"kind": "missing_column", "column": "label", "contract_type": "boolean",
         "observed_type": None, "accepted": False},
        {"kind": "widened", "column": "n", "contract_type": "int", "observed_type": "bigint",
         "accepted": True},
        {"kind": "incompatible", "column": "amount", "contract_type": "double",
         "observed_type": "boolean", "accepted": False},
    ]
    found = detect(CONTRACT, "TRAINING", rules(CONTRACT), {}, _profile(), None, changes)
    assert _types(found) == [
        ("new_column", "channel", "warning"), ("new_column", "coupon", "error"),
        ("missing_column", "label", "error"), ("type_mismatch", "n", "warning"),
        ("type_mismatch", "amount", "error")]
    assert found[3].description == ("column n: contract int, landed bigint (widened) (accepted: "
                                    "new contract version)")


def test_values_outside_the_contract_are_reported_with_what_was_seen():
    by_rule = {"accepted_values:pay": 7, "range:amount": 3, "type:amount": 2}
    now = _profile(pay={"card": 150, "cash": 43, "bitcoin": 5, "gold": 2}, amount=(-4.0, 120.5))
    found = detect(CONTRACT, "TRAINING", rules(CONTRACT), by_rule, now, None, [])
    assert _types(found) == [("type_mismatch", "amount", "error"),
                             ("out_of_range", "amount", "error"),
                             ("unexpected_values", "pay", "error")]
    unexpected = found[2]
    assert unexpected.details["values"] == {"bitcoin": 5, "gold": 2}
    assert unexpected.details["rows"] == 7
    assert found[1].details == {"rows": 3, "fraction": 0.015, "min": 0.0, "max": 100.0,
                                "observed_min": -4.0, "observed_max": 120.5}


def test_null_fraction_and_low_row_count():
    found = detect(CONTRACT, "TRAINING", rules(CONTRACT), {}, _profile(rows=80, city_nulls=20),
                   None, [])
    assert _types(found) == [("null_fraction", "city", "error"), ("low_row_count", None, "error")]
    assert found[0].details == {"null_fraction": 0.25, "max_null_fraction": 0.1}


def test_drift_against_the_previous_batch():
    previous = _profile(pay={"card": 150, "cash": 50})
    now = _profile(pay={"card": 60, "cash": 140}, on_previous=[10, 40, 150])
    found = detect(CONTRACT, "TRAINING", rules(CONTRACT), {}, now, previous, [])
    assert _types(found) == [("drift", "amount", "error"), ("drift", "pay", "error")]
    assert found[1].details["metric"] == "l_infinity"
    assert found[1].details["value"] == pytest.approx(0.45)
    assert found[0].details["metric"] == "jensen_shannon"
    assert found[0].details["value"] == pytest.approx(jensen_shannon([50, 100, 50], [10, 40, 150]),
                                                      abs=1e-6)


def test_every_anomaly_type_is_covered_above():
    assert set(ANOMALY_TYPES) == {"new_column", "missing_column", "type_mismatch",
                                  "unexpected_values", "out_of_range", "null_fraction",
                                  "low_row_count", "drift"}


def test_distance_measures():
    assert l_infinity({"a": 1, "b": 1}, {"a": 1, "b": 1}) == 0
    assert l_infinity({"a": 10}, {"b": 3}) == 1
    assert jensen_shannon([1, 0], [0, 1]) == pytest.approx(1.0)
    assert jensen_shannon([5, 5], [10, 10]) == 0
    # P = (0.5, 0.5), Q = (1, 0): JS = 1 - (3/4) log2(4/3) ... computed by hand
    expected = 0.5 * (0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)) + \
        0.5 * (1.0 * math.log2(1 / 0.75))
    assert jensen_shannon([1, 1], [2, 0]) == pytest.approx(expected)
