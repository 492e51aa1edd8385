"""The generated date dimension ``warehouse.dim_date``: one row per day of the range
``lakehouse.yaml`` declares (``warehouse.dim_date``), with the calendar attributes analysts
group by. It is rebuilt only when the declared range changes."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DATE_TABLE = "warehouse.dim_date"
RANGE_PROPERTY = "lakehouse.dateRange"


def date_select(start: date, end: date) -> str:
    """The SELECT of every day from ``start`` to ``end`` and its calendar attributes (ISO weeks,
    Monday = 1)."""
    return (
        "SELECT CAST(date_format(d, 'yyyyMMdd') AS INT) AS date_key, d AS date, year(d) AS year, "
        "quarter(d) AS quarter, month(d) AS month, date_format(d, 'MMMM') AS month_name, "
        "dayofmonth(d) AS day_of_month, weekday(d) + 1 AS day_of_week, "
        "date_format(d, 'EEEE') AS day_name, weekofyear(d) AS week_of_year, "
        "dayofyear(d) AS day_of_year, weekday(d) >= 5 AS is_weekend, "
        "trunc(d, 'MM') AS first_day_of_month, last_day(d) AS last_day_of_month "
        f"FROM (SELECT explode(sequence(DATE'{start.isoformat()}', DATE'{end.isoformat()}', "
        "INTERVAL 1 DAY)) AS d)")


def ensure_date_dimension(spark: SparkSession, start: date, end: date) -> bool:
    """Create (or, when the range changed, replace) ``warehouse.dim_date``; True if written."""
    wanted = f"{start.isoformat()}/{end.isoformat()}"
    if spark.catalog.tableExists(DATE_TABLE):
        props = {r["key"]: r["value"] for r in
                 spark.sql(f"SHOW TBLPROPERTIES {DATE_TABLE}").collect()}
        if props.get(RANGE_PROPERTY) == wanted:
            return False
    spark.sql(f"CREATE OR REPLACE TABLE {DATE_TABLE} USING DELTA COMMENT 'One row per day, "
              f"{start.isoformat()} to {end.isoformat()} (generated from lakehouse.yaml)' "
              f"TBLPROPERTIES ('{RANGE_PROPERTY}' = '{wanted}') AS {date_select(start, end)}")
    return True
