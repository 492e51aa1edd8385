"""A table's CHECK constraints are made with it, in its first commit, and analysed first: a check
that is not a condition on the table's columns is refused before any table exists."""

from __future__ import annotations

import pytest
from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException

from lake.errors import LakehouseError
from lake.platform.delta import delta_table
from lake.platform.tables import create_table

DDL = "id STRING NOT NULL, qty INT, status STRING"
TABLE = "default.constraints_test"


@pytest.fixture
def fresh(spark):
    spark.sql(f"DROP TABLE IF EXISTS {TABLE}")
    yield TABLE
    spark.sql(f"DROP TABLE IF EXISTS {TABLE}")


def test_checks_are_made_with_the_table_in_one_commit_and_enforced(spark, fresh):
    checks = {"qty_min": "qty >= 0",
              # quotes and a backslash reach Delta exactly as written
              "status_in": "status IN ('open', 'it\\'s', 'a\\\\b')"}
    assert create_table(spark, fresh, DDL, checks=checks)
    history = delta_table(spark, fresh).history().collect()
    assert [r["operation"] for r in history] == ["CREATE TABLE"]
    props = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {fresh}").collect()}
    assert props["delta.constraints.qty_min"] == "qty >= 0"
    assert props["delta.constraints.status_in"] == checks["status_in"]
    spark.sql(f"INSERT INTO {fresh} VALUES ('a', 1, 'open'), ('b', 2, 'it\\'s'), "
              "('c', 3, 'a\\\\b')")
    refused = (PySparkException, Py4JJavaError)  # Delta's violation arrives unconverted
    with pytest.raises(refused, match="qty_min"):
        spark.sql(f"INSERT INTO {fresh} VALUES ('d', -1, 'open')")
    with pytest.raises(refused, match="status_in"):
        spark.sql(f"INSERT INTO {fresh} VALUES ('e', 1, 'closed')")
    assert spark.table(fresh).count() == 3


@pytest.mark.parametrize(("name", "expr", "message"), [
    ("unknown_column", "nope > 0", "not an expression of the table's columns"),
    ("not_a_condition", "qty + 1", "not a condition: it is of type int"),
    ("unparsable", "qty >>> (", "not an expression of the table's columns"),
    ("bad name; DROP TABLE x", "qty > 0", "not a plain CHECK constraint name"),
    ("quote_break", "qty > 0') , ('delta.appendOnly' = 'true", "not an expression"),
])
def test_a_check_that_is_not_a_condition_on_the_columns_is_refused_before_the_table(
        spark, fresh, name, expr, message):
    with pytest.raises(LakehouseError, match=message):
        create_table(spark, fresh, DDL, checks={name: expr})
    assert not spark.catalog.tableExists(fresh)
