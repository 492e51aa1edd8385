"""Great Expectations on Spark: true counts per rule, success flags, and the Data Docs site.

GX on Spark costs seconds per validation, so one module fixture validates two batches (a dirty one,
then a clean one) into the same GX project and the tests read what those runs left behind.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

import pytest
from pyspark import StorageLevel

from lake.errors import LakehouseError
from lake.quality.expectations import (
    ExpectationOutcome,
    ExpectationSpec,
    SuiteResult,
    validate_dataframe,
)

SUITE = "bronze.orders"
DIRTY_LABEL = "orders 2026-01-03"
CLEAN_LABEL = "orders 2026-01-04"
SCHEMA = "order_id long, customer_id long, status string, amount double, region string, line int"
STATUSES = ("new", "paid", "shipped")

SPECS = (
    ExpectationSpec("not_null", column="order_id"),
    ExpectationSpec("not_null", column="customer_id"),
    ExpectationSpec("between", column="amount", min_value=0, max_value=100),
    ExpectationSpec("in_set", column="status", value_set=STATUSES),
    ExpectationSpec("not_in_set", column="status", value_set=("test",), rule="no_test_orders"),
    ExpectationSpec("unique", column="order_id"),
    ExpectationSpec("compound_unique", columns=("region", "line")),
)


def make_rows(*, dirty: bool) -> list[tuple]:
    """40 orders; ``dirty`` plants nulls, out-of-range, unknown and duplicate values."""
    rows = []
    for i in range(40):
        order_id = 38 if dirty and i == 39 else i  # 38 twice
        customer_id = None if dirty and i % 10 == 3 else 1000 + i  # 4 nulls
        status = STATUSES[i % 3]
        if dirty and i in (5, 17):
            status = "lost"  # not in the set
        if dirty and i == 30:
            status = "test"  # not in the set, and in the forbidden set
        if dirty and i == 8:
            status = None  # null: skipped by in_set / not_in_set
        amount = float(i * 3 if dirty else i * 2)  # 0 and 78 stay in range
        if dirty and i == 1:
            amount = -5.0
        if dirty and i == 36:
            amount = None  # null: skipped by between, even though 108 would be out
        region = "north" if i % 2 == 0 else "south"
        if dirty and i == 39:
            region = "north"  # (north, 19) twice with row 38
        rows.append((order_id, customer_id, status, amount, region, i // 2))
    return rows


def true_unexpected_counts(rows: list[tuple]) -> dict[str, int]:
    """What each rule should count, worked out in plain Python (nulls skipped except not_null)."""
    order_ids = [r[0] for r in rows]
    statuses = [r[2] for r in rows if r[2] is not None]
    amounts = [r[3] for r in rows if r[3] is not None]
    keys = Counter((r[4], r[5]) for r in rows)
    return {
        "not_null:order_id": sum(v is None for v in order_ids),
        "not_null:customer_id": sum(r[1] is None for r in rows),
        "between:amount": sum(not 0 <= a <= 100 for a in amounts),
        "in_set:status": sum(s not in STATUSES for s in statuses),
        "no_test_orders": sum(s == "test" for s in statuses),
        # every row that shares its value counts, not only the second copy
        "unique:order_id": sum(n for n in Counter(order_ids).values() if n > 1),
        "compound_unique:region,line": sum(n for n in keys.values() if n > 1),
    }


@dataclass(frozen=True)
class Runs:
    dirty: SuiteResult
    clean: SuiteResult
    dirty_storage: StorageLevel
    clean_storage: StorageLevel


@pytest.fixture(scope="module")
def gx_root(tmp_path_factory):
    return tmp_path_factory.mktemp("gx")


@pytest.fixture(scope="module")
def runs(spark, gx_root) -> Runs:
    dirty_df = spark.createDataFrame(make_rows(dirty=True), SCHEMA)
    clean_df = spark.createDataFrame(make_rows(dirty=False), SCHEMA).cache()
    try:
        dirty = validate_dataframe(
            dirty_df, suite_name=SUITE, specs=SPECS, gx_root=gx_root, batch_label=DIRTY_LABEL
        )
        clean = validate_dataframe(
            clean_df, suite_name=SUITE, specs=SPECS, gx_root=gx_root, batch_label=CLEAN_LABEL
        )
        return Runs(dirty, clean, dirty_df.storageLevel, clean_df.storageLevel)
    finally:
        clean_df.unpersist()


def by_rule(result: SuiteResult) -> dict[str, ExpectationOutcome]:
    return {o.rule: o for o in result.outcomes}


def test_planted_defects_are_what_the_test_expects():
    assert true_unexpected_counts(make_rows(dirty=True)) == {
        "not_null:order_id": 0,
        "not_null:customer_id": 4,
        "between:amount": 6,
        "in_set:status": 3,
        "no_test_orders": 1,
        "unique:order_id": 2,
        "compound_unique:region,line": 2,
    }
    assert set(true_unexpected_counts(make_rows(dirty=False)).values()) == {0}


def test_every_rule_counts_exactly_the_bad_rows(runs):
    expected = true_unexpected_counts(make_rows(dirty=True))
    actual = {o.rule: o.unexpected_count for o in runs.dirty.outcomes}
    assert actual == expected
    assert {o.element_count for o in runs.dirty.outcomes} == {40}


def test_outcomes_follow_spec_order_with_rule_names_and_gx_types(runs):
    assert [o.rule for o in runs.dirty.outcomes] == [s.rule for s in SPECS]
    assert [(o.expectation, o.column) for o in runs.dirty.outcomes] == [
        ("expect_column_values_to_not_be_null", "order_id"),
        ("expect_column_values_to_not_be_null", "customer_id"),
        ("expect_column_values_to_be_between", "amount"),
        ("expect_column_values_to_be_in_set", "status"),
        ("expect_column_values_to_not_be_in_set", "status"),
        ("expect_column_values_to_be_unique", "order_id"),
        ("expect_compound_columns_to_be_unique", None),
    ]


def test_success_flags_follow_the_counts(runs):
    assert runs.dirty.success is False
    assert {o.rule for o in runs.dirty.failed} == set(by_rule(runs.dirty)) - {"not_null:order_id"}
    assert by_rule(runs.dirty)["not_null:order_id"].success is True
    assert runs.clean.success is True
    assert runs.clean.failed == ()
    assert {o.unexpected_count for o in runs.clean.outcomes} == {0}


def test_unexpected_percent_is_relative_to_non_null_values(runs):
    outcomes = by_rule(runs.dirty)
    assert outcomes["not_null:customer_id"].unexpected_percent == pytest.approx(100 * 4 / 40)
    assert outcomes["between:amount"].unexpected_percent == pytest.approx(100 * 6 / 39)
    assert outcomes["in_set:status"].unexpected_percent == pytest.approx(100 * 3 / 39)


def test_data_docs_index_lists_the_suite_and_both_batches(runs, gx_root):
    index = runs.clean.data_docs_index
    assert index == gx_root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert runs.dirty.data_docs_index == index
    html = index.read_text()
    assert SUITE in html
    assert DIRTY_LABEL in html and CLEAN_LABEL in html
    pages = index.parent / "validations" / "bronze" / "orders"
    assert sorted(p.name for p in pages.iterdir()) == [DIRTY_LABEL, CLEAN_LABEL]


def test_validation_leaves_the_dataframe_cached_only_if_it_was(runs):
    assert runs.dirty_storage == StorageLevel.NONE
    assert runs.clean_storage != StorageLevel.NONE


def test_a_new_suite_joins_the_same_project(runs, spark, gx_root):
    df = spark.createDataFrame(make_rows(dirty=False), SCHEMA).select("order_id")
    result = validate_dataframe(
        df,
        suite_name="silver.orders",
        specs=[ExpectationSpec("unique", column="order_id")],
        gx_root=gx_root,
        batch_label="orders 2026-01-04",
    )
    assert result.success is True
    assert [(o.rule, o.unexpected_count) for o in result.outcomes] == [("unique:order_id", 0)]
    html = result.data_docs_index.read_text()
    assert "silver.orders" in html and SUITE in html


def test_gx_import_leaves_warnings_out_of_logging(runs):
    # importing GX calls logging.captureWarnings(True), which would route every later warning of
    # the process to the "py.warnings" logger; logging keeps that switch in a private global
    assert logging._warnings_showwarning is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "unknown", "column": "a"}, "kind='unknown' is not supported"),
        ({"kind": "not_null"}, "kind='not_null' needs column="),
        ({"kind": "compound_unique", "columns": ("a",)}, "naming at least two columns"),
        ({"kind": "between", "column": "a"}, "between:a needs min_value"),
        ({"kind": "in_set", "column": "a"}, "in_set:a needs a non-empty value_set"),
    ],
)
def test_bad_specs_are_refused_at_construction(kwargs, message):
    with pytest.raises(LakehouseError, match=message):
        ExpectationSpec(**kwargs)


def test_rule_names_default_to_kind_and_columns():
    assert ExpectationSpec("between", column="a", max_value=1).rule == "between:a"
    assert ExpectationSpec("compound_unique", columns=["a", "b"]).rule == "compound_unique:a,b"
    assert ExpectationSpec("in_set", column="a", value_set=["x"]).value_set == ("x",)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"batch_label": "orders/2026-01-03"}, "batch_label='orders/2026-01-03' must not contain"),
        ({"suite_name": " "}, "needs a non-empty suite_name"),
        ({"specs": []}, "needs at least one ExpectationSpec"),
        ({"specs": [ExpectationSpec("unique", column="a")] * 2}, "name rule 'unique:a' twice"),
        ({"specs": [ExpectationSpec("unique", column="nope")]}, "names column 'nope'"),
        ({"df": [(1,)]}, "needs a Spark DataFrame for t, got list"),
    ],
)
def test_bad_arguments_are_refused_before_gx_runs(spark, tmp_path, overrides, message):
    arguments = {
        "df": spark.createDataFrame([(1,)], "a long"),
        "suite_name": "t",
        "specs": [ExpectationSpec("unique", column="a")],
        "gx_root": tmp_path,
        "batch_label": "b",
    }
    arguments.update(overrides)
    df = arguments.pop("df")
    with pytest.raises(LakehouseError, match=message):
        validate_dataframe(df, **arguments)
    assert not (tmp_path / "gx").exists()


def test_gx_failures_are_wrapped_with_the_suite_name(spark, tmp_path):
    not_a_folder = tmp_path / "gx_root"
    not_a_folder.write_text("")
    with pytest.raises(LakehouseError, match="Great Expectations could not validate t: ") as info:
        validate_dataframe(
            spark.createDataFrame([(1,)], "a long"),
            suite_name="t",
            specs=[ExpectationSpec("unique", column="a")],
            gx_root=not_a_folder,
            batch_label="b",
        )
    assert info.value.__cause__ is not None
