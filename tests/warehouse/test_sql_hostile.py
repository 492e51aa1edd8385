"""A corpus of hostile queries (tests/fixtures/sql/hostile.sql): every one is refused and nothing
in any of them runs. Canaries: a file a script would create, a JVM system property ``reflect``
would set, the Delta version of the table they read or write, and the catalog's tables and
functions. The plan guard refuses the Spark SQL cases on its own, without sqlglot's gate."""

from __future__ import annotations

import pytest

from lake.errors import SqlError
from tests.warehouse.test_sql import TABLE, load_sql_fixture_blocks, load_sql_fixture_pairs
from warehouse.sql.analyst import run_query, to_spark_sql
from warehouse.sql.plan_guard import allowed_functions, analyst_session, checked_query

HOSTILE = load_sql_fixture_blocks("hostile.sql")
PROPERTY = "lakehouse.pwned"
DEFAULT_TABLE = "default.sql_test_secret"


@pytest.fixture(scope="module")
def target(spark, tmp_path_factory):
    """The table the corpus names, a secret file outside the lake, a canary path, and the state
    that must not change."""
    from lake.platform.delta import table_location, table_version

    spark.sql(f"DROP TABLE IF EXISTS {TABLE}")
    spark.createDataFrame([(1, "shipped", 2.5)], "order_id INT, status STRING, amount DOUBLE") \
        .write.format("delta").saveAsTable(TABLE)
    spark.sql(f"DROP TABLE IF EXISTS {DEFAULT_TABLE}")
    spark.createDataFrame([(1, "s3cr3t")], "id INT, secret STRING").write.format("delta") \
        .saveAsTable(DEFAULT_TABLE)
    folder = tmp_path_factory.mktemp("hostile")
    secret = folder / "secret.txt"
    secret.write_text("s3cr3t\n")
    values = {"table": TABLE, "canary": str(folder / "canary"), "secret": str(secret),
              "delta_path": table_location(spark, TABLE), "default_table": DEFAULT_TABLE}
    state = {"version": table_version(spark, TABLE), "tables": _tables(spark),
             "functions": _functions(spark)}
    yield values, state, folder
    spark.sql(f"DROP TABLE IF EXISTS {TABLE}")
    spark.sql(f"DROP TABLE IF EXISTS {DEFAULT_TABLE}")


def _tables(spark) -> set[str]:
    return {f"{db.name}.{t.name}" for db in spark.catalog.listDatabases()
            for t in spark.catalog.listTables(db.name)}


def _functions(spark) -> set[str]:
    return {f.name for f in spark.catalog.listFunctions()}


def _sql(sql: str, values: dict) -> str:
    for key, value in values.items():
        sql = sql.replace("{" + key + "}", value)
    return sql


def test_the_corpus_is_large_and_spans_dialects():
    assert len(HOSTILE) >= 60
    dialects = {meta["dialect"] for meta, _ in HOSTILE}
    assert {"spark", "hive", "databricks", "postgres", "trino", "presto", "athena", "duckdb",
            "snowflake", "tsql", "mysql", "bigquery"} <= dialects


def _run_corpus(run, values: dict, errors: tuple[type[Exception], ...]) -> list[str]:
    """Every case through ``run(meta, sql) -> rows``; the titles of those that ran."""
    ran, refused, text = [], 0, 0
    for meta, sql in HOSTILE:
        try:
            rows = run(meta, _sql(sql, values))
        except errors:
            refused += 1
            continue
        if meta.get("outcome") == "text" and all(isinstance(v, str) for v in rows[0]):
            text += 1  # the trick stayed inside a string literal: returned, not run
            continue
        ran.append(meta["title"])
    print(f"hostile corpus: {len(HOSTILE)} queries, {refused} refused, {text} returned as "
          f"text, {len(ran)} ran")
    return ran


def _assert_nothing_ran(spark, ran: list[str], state: dict, folder) -> None:
    from lake.platform.delta import table_version

    assert ran == [], f"not refused: {ran}"
    assert not (folder / "canary").exists(), "a script ran"
    assert spark._jvm.java.lang.System.getProperty(PROPERTY) is None, "reflect ran"
    assert table_version(spark, TABLE) == state["version"]
    assert _tables(spark) == state["tables"]
    assert _functions(spark) == state["functions"]


def test_every_hostile_query_is_refused_and_nothing_runs(spark, target):
    values, state, folder = target
    ran = _run_corpus(lambda meta, sql: run_query(spark, sql, meta["dialect"]).rows, values,
                      (SqlError,))
    _assert_nothing_ran(spark, ran, state, folder)


def test_every_hostile_query_is_refused_through_the_endpoint(spark, target, sql_endpoint):
    """The same corpus sent by psycopg to the SQL endpoint, each case in its own dialect."""
    import psycopg

    from tests.warehouse.conftest import connect

    values, state, folder = target
    with connect(sql_endpoint) as conn:
        def run(meta: dict, sql: str) -> list[tuple]:
            conn.execute(f"SET lakehouse.dialect = '{meta['dialect']}'")
            return conn.execute(sql).fetchall()

        ran = _run_corpus(run, values, (psycopg.Error,))
    _assert_nothing_ran(spark, ran, state, folder)


@pytest.mark.parametrize("meta_sql", [c for c in HOSTILE if c[0].get("plan") == "yes"],
                         ids=lambda c: c[0]["title"])
def test_the_plan_guard_alone_refuses_spark_sql(spark, target, meta_sql):
    """On the platform's own session (SQL on files on): the plans alone decide (or Spark's
    analysis fails first, e.g. a text file read as ORC); nothing runs either way."""
    from pyspark.errors import AnalysisException

    values, _, folder = target
    with pytest.raises((SqlError, AnalysisException)) as refused:
        checked_query(spark, _sql(meta_sql[1], values))
    assert isinstance(refused.value, AnalysisException) or str(refused.value).startswith("refused: ")
    assert not (folder / "canary").exists()
    assert spark._jvm.java.lang.System.getProperty(PROPERTY) is None


def test_read_only_queries_pass_the_plan_guard(spark, target):
    """Every query of the read-only corpus, transpiled, is made of allowed operators and
    functions (parsing only: its tables need not exist)."""
    from warehouse.sql.plan_guard import _check_parsed

    functions = allowed_functions(spark)
    parser = spark._jsparkSession.sessionState().sqlParser()
    for meta, sql, _expected in load_sql_fixture_pairs("read_only.sql"):
        _check_parsed(parser.parsePlan(to_spark_sql(sql, meta["dialect"])), functions)


def test_analyst_queries_read_lake_and_warehouse_tables(spark, target):
    result = run_query(spark, f"SELECT status, count(*) AS n FROM {TABLE} GROUP BY status "
                              "ORDER BY status")
    assert result.rows == [("shipped", 1)]
    result = run_query(spark, "SELECT id FROM range(3) WHERE id IN (SELECT 1) "
                              "UNION ALL SELECT x FROM VALUES (7) AS v(x)")
    assert sorted(result.rows) == [(1,), (7,)]


def test_the_analyst_session_reads_no_files(spark):
    assert analyst_session(spark).conf.get("spark.sql.runSQLOnFiles") == "false"
    assert spark.conf.get("spark.sql.runSQLOnFiles") == "true", "the platform's session keeps it"
