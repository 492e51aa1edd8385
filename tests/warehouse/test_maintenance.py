"""OLAP layout and upkeep: a model's declared clustering is the table's, maintenance compacts
the small files daily appends leave, and VACUUM keeps what time travel inside the declared
window needs."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from lake.errors import ConfigError, LakehouseError
from lake.platform.maintenance import TablePlan, maintain, retention_hours
from tests.warehouse.builders import AT, drop_models, scenario
from warehouse.models.layout import Layout

SALES = {"version": 1, "columns": [
    {"name": "sale_id", "type": "string", "nullable": False},
    {"name": "day", "type": "date"},
    {"name": "amount", "type": "decimal(10,2)"}], "keys": ["sale_id"]}
FACT = """/*
fact: fact_mt_sales
grain: [sale_id]
measures: [amount]
layout: {cluster_by: [day], target_file_size: 64mb}
*/
SELECT sale_id, day, amount FROM mt_silver.sales
"""


def test_layouts_are_checked():
    assert Layout(cluster_by="day").cluster_by == ("day",)
    assert Layout(target_file_size="128mb").target_file_bytes == 128 << 20
    with pytest.raises(ValueError, match="cannot be combined with partition_by"):
        Layout(cluster_by=["a"], partition_by=["b"])
    with pytest.raises(ValueError, match="between 1mb and 4gb"):
        Layout(target_file_size="12kb")
    with pytest.raises(ValueError, match="at most 4 columns"):
        Layout(cluster_by=["a", "b", "c", "d", "e"])


def test_the_retention_guard_never_goes_below_the_window_or_deltas_own():
    assert retention_hours(30, {}) == 720
    assert retention_hours(1, {}) == 168  # Delta's deletedFileRetentionDuration default: 7 days
    assert retention_hours(2, {"delta.deletedFileRetentionDuration": "interval 10 days"}) == 240
    with pytest.raises(LakehouseError, match="at least 1"):
        retention_hours(0, {})


@pytest.fixture
def sales(spark, session_settings, tmp_path):
    s = scenario(spark, session_settings, tmp_path, "mt", {"sales": SALES})
    drop_models(spark, "fact_mt_sales")
    s.model("fact_mt_sales.sql", FACT)
    return s


def test_a_layout_naming_an_unknown_column_is_a_declaration_error(sales):
    sales.model("fact_mt_sales.sql", FACT.replace("cluster_by: [day]", "cluster_by: [dya]"))
    with pytest.raises(ConfigError, match=r"warehouse/fact_mt_sales.sql: layout: dya is not a "
                                          r"column of the table; its columns: sale_id, day"):
        sales.catalog()


def test_maintenance_compacts_daily_appends_into_the_declared_clustering(spark, sales,
                                                                        session_settings,
                                                                        monkeypatch, capsys):
    from warehouse.load import load_warehouse

    for n in range(1, 5):  # four daily batches: four small files
        sales.batch("sales", f"2026050{n}-001", date(2026, 5, n),
                    [{"sale_id": f"s{n}{i}", "day": date(2026, 5, n), "amount": Decimal(n + i)}
                     for i in range(3)])
        assert load_warehouse(spark, sales.catalog(), recorded_at=AT).failed == {}
    table = "warehouse.fact_mt_sales"
    detail = spark.sql(f"DESCRIBE DETAIL {table}").first()
    assert detail["clusteringColumns"] == ["day"]
    assert detail["numFiles"] == 4
    before = spark.table(table).collect()
    versions = spark.sql(f"DESCRIBE HISTORY {table}").count()

    (dry,) = maintain(spark, [TablePlan(table)], time_travel_days=30, dry_run=True)
    assert (dry.files_before, dry.files_after, dry.version_after) == (4, 4, dry.version_before)

    monkeypatch.setenv("LAKEHOUSE_HOME", str(session_settings.home))
    monkeypatch.setenv("LAKEHOUSE_PROJECT", str(sales.root))
    from lakehouse.cli.main import main

    capsys.readouterr()
    assert main(["maintain", "--table", table, "--format", "json"]) == 0
    (done,) = json.loads(capsys.readouterr().out)
    assert done["files_before"] == 4 and done["files_after"] == 1
    assert done["files_compacted"] == 4 and done["retained_hours"] == 720
    assert sorted(spark.table(table).collect()) == sorted(before)
    # time travel to every version inside the window still reads (VACUUM kept their files)
    for version in range(versions):
        spark.read.format("delta").option("versionAsOf", version).table(table).count()
    assert spark.read.format("delta").option("versionAsOf", versions - 1).table(table).count() \
        == len(before)


def test_the_log_is_kept_as_long_as_the_window(spark, sales):
    table = "mt_silver.sales"
    spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES "
              "('delta.logRetentionDuration' = 'interval 8 days')")
    maintain(spark, [TablePlan(table)], time_travel_days=30)
    props = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}
    assert props["delta.logRetentionDuration"] == "interval 720 hours"
