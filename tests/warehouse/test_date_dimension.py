"""The generated warehouse.dim_date: one row per declared day with its calendar attributes,
rebuilt only when lakehouse.yaml's range changes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lake.config.project import load_project
from lake.errors import ConfigError
from warehouse.date_dimension import DATE_TABLE, ensure_date_dimension


def _project(tmp_path: Path, yaml_text: str):
    (tmp_path / "lakehouse.yaml").write_text(yaml_text)
    return load_project(tmp_path)


def test_the_range_comes_from_lakehouse_yaml(tmp_path):
    project = _project(tmp_path, "name: p\ndefaults: {start_date: 2023-05-01}\n")
    assert project.date_range == (date(2023, 5, 1), date(2040, 12, 31))
    project = _project(tmp_path, "name: p\nwarehouse: {dim_date: {start: 2024-01-01, "
                                 "end: 2024-12-31}}\n")
    assert project.date_range == (date(2024, 1, 1), date(2024, 12, 31))
    assert _project(tmp_path, "name: p\nwarehouse: {dim_date: null}\n").date_range is None
    with pytest.raises(ConfigError, match="end 2019-01-01 is before start 2020-01-01"):
        _ = _project(tmp_path, "name: p\nwarehouse: {dim_date: {end: 2019-01-01}}\n").date_range


def test_a_view_may_read_the_date_dimension(tmp_path):
    from warehouse.models.catalog import load_models

    _project(tmp_path, "name: p\n")
    (tmp_path / "warehouse" / "views").mkdir(parents=True)
    (tmp_path / "warehouse" / "views" / "days.sql").write_text(
        "SELECT year, count(*) AS days FROM warehouse.dim_date GROUP BY year")
    assert "days" in load_models(load_project(tmp_path)).views


def test_one_row_per_day_with_calendar_attributes(spark):
    from lake.platform.delta import table_version

    spark.sql(f"DROP TABLE IF EXISTS {DATE_TABLE}")
    assert ensure_date_dimension(spark, date(2024, 1, 1), date(2024, 12, 31))
    days = spark.table(DATE_TABLE)
    assert days.count() == 366
    leap = days.where("date_key = 20240229").first().asDict()
    assert leap == {
        "date_key": 20240229, "date": date(2024, 2, 29), "year": 2024, "quarter": 1, "month": 2,
        "month_name": "February", "day_of_month": 29, "day_of_week": 4, "day_name": "Thursday",
        "week_of_year": 9, "day_of_year": 60, "is_weekend": False,
        "first_day_of_month": date(2024, 2, 1), "last_day_of_month": date(2024, 2, 29)}
    assert days.where("is_weekend").count() == 104
    version = table_version(spark, DATE_TABLE)
    assert not ensure_date_dimension(spark, date(2024, 1, 1), date(2024, 12, 31))
    assert table_version(spark, DATE_TABLE) == version, "an unchanged range writes nothing"
    assert ensure_date_dimension(spark, date(2025, 1, 1), date(2025, 12, 31))
    assert spark.table(DATE_TABLE).count() == 365
    spark.sql(f"DROP TABLE IF EXISTS {DATE_TABLE}")
