"""lakehouse sql: read-only checks and transpilation (golden files), and queries run on Spark."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from lake.errors import LakehouseError, SqlError
from warehouse.sql.analyst import READ_DIALECTS, run_query, to_spark_sql
from warehouse.sql.result import QueryResult, format_result

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sql"
TABLE = "warehouse.sql_test_orders"


# -- golden files ----------------------------------------------------------------------------------


def _extract_meta(block: str) -> tuple[str, dict[str, str]]:
    """Split leading ``# key: value`` lines off ``block`` (as sqlglot's tests/helpers.py does)."""
    lines = block.split("\n")
    meta: dict[str, str] = {}
    while lines and lines[0].startswith("#"):
        key, value = lines.pop(0).split(":", maxsplit=1)
        meta[key.lstrip("#").strip()] = value.strip()
    return "\n".join(lines).strip(), meta


def load_sql_fixture_pairs(name: str) -> list[tuple[dict[str, str], str, str]]:
    """``(meta, input, expected)`` from a file of ``input; expected;`` pairs with headers."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    kept = "\n".join(line for line in text.splitlines() if line and not line.startswith("--"))
    statements = kept.split(";")
    assert not statements[-1].strip(), f"{name}: text after the last ';'"
    statements = statements[:-1]
    assert len(statements) % 2 == 0, f"{name}: an input has no expected output"
    cases = []
    for sql, expected in zip(statements[::2], statements[1::2], strict=True):
        sql, meta = _extract_meta(sql.strip())
        cases.append((meta, sql, expected.strip()))
    return cases


def load_sql_fixture_blocks(name: str) -> list[tuple[dict[str, str], str]]:
    """``(meta, input)`` from a file of blank-line-separated blocks with headers."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    cases = []
    for block in text.split("\n\n"):
        lines = [line for line in block.strip().splitlines() if not line.startswith("--")]
        if lines:
            sql, meta = _extract_meta("\n".join(lines))
            cases.append((meta, sql))
    return cases


READ_ONLY = load_sql_fixture_pairs("read_only.sql")
REFUSED = load_sql_fixture_blocks("refused.sql")


def test_golden_files_are_well_formed():
    assert len(READ_ONLY) >= 10 and len(REFUSED) >= 10
    for meta, sql, expected in READ_ONLY:
        assert {"title", "dialect"} <= meta.keys() and sql and expected, meta
    for meta, sql in REFUSED:
        assert {"title", "dialect", "error"} <= meta.keys() and sql, meta
    dialects = {meta["dialect"] for meta, _, _ in READ_ONLY}
    assert {"snowflake", "postgres", "tsql", "bigquery", "duckdb", "spark"} <= dialects


@pytest.mark.parametrize(
    ("meta", "sql", "expected"), READ_ONLY, ids=[meta["title"] for meta, _, _ in READ_ONLY]
)
def test_read_only_query_transpiles_to_spark(meta, sql, expected):
    assert to_spark_sql(sql, meta["dialect"]) == expected


@pytest.mark.parametrize(("meta", "sql"), REFUSED, ids=[meta["title"] for meta, _ in REFUSED])
def test_refused_input_names_what_and_why(meta, sql):
    with pytest.raises(SqlError) as info:
        to_spark_sql(sql, meta["dialect"])
    assert meta["error"] in str(info.value)


def test_errors_are_lakehouse_errors_chained_to_sqlglot():
    with pytest.raises(LakehouseError) as info:
        to_spark_sql("SELECT FROM WHERE")
    assert type(info.value.__cause__).__module__.startswith("sqlglot")


def test_every_listed_dialect_is_accepted_case_insensitively():
    assert {"snowflake", "postgres", "tsql", "bigquery", "duckdb", "spark"} <= set(READ_DIALECTS)
    for dialect in READ_DIALECTS:
        if dialect not in {"prql", "dax"}:  # not SQL: pipelines and DAX expressions
            assert to_spark_sql("SELECT a FROM t", dialect) == "SELECT a FROM t", dialect
    assert to_spark_sql("SELECT TOP 1 a FROM t", "TSQL") == "SELECT a FROM t LIMIT 1"


def test_trailing_semicolons_are_one_statement():
    assert to_spark_sql("SELECT 1;  ;\n") == "SELECT 1"


def test_unknown_dialect_message_lists_every_valid_dialect():
    with pytest.raises(SqlError) as info:
        to_spark_sql("SELECT 1", "mssql")
    message = str(info.value)
    assert message.startswith("unknown dialect 'mssql' (did you mean 'tsql'?); valid dialects: ")
    assert message.endswith(", ".join(READ_DIALECTS))


# -- format_result ---------------------------------------------------------------------------------

RESULT = QueryResult(
    columns=["customer", "amount", "day", "tags"],
    rows=[
        ("c1", Decimal("12.50"), dt.date(2024, 1, 2), {"vip": True}),
        ("c10, ltd", None, None, [1, 2]),
    ],
)


def test_format_table_aligns_columns_and_counts_rows():
    assert format_result(RESULT, "table") == (
        "customer | amount | day        | tags\n"
        "---------+--------+------------+--------------\n"
        "c1       |  12.50 | 2024-01-02 | {\"vip\": true}\n"
        "c10, ltd |   NULL | NULL       | [1, 2]\n"
        "(2 rows)\n"
    )
    one = QueryResult(columns=["n"], rows=[(1,)])
    assert format_result(one, "table") == "n\n-\n1\n(1 row)\n"
    assert format_result(QueryResult(columns=["n"], rows=[]), "table") == "n\n-\n(0 rows)\n"


def test_format_csv_quotes_and_leaves_nulls_empty():
    assert format_result(RESULT, "csv") == (
        "customer,amount,day,tags\n"
        'c1,12.50,2024-01-02,"{""vip"": true}"\n'
        '"c10, ltd",,,"[1, 2]"\n'
    )


def test_format_json_is_a_list_of_objects():
    assert json.loads(format_result(RESULT, "json")) == [
        {"customer": "c1", "amount": "12.50", "day": "2024-01-02", "tags": {"vip": True}},
        {"customer": "c10, ltd", "amount": None, "day": None, "tags": [1, 2]},
    ]


def test_format_unknown_names_the_choices():
    with pytest.raises(SqlError, match=r"unknown output format 'xml'; choose one of table, csv"):
        format_result(RESULT, "xml")


# -- on Spark --------------------------------------------------------------------------------------

ORDERS = [
    (1, 10, "c1", Decimal("12.50"), dt.datetime(2024, 1, 1, 10), "shipped"),
    (2, 10, "c1", Decimal("-3.00"), dt.datetime(2024, 1, 2, 10), "SHIPPED"),
    (3, 20, "c2", Decimal("7.25"), dt.datetime(2024, 1, 3, 10), "open"),
    (4, 30, "c3", Decimal("1.00"), dt.datetime(2024, 1, 4, 10), "Shipped"),
]
SCHEMA = (
    "order_id INT, customer_sk INT, customer_id STRING, amount DECIMAL(10,2), "
    "order_ts TIMESTAMP, status STRING"
)


@pytest.fixture(scope="module")
def orders(spark):
    spark.sql(f"DROP TABLE IF EXISTS {TABLE}")
    spark.createDataFrame(ORDERS, SCHEMA).write.format("delta").saveAsTable(TABLE)
    yield TABLE
    spark.sql(f"DROP TABLE IF EXISTS {TABLE}")


def test_snowflake_query_runs_on_spark(spark, orders):
    result = run_query(
        spark,
        f"SELECT customer_sk, IFF(amount > 0, 'pos', 'neg') AS sign, DATEADD(day, 1, order_ts) "
        f"FROM {orders} "
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY customer_sk ORDER BY order_ts DESC) = 1",
        dialect="snowflake",
    )
    # DATEADD(day, …) becomes Spark's DATE_ADD, which returns a DATE; the QUALIFY rewrite names
    # the unaliased expression `_c`.
    assert result.columns == ["customer_sk", "sign", "_c"]
    assert sorted(result.rows) == [
        (10, "neg", dt.date(2024, 1, 3)),
        (20, "pos", dt.date(2024, 1, 4)),
        (30, "pos", dt.date(2024, 1, 5)),
    ]


def test_postgres_query_runs_on_spark_with_limit(spark, orders):
    sql = (
        "SELECT DISTINCT ON (customer_id) customer_id::text AS customer_id, amount "
        f"FROM {orders} WHERE status ILIKE 'ship%' ORDER BY customer_id, order_ts DESC"
    )
    result = run_query(spark, sql, dialect="postgres")
    assert result.columns == ["customer_id", "amount"]
    assert sorted(result.rows) == [("c1", Decimal("-3.00")), ("c3", Decimal("1.00"))]
    assert len(run_query(spark, sql, dialect="postgres", limit=1).rows) == 1


def test_limit_must_be_a_non_negative_integer(spark):
    with pytest.raises(SqlError, match=r"limit must be a non-negative integer or None, got -1"):
        run_query(spark, "SELECT 1", limit=-1)


def test_writes_are_refused_and_the_table_is_untouched(spark, orders):
    with pytest.raises(SqlError, match=r"^refused: DROP TABLE is not a read-only query"):
        run_query(spark, f"DROP TABLE {orders}")
    with pytest.raises(SqlError, match=r"^refused: DELETE in a CTE is not a read-only query"):
        run_query(
            spark, f"WITH d AS (DELETE FROM {orders} RETURNING *) SELECT * FROM d", "postgres"
        )
    assert spark.catalog.tableExists(orders)
    assert spark.table(orders).count() == len(ORDERS)


def test_unknown_table_names_it_and_lists_the_tables_of_its_database(spark, orders):
    with pytest.raises(SqlError) as info:
        run_query(spark, "SELECT * FROM warehouse.sql_test_ordrs")
    message = str(info.value)
    # The closest name comes first, whatever else other tests left in the catalog.
    assert message.startswith(f"unknown table warehouse.sql_test_ordrs (did you mean {orders}")
    listed = message.split("; tables in warehouse: ")[1].split("; ")[0].split(", ")
    assert orders in listed
    assert all(t.startswith("warehouse.") for t in listed)


def test_unqualified_names_are_in_the_session_database(spark, orders):
    assert len(run_query(spark, "SELECT * FROM sql_test_orders").rows) == len(ORDERS)
    with pytest.raises(SqlError) as info:
        run_query(spark, "SELECT * FROM sql_test_orders", database="meta")
    message = str(info.value)
    # the table of that name in another database is the first hint
    assert message.startswith(f"unknown table sql_test_orders in database meta (did you mean "
                              f"{orders}")
    with pytest.raises(SqlError, match=r"^unknown database nowhere; databases: .*warehouse"):
        run_query(spark, "SELECT 1", database="nowhere")
    with pytest.raises(SqlError, match=r"^unknown database default; databases: "):
        run_query(spark, "SELECT 1", database="default")


def test_a_limited_result_says_it_was_cut(spark, orders):
    result = run_query(spark, f"SELECT * FROM {orders}", limit=3)
    assert len(result.rows) == 3 and result.truncated
    result = run_query(spark, f"SELECT * FROM {orders}", limit=4)
    assert len(result.rows) == 4 and not result.truncated


def test_unknown_column_names_it_and_the_columns_in_scope(spark, orders):
    with pytest.raises(SqlError) as info:
        run_query(spark, f"SELECT amountx FROM {orders}", "snowflake")
    message = str(info.value)
    assert message.startswith("unknown column amountx; columns in scope include ")
    assert "amount" in message
