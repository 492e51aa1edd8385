"""Quarantine replay: after a data fix or a contract fix, passing rows move to silver exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from lake.quality.replay import replay_quarantine
from tests.lake.conftest import contract, drop_tables, ndjson, zone

DAY1, DAY2 = date(2026, 5, 1), date(2026, 5, 2)
BATCH1 = "20260501-001"
SOURCE, CUSTOMERS, ORDERS = "t_rp", "rp_customers", "rp_orders"
SILVER, QUARANTINE = zone(ORDERS, "silver", source=SOURCE), zone(ORDERS, "quarantine", source=SOURCE)
ORDER_COLUMNS = [{"name": "order_id", "type": "string", "nullable": False},
                 {"name": "customer_id", "type": "string", "nullable": False},
                 {"name": "amount", "type": "double", "nullable": False, "min": 0}]


def _contracts(**order_extra):
    customers = contract(CUSTOMERS, [{"name": "customer_id", "type": "string",
                                      "nullable": False}], source=SOURCE,
                         keys=["customer_id"])
    orders = contract(ORDERS, ORDER_COLUMNS, source=SOURCE, keys=["order_id"],
                      references=[{"column": "customer_id", "dataset": CUSTOMERS,
                                   "key": "customer_id"}], **order_extra)
    return {CUSTOMERS: customers, ORDERS: orders}


def _state(spark):
    versions = {t: spark.sql(f"DESCRIBE HISTORY {t}").first()["version"]
                for t in (SILVER, QUARANTINE)}
    counts = spark.table("meta.batch_counts").where(
        f"source = '{SOURCE}' AND dataset = '{ORDERS}' AND _batch_id = '{BATCH1}'").first()
    return versions, (counts["rows_in"], counts["rows_valid"], counts["rows_quarantined"])


def _replay(spark, source):
    return replay_quarantine(spark, contracts=source.contracts, dataset=ORDERS, batch_id=BATCH1,
                             replayed_at=datetime(2026, 5, 3, tzinfo=UTC))


def test_replay_moves_rows_that_now_pass_exactly_once(spark, mini_lake):
    drop_tables(spark, CUSTOMERS, ORDERS, source=SOURCE)
    contracts = _contracts()
    orders = [{"order_id": "o1", "customer_id": "c1", "amount": 5.0},
              {"order_id": "o2", "customer_id": "c2", "amount": 7.0},   # customer not known yet
              {"order_id": "o3", "customer_id": "c1", "amount": -1.0},  # negative amount
              {"order_id": "o1", "customer_id": "c1", "amount": 5.0}]   # exact copy of o1
    mini_lake.land(contracts[CUSTOMERS], DAY1, ndjson({"customer_id": "c1"}))
    mini_lake.land(contracts[ORDERS], DAY1, ndjson(*orders))
    mini_lake.ingest(contracts, DAY1)
    first = mini_lake.validate(contracts, DAY1)[ORDERS]
    assert (first.counts.rows_valid, first.counts.rows_quarantined) == (1, 3)

    # nothing has changed yet: a replay moves nothing and commits nothing
    before = _state(spark)
    nothing = _replay(spark, mini_lake.source(contracts))
    assert (nothing.candidates, nothing.moved) == (3, 0)
    assert nothing.still_failing == {f"reference:customer_id->{CUSTOMERS}": 1, "range:amount": 1,
                                     "duplicate": 1}
    assert _state(spark) == before

    # data fix: customer c2 arrives the next day (a late-arriving dimension)
    mini_lake.land(contracts[CUSTOMERS], DAY2, ndjson({"customer_id": "c1"}, {"customer_id": "c2"}))
    mini_lake.land(contracts[ORDERS], DAY2, ndjson({"order_id": "o9", "customer_id": "c2",
                                                   "amount": 1.0}))
    mini_lake.ingest(contracts, DAY2)
    mini_lake.validate(contracts, DAY2)
    moved = _replay(spark, mini_lake.source(contracts))
    assert (moved.moved, moved.moved_by_batch) == (1, {BATCH1: 1})
    assert moved.still_failing == {"range:amount": 1, "duplicate": 1}
    silver = spark.table(SILVER).where(f"_batch_id = '{BATCH1}'")
    assert sorted(r["order_id"] for r in silver.collect()) == ["o1", "o2"]
    quarantined = spark.table(QUARANTINE).where(f"_batch_id = '{BATCH1}'")
    assert sorted(r["order_id"] for r in quarantined.collect()) == ["o1", "o3"]
    after = _state(spark)
    assert after[1] == (4, 2, 2)  # conservation, recounted from the tables

    # replaying twice changes nothing
    again = _replay(spark, mini_lake.source(contracts))
    assert again.moved == 0
    assert _state(spark) == after

    # contract fix: negative amounts become a warning (a new version of the contract file); o3
    # moves, the copy stays
    fixed = mini_lake.source(_contracts(version=2, rules={"range:amount": {"severity": "warn"}}))
    moved = _replay(spark, fixed)
    assert (moved.contract_version, moved.moved) == (2, 1)
    assert moved.still_failing == {"duplicate": 1}
    assert _state(spark)[1] == (4, 3, 1)
    assert _replay(spark, fixed).moved == 0
    ids = [r["_record_id"] for r in spark.table(SILVER).collect()]
    assert len(ids) == len(set(ids)), "no row reached silver twice"
