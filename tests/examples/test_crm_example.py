"""The crm example end to end, in-process, for three days: the generator writes the CRM's day
into a real PostgreSQL (inserts, updates, a soft delete) and the day's usage file (a late event,
an event of an account the CRM has not delivered yet, a dirty line); the platform lands both
sources (JDBC, files), types, validates and loads ``dim_account`` and ``fact_usage``. Then the
same three days run again and change nothing.

The expected tables are rebuilt here from what the generator put in: the PostgreSQL rows read
back after each day and the usage files, not from the generator's plan.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from examples.crm.generator.database import apply_day, conninfo
from examples.crm.generator.history import EPOCH
from examples.crm.generator.usage import write_usage
from lake.platform.meta_tables import TABLES as META_TABLES
from tests.examples.lakes import EXAMPLES, MODEL_LOADS, ExampleLake, claim, days, release

pytestmark = pytest.mark.slow

SOURCES = ("crm", "usage")
MODELS = ("dim_account", "fact_usage", "usage_by_plan")
DAYS = days(EPOCH, 3)
TRACKED = ("name", "email", "plan_id", "seats")
INFERRED_FROM = datetime(1900, 1, 1)
Key = tuple[str, int]


def naive_utc(value: datetime | None) -> datetime | None:
    """A moment as Spark hands it to this (TZ=UTC) process: naive UTC."""
    return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None


def accounts_in(url: str) -> dict[Key, dict]:
    with psycopg.connect(conninfo(url)) as conn:
        cursor = conn.execute("SELECT region, account_no, name, email, plan_id, seats, "
                              "updated_at, deleted_at FROM crm.accounts")
        names = [c.name for c in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    for row in rows:
        row["updated_at"], row["deleted_at"] = (naive_utc(row["updated_at"]),
                                                naive_utc(row["deleted_at"]))
    return {(r["region"], r["account_no"]): r for r in rows}


def orders_in(url: str) -> dict[int, datetime]:
    with psycopg.connect(conninfo(url)) as conn:
        return dict(conn.execute("SELECT order_id, ordered_at FROM crm.orders").fetchall())


def read_events(path: Path) -> list[dict]:
    events = [json.loads(line) for line in path.read_text().splitlines()]
    for e in events:
        e["event_ts"] = datetime.strptime(e["event_ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
    return events


@dataclass
class Run:
    lake: ExampleLake
    accounts: dict[date, dict[Key, dict]]  # crm.accounts after each day
    orders: dict[date, dict[int, datetime]]  # crm.orders after each day
    events: dict[date, list[dict]]  # the lines of each day's usage file
    batches: dict[str, list[str]]  # source -> committed batch ids
    versions: dict[str, int | None]  # every table's Delta version after the three days
    rerun_batches: dict[str, list[str]]
    rerun_versions: dict[str, int | None]


@pytest.fixture(scope="module")
def run(spark, session_settings, postgresql, tmp_path_factory):
    claim(spark, SOURCES, MODELS)
    folder = tmp_path_factory.mktemp("crm_example")
    url = postgresql.create_database(f"crm_example_{uuid.uuid4().hex[:8]}")
    lake = ExampleLake.create(spark, session_settings, EXAMPLES / "crm", folder,
                              {"crm": conninfo(url)})
    accounts, orders, events = {}, {}, {}

    def run_days():
        for day in DAYS:
            apply_day(url, day)
            accounts.setdefault(day, accounts_in(url))
            orders.setdefault(day, orders_in(url))
            events[day] = read_events(write_usage(lake.source_root("usage") / f"ds={day}", day))
            lake.run_source("crm", day)
            lake.run_source("usage", day)
            lake.load_warehouse(day)

    def state():
        tables = [*lake.tables(SOURCES), "warehouse.dim_account", "warehouse.fact_usage",
                  *META_TABLES, MODEL_LOADS]
        batches = {s: [b.batch_id for b in lake.batches(s)] for s in SOURCES}
        return batches, lake.versions(tables)

    run_days()
    batches, versions = state()
    run_days()
    rerun_batches, rerun_versions = state()
    yield Run(lake, accounts, orders, events, batches, versions, rerun_batches, rerun_versions)
    release(spark, SOURCES, MODELS)


def changed(run: Run, day: date) -> dict[Key, dict]:
    """The accounts rows whose updated_at moved on ``day``: what its extract must hold."""
    before = run.accounts.get(date.fromordinal(day.toordinal() - 1), {})
    return {k: r for k, r in run.accounts[day].items()
            if k not in before or before[k]["updated_at"] != r["updated_at"]}


def valid_events(run: Run, day: date) -> list[dict]:
    return [e for e in run.events[day] if e["quantity"] >= 0]


def expected_dimension(run: Run) -> dict[Key, list[dict]]:
    """dim_account's versions: each day its changes in time order (a new version at updated_at,
    a soft delete closing the last one), then the inferred members of the day's facts."""
    dim: dict[Key, list[dict]] = {}
    for day in DAYS:
        for key, row in sorted(changed(run, day).items(), key=lambda kr: kr[1]["updated_at"]):
            versions = dim.setdefault(key, [])
            current = versions[-1] if versions and versions[-1]["valid_to"] is None else None
            values = {c: row[c] for c in TRACKED}
            at, deleted = row["updated_at"], row["deleted_at"] is not None
            if current is not None and current["is_inferred"]:
                current.update(values, is_inferred=False, is_deleted=deleted,
                               valid_to=at if deleted else None)
            elif deleted:
                if current is not None:
                    current["valid_to"] = at
            elif current is None or any(current[c] != values[c] for c in TRACKED):
                if current is not None:
                    current["valid_to"] = at
                versions.append({**values, "valid_from": at, "valid_to": None,
                                 "is_deleted": False, "is_inferred": False})
        for event in valid_events(run, day):
            key = (event["region"], event["account_no"])
            if key not in dim:
                dim[key] = [{**dict.fromkeys(TRACKED), "valid_from": INFERRED_FROM,
                             "valid_to": None, "is_deleted": False, "is_inferred": True}]
    return dim


def version_at(versions: list[dict], moment: datetime) -> dict:
    """The version valid at ``moment`` (before the first: the first; after the last: the last)."""
    for v in versions:
        if v["valid_from"] <= moment and (v["valid_to"] is None or moment < v["valid_to"]):
            return v
    return versions[0] if moment < versions[0]["valid_from"] else versions[-1]


def test_each_extract_holds_exactly_the_rows_changed_since_the_last(run, spark):
    batch_of_day = {b[:8]: b for b in run.batches["crm"]}
    assert sorted(batch_of_day) == [f"{d:%Y%m%d}" for d in DAYS]
    silver = spark.table("crm_silver.accounts")
    for day in DAYS:
        got = silver.where(f"_batch_id = '{batch_of_day[f'{day:%Y%m%d}']}'").select(
            "region", "account_no", "updated_at", "deleted_at").collect()
        assert sorted(tuple(r) for r in got) == sorted(
            (r["region"], r["account_no"], r["updated_at"], r["deleted_at"])
            for r in changed(run, day).values())
    every = silver.select("region", "account_no", "updated_at").collect()
    assert len(every) == len(set(every)) == sum(len(changed(run, d)) for d in DAYS)
    assert any(r["deleted_at"] is not None for d in DAYS for r in changed(run, d).values())

    orders = {r["order_id"]: (r["ordered_at"], r["_batch_id"][:8])
              for r in spark.table("crm_silver.orders").collect()}
    placed = {i: (t, f"{d:%Y%m%d}") for d in DAYS for i, t in run.orders[d].items()
              if i not in run.orders.get(date.fromordinal(d.toordinal() - 1), {})}
    assert orders == placed  # ordered_at is a timestamp without time zone: wall clock kept
    plans = spark.table("crm_silver.plans").select("_batch_id", "plan_id", "monthly_fee")
    assert sorted({r["_batch_id"][:8] for r in plans.collect()}) == ["20260101", "20260103"]
    assert plans.where("plan_id = 'team'").orderBy("_batch_id").select(
        "monthly_fee").collect() == [Row(monthly_fee=99), Row(monthly_fee=109)]


def test_dim_account_is_the_history_of_the_changes(run, spark):
    expected = [Row(region=k[0], account_no=k[1], **{c: v[c] for c in TRACKED},
                    valid_from=v["valid_from"], valid_to=v["valid_to"],
                    is_current=v["valid_to"] is None, is_deleted=v["is_deleted"],
                    is_inferred=v["is_inferred"])
                for k, versions in expected_dimension(run).items() for v in versions]
    actual = spark.table("warehouse.dim_account").select(
        "region", "account_no", *TRACKED, "valid_from", "valid_to", "is_current", "is_deleted",
        "is_inferred")
    assertDataFrameEqual(actual, expected)
    # the example has what it promises: a closed (deleted) account, a changed one, a filled
    # inferred member and one still waiting for the CRM
    assert any(not v["is_inferred"] and v["valid_to"] is not None and v is vs[-1]
               for vs in expected_dimension(run).values() for v in vs)
    assert any(len(vs) > 1 for vs in expected_dimension(run).values())
    starts = [(vs[0]["valid_from"], vs[0]["is_inferred"]) for vs in expected_dimension(run).values()]
    assert (INFERRED_FROM, False) in starts and (INFERRED_FROM, True) in starts


def test_fact_usage_is_keyed_to_the_version_valid_at_event_time(run, spark):
    dim = expected_dimension(run)
    expected = []
    for day in DAYS:
        for e in valid_events(run, day):
            version = version_at(dim[(e["region"], e["account_no"])], e["event_ts"])
            expected.append(Row(event_id=e["event_id"], event_ts=e["event_ts"],
                                event_date=e["event_ts"].date(), region=e["region"],
                                account_no=e["account_no"], metric=e["metric"],
                                quantity=e["quantity"], version_from=version["valid_from"]))
    actual = spark.sql(
        "SELECT f.event_id, f.event_ts, f.event_date, f.region, f.account_no, f.metric, "
        "f.quantity, d.valid_from AS version_from FROM warehouse.fact_usage AS f "
        "LEFT JOIN warehouse.dim_account AS d ON f.account_sk = d.account_sk")
    assertDataFrameEqual(actual, expected)
    late = {e["event_id"]: day for day in DAYS for e in run.events[day] if "L" in e["event_id"]}
    assert len(late) == 2
    for row in (r for r in expected if r["event_id"] in late):
        assert row["event_date"] < late[row["event_id"]]  # delivered days after it happened
        versions = dim[(row["region"], row["account_no"])]
        assert row["version_from"] != versions[-1]["valid_from"]  # a version left since


def test_the_dirty_lines_are_quarantined_not_lost(run, spark):
    dirty = sorted(e["event_id"] for d in DAYS for e in run.events[d] if e["quantity"] < 0)
    assert len(dirty) == len(DAYS)
    quarantined = spark.table("usage_quarantine.events").select("event_id", "_failed_rules")
    assert sorted(r["event_id"] for r in quarantined.collect()) == dirty
    counts = spark.sql("SELECT sum(rows_in) AS i, sum(rows_valid) AS v, sum(rows_quarantined) "
                       "AS q FROM meta.batch_counts WHERE source = 'usage'").first()
    assert (counts["i"], counts["v"], counts["q"]) == (
        sum(len(run.events[d]) for d in DAYS), sum(len(valid_events(run, d)) for d in DAYS),
        len(dirty))


def test_usage_by_plan_adds_up_to_the_fact(run, spark):
    by_plan = spark.sql("SELECT sum(quantity) AS q, sum(events) AS n FROM warehouse.usage_by_plan"
                        ).first()
    assert (by_plan["q"], by_plan["n"]) == (
        sum(e["quantity"] for d in DAYS for e in valid_events(run, d)),
        sum(len(valid_events(run, d)) for d in DAYS))


def test_running_the_same_days_again_changes_no_table(run):
    assert run.rerun_batches == run.batches
    assert all(v is not None for v in run.versions.values()), run.versions
    assert run.rerun_versions == run.versions
