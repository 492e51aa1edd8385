"""Bronze observes a batch's schema on a sample of its first records and checks that verdict on
every record while writing it: a change inside the sample is reported, one past it is found by
the check, and every value that does not fit is rescued wherever it is."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pyspark.sql import functions as F

from lake.ingest import observed_schema
from lake.ingest.records import PATTERNS, typed_value
from lake.platform.meta_tables import SCHEMA_OBSERVATIONS
from tests.lake.conftest import contract, drop_tables, ndjson, zone

DAY = date(2026, 4, 1)
SAMPLE = 20
COLUMNS = [{"name": "id", "type": "string", "nullable": False}, {"name": "qty", "type": "int"}]


@pytest.fixture(autouse=True)
def small_sample(monkeypatch):
    monkeypatch.setattr(observed_schema, "SAMPLE_ROWS", SAMPLE)


def _csv(quantities: list[str]) -> str:
    return "id,qty\n" + "".join(f"r{i},{q}\n" for i, q in enumerate(quantities))


def _changes(spark, source: str) -> list[tuple]:
    (row,) = spark.table(SCHEMA_OBSERVATIONS).where(F.col("source") == source).collect()
    return [(c["kind"], c["column"], c["observed_type"], c["accepted"]) for c in row["changes"]]


def _rows(spark, name: str) -> dict[str, tuple]:
    return {r["id"]: (r["qty"], r["_rescued_data"] and json.loads(r["_rescued_data"]))
            for r in spark.table(zone(name, "bronze")).collect()}


def test_a_misfit_past_the_sample_is_rescued_and_changes_no_type(spark, mini_lake):
    name = "smp_dirt"
    drop_tables(spark, name)
    c = contract(name, COLUMNS, evolution="rescue")
    quantities = [str(i) for i in range(100)]
    quantities[90] = "ninety"
    mini_lake.land(c, DAY, _csv(quantities), fmt="csv")
    mini_lake.ingest({name: c}, DAY)
    rows = _rows(spark, name)
    assert len(rows) == 100
    assert rows["r90"] == (None, {"qty": "ninety"})
    assert rows["r89"] == (89, None)
    assert _changes(spark, c.source) == []


def test_a_type_change_in_the_sample_is_reported_and_every_value_rescued(spark, mini_lake):
    name = "smp_in"
    drop_tables(spark, name)
    c = contract(name, COLUMNS, evolution="rescue")
    mini_lake.land(c, DAY, _csv([f"{i}.5" for i in range(100)]), fmt="csv")
    result = mini_lake.ingest({name: c}, DAY)
    assert result.contracts[name].version == 1
    assert _changes(spark, c.source) == [("widened", "qty", "double", False)]
    rows = _rows(spark, name)
    assert len(rows) == 100
    assert all(qty is None and rescued == {"qty": f"{i}.5"}
               for i, (qty, rescued) in enumerate(rows[f"r{i}"] for i in range(100)))


def test_a_type_change_past_the_sample_is_found_by_the_write_and_taken(spark, mini_lake):
    name = "smp_past"
    drop_tables(spark, name)
    c = contract(name, COLUMNS, evolution="add_columns")
    mini_lake.land(c, DAY, _csv([str(i) if i < SAMPLE else f"{i}.5" for i in range(100)]),
                   fmt="csv")
    result = mini_lake.ingest({name: c}, DAY)
    assert result.contracts[name].version == 2
    assert result.contracts[name].column("qty").type == "double"
    assert _changes(spark, c.source) == [("widened", "qty", "double", True)]
    rows = _rows(spark, name)
    assert rows["r3"] == (3.0, None) and rows["r50"] == (50.5, None), "rewritten as double"


def test_fields_first_seen_past_the_sample_are_new_or_present_columns(spark, mini_lake):
    name = "smp_field"
    drop_tables(spark, name)
    c = contract(name, [*COLUMNS, {"name": "note", "type": "string"}], evolution="rescue")
    records = [{"id": f"r{i}", "qty": i} for i in range(60)]
    records[45]["coupon"] = "WINTER"
    records[50]["note"] = "late"  # the sample alone would call the column missing
    mini_lake.land(c, DAY, ndjson(*records))
    mini_lake.ingest({name: c}, DAY)
    assert _changes(spark, c.source) == [("new_column", "coupon", "string", False)]
    assert _rows(spark, name)["r45"] == (45, {"coupon": "WINTER"})


EDGES = ["7", " 12 ", "\t-3\n", "+5", "1.5", "1.", ".5", "1e3", "-2.5E-2", "0x1p3", "1d", "2F",
         "NaN", "-Infinity", "inf", "+INF", "\u0663", "12,5", "abc", "", "t", "YES", "off", "n",
         "0", "99999999999", "-9223372036854775808", "2026-01-01", "1_000"]


@pytest.mark.parametrize("type_", ["int", "bigint", "double", "decimal(12,2)", "boolean"])
def test_a_guarded_cast_gives_what_try_cast_gives(spark, type_):
    assert type_.split("(")[0] in PATTERNS
    df = spark.createDataFrame([(v,) for v in EDGES], "v string")
    plain, guarded = (typed_value(F.col("v"), type_, {}, guard) for guard in (False, True))
    rows = df.select("v", plain.alias("plain"), guarded.alias("guarded")).collect()
    # as text: NaN is not equal to itself
    assert [(r["v"], str(r["guarded"])) for r in rows] == [(r["v"], str(r["plain"])) for r in rows]
