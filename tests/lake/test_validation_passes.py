"""Validation at scale: a fixed number of Spark jobs whatever the number of rules, and every one
of 1M rows (5% bad) in exactly one of silver or quarantine."""

from __future__ import annotations

from datetime import date

import pytest

from lake.quality.validate import evaluate
from tests.lake.conftest import contract, drop_tables, ndjson, zone
from tests.lake.scale_data import COLUMNS, known_customers
from tests.lake.scale_data import bronze_rows as _bronze

ROWS = 1_000_000


def _known(spark):
    return {"big_customers": known_customers(spark)}


def _contract(name: str, extra_rules: int = 0):
    custom = [{"name": f"extra_{i}", "expr": f"qty + {i} > 0", "severity": "warn"}
              for i in range(extra_rules)]
    return contract(name, COLUMNS, keys=["id"], custom_rules=custom,
                    references=[{"column": "customer", "dataset": "big_customers",
                                 "key": "customer"}])


def _jobs_of(spark, tag: str, fn):
    sc = spark.sparkContext
    sc.setJobGroup(tag, tag)
    try:
        result = fn()
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
    return result, len(sc.statusTracker().getJobIdsForGroup(tag))


def test_validation_jobs_do_not_grow_with_the_number_of_rules(spark, tmp_path):
    batch = _bronze(spark, 20_000).persist()
    batch.count()
    jobs = {}
    for extra in (0, 30):
        c = _contract("passes", extra)
        checked, jobs[extra] = _jobs_of(spark, f"rules-{extra}", lambda c=c: evaluate(
            c, c.environment, batch, _known(spark), gx_root=tmp_path / "gx", label="passes"))
        checked.flagged.unpersist()
        assert len(checked.active) == 13 + extra
    batch.unpersist()
    # 13 here: flagging + counting reads the batch once (6 jobs: adaptive execution runs the
    # window's shuffle, the reference keys' broadcast and the aggregation as jobs of their own),
    # value counts (3), Great Expectations' bundled metrics (4); none per rule
    assert jobs[0] == jobs[30] <= 14, jobs


@pytest.mark.slow
@pytest.mark.parametrize("rows", [ROWS])
def test_a_million_rows_five_percent_bad_nothing_lost(spark, mini_lake, rows):
    from lake.platform.delta import write_batch

    name = "big_orders"
    c = _contract(name)
    drop_tables(spark, name, "big_customers", source=c.source)
    customers = contract("big_customers", [{"name": "customer", "type": "string"}],
                         source=c.source)
    contracts = {name: c, "big_customers": customers}
    day = date(2026, 6, 1)
    # the day's delivery: the customers the orders reference and one clean order, landed and
    # ingested; then the batch's bronze orders are the million generated rows (typing a million
    # NDJSON lines is bronze's job, not what this test measures)
    mini_lake.land(customers, day, ndjson(*(r.asDict() for r in known_customers(spark).collect())))
    mini_lake.land(c, day, ndjson({"id": "o1", "customer": "c1", "qty": 2, "amount": 1.5,
                                   "pay": "card"}))
    mini_lake.ingest(contracts, day)
    batch_id = mini_lake.batch_id(c, day)
    bronze = zone(name, "bronze", source=c.source)
    assert write_batch(_bronze(spark, rows, batch_id), bronze, batch_id, force=True).rows == rows
    results = mini_lake.validate(contracts, day)
    r = results[name]
    assert r.counts.rows_in == rows
    assert r.counts.rows_quarantined == rows // 20
    assert r.counts.rows_valid == rows - rows // 20
    silver = spark.table(zone(name, "silver", source=c.source)).count()
    quarantined = spark.table(zone(name, "quarantine", source=c.source)).count()
    assert (silver, quarantined) == (r.counts.rows_valid, r.counts.rows_quarantined)
    per_fault = rows // 100
    assert {k: v for k, v in r.counts.by_rule.items() if v} == {
        "not_null:id": per_fault, "reference:customer->big_customers": per_fault,
        "range:qty": per_fault, "range:amount": per_fault, "accepted_values:pay": per_fault}
    assert results["big_customers"].counts.rows_valid == 1000
