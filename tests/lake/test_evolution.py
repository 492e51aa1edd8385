"""Schema evolution through real bronze ingestion: add_columns, rescue and fail, type widening,
incompatible and missing columns; raw data never lost, whatever the policy."""

from __future__ import annotations

import json
import re
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lake.contracts.evolution import ColumnChange, ObservedColumn, compare
from lake.contracts.versions import history
from lake.errors import SchemaEvolutionError
from tests.lake.conftest import contract, drop_tables, ndjson, zone

DAY1, DAY2 = date(2026, 3, 1), date(2026, 3, 2)
BATCH1, BATCH2 = "20260301-001", "20260302-001"  # the first delivery of each day
COLUMNS = [{"name": "id", "type": "string", "nullable": False},
           {"name": "qty", "type": "int", "nullable": False, "min": 0}]


def _records(n: int, **extra) -> str:
    return ndjson(*({"id": f"r{i}", "qty": i, **extra} for i in range(n)))


def _bronze(spark, name: str, batch: str):
    return spark.table(zone(name, "bronze")).where(f"_batch_id = '{batch}'")


def test_compare_names_every_kind_of_difference():
    c = contract("cmp", [*COLUMNS, {"name": "d", "type": "date"},
                         {"name": "flag", "type": "boolean"},
                         {"name": "label", "type": "string", "environments": ["TRAINING"]}],
                 environments=["TRAINING", "SERVING"])
    observed = (ObservedColumn("id", "string"), ObservedColumn("qty", "bigint"),
                ObservedColumn("d", "timestamp"), ObservedColumn("flag", "int"),
                ObservedColumn("extra", "double"))
    assert compare(c, observed, "TRAINING", typed_source=True) == (
        ColumnChange("widened", "qty", "int", "bigint"),
        ColumnChange("widened", "d", "date", "timestamp"),
        ColumnChange("incompatible", "flag", "boolean", "int"),
        ColumnChange("missing_column", "label", contract_type="string"),
        ColumnChange("new_column", "extra", observed_type="double"),
    )
    # the label is not expected in SERVING; a text source's "int" fits a bigint contract
    assert ColumnChange("missing_column", "label", contract_type="string") not in compare(
        c, observed, "SERVING", typed_source=True)


def test_add_columns_writes_a_new_version_and_merges_the_delta_schemas(spark, mini_lake):
    name = "evo_add"
    drop_tables(spark, name)
    c = contract(name, COLUMNS, evolution="add_columns")
    contracts = {name: c}
    mini_lake.land(c, DAY1, _records(3))
    mini_lake.ingest(contracts, DAY1)
    mini_lake.land(c, DAY2, _records(3, coupon="WINTER"))
    result = mini_lake.ingest(contracts, DAY2)

    assert result.contracts[name].version == 2
    assert result.contracts[name].column("coupon").type == "string"
    versions = history(spark, c.source, name)[name]
    assert [(v.version, v.origin, v.effective_batch) for v in versions] == [
        (1, "repo", BATCH1), (2, "evolution", BATCH2)]
    assert "new column `coupon` (string)" in versions[1].reason
    for zone_name in ("bronze", "silver", "quarantine"):
        assert "coupon" in spark.table(zone(name, zone_name)).columns, zone_name
    rows = _bronze(spark, name, BATCH2).select("coupon", "_rescued_data").collect()
    assert {(r["coupon"], r["_rescued_data"]) for r in rows} == {("WINTER", None)}

    # re-running the day: same version in effect, nothing registered or written again
    before = spark.sql(f"DESCRIBE HISTORY {zone(name, 'bronze')}").count()
    again = mini_lake.ingest(contracts, DAY2)
    assert again.batch_id == BATCH2  # the same delivery lands no new batch
    assert again.contracts[name].version == 2
    assert len(history(spark, c.source, name)[name]) == 2
    assert spark.sql(f"DESCRIBE HISTORY {zone(name, 'bronze')}").count() == before
    # the new column is validated and reaches silver
    validated = mini_lake.validate(contracts, DAY2)[name]
    assert validated.contract.version == 2
    assert [(a.type, a.column, a.severity) for a in validated.anomalies] == [
        ("new_column", "coupon", "warning")]
    assert {r["coupon"] for r in spark.table(zone(name, "silver")).collect()} == {"WINTER"}


def test_rescue_keeps_the_contract_and_the_unknown_field(spark, mini_lake):
    name = "evo_rescue"
    drop_tables(spark, name)
    c = contract(name, COLUMNS, evolution="rescue")
    mini_lake.land(c, DAY1, _records(2, coupon="WINTER"))
    result = mini_lake.ingest({name: c}, DAY1)
    assert result.contracts[name].version == 1
    assert "coupon" not in spark.table(zone(name, "bronze")).columns
    rescued = [json.loads(r["_rescued_data"]) for r in _bronze(spark, name, BATCH1).collect()]
    assert rescued == [{"coupon": "WINTER"}] * 2
    validated = mini_lake.validate({name: c}, DAY1)[name]
    assert [(a.type, a.column, a.severity) for a in validated.anomalies] == [
        ("new_column", "coupon", "error")]
    assert validated.counts.rows_valid == 2  # an unknown field alone does not quarantine a row


def test_fail_stops_after_bronze_saying_what_differs_and_how_to_accept(spark, mini_lake):
    name = "evo_fail"
    drop_tables(spark, name)
    c = contract(name, [*COLUMNS, {"name": "note", "type": "string"}], evolution="fail")
    mini_lake.land(c, DAY1, ndjson({"id": "a", "qty": "many", "coupon": "X"}))
    with pytest.raises(SchemaEvolutionError) as info:
        mini_lake.ingest({name: c}, DAY1)
    message = str(info.value)
    assert message.startswith(f"batch {BATCH1} of t_{name}.{name} does not match contract v1 "
                              "(evolution: fail):")
    for line in ("~ column `qty`: contract int, landed string (incompatible type)",
                 "- missing column `note` (string)", "+ new column `coupon` (string)"):
        assert line in message
    assert re.search(r"set version: 2 with a changelog entry\) or set evolution: add_columns, "
                     r"then re-run the DAG for 2026-03-01", message)
    # nothing lost: the batch is in bronze with its raw values, nothing past bronze
    (row,) = _bronze(spark, name, BATCH1).collect()
    assert json.loads(row["_rescued_data"]) == {"qty": "many", "coupon": "X"}
    assert spark.table(zone(name, "silver")).count() == 0


def test_parquet_type_widening_is_accepted_in_place(spark, mini_lake):
    name = "evo_widen"
    drop_tables(spark, name)
    c = contract(name, [{"name": "id", "type": "string"}, {"name": "w", "type": "int", "min": 0}],
                 evolution="add_columns")

    def parquet(values, kind):
        sink = pa.BufferOutputStream()
        pq.write_table(pa.table({"id": [f"p{i}" for i in range(len(values))],
                                 "w": pa.array(values, kind)}), sink)
        return sink.getvalue().to_pybytes()

    mini_lake.land(c, DAY1, parquet([1, 2], pa.int32()), fmt="parquet")
    mini_lake.ingest({name: c}, DAY1)
    mini_lake.validate({name: c}, DAY1)
    mini_lake.land(c, DAY2, parquet([5_000_000_000], pa.int64()), fmt="parquet")
    result = mini_lake.ingest({name: c}, DAY2)
    assert result.contracts[name].column("w").type == "bigint"
    for zone_name in ("bronze", "silver", "quarantine"):
        types = dict(spark.table(zone(name, zone_name)).dtypes)
        assert types["w"] == "bigint", zone_name
    assert [r["w"] for r in _bronze(spark, name, BATCH2).collect()] == [5_000_000_000]
    validated = mini_lake.validate({name: c}, DAY2)[name]
    assert validated.counts.rows_valid == 1  # the CHECK w >= 0 survived the widening
    assert spark.sql(f"SHOW TBLPROPERTIES {zone(name, 'silver')}").where(
        "key = 'delta.constraints.w_min'").count() == 1
