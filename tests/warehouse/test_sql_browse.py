"""Browsing the catalog: SHOW/DESCRIBE in `lakehouse sql`, `lakehouse tables` and `lakehouse
describe`, with the contract's descriptions and PII tags, on real Delta tables."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from lake.contracts.reading import parse_contract
from lake.errors import SqlError
from tests.warehouse.builders import scenario
from warehouse.sql.analyst import run_query
from warehouse.sql.browse import Browse, parse_browse

PEOPLE = {"version": 1, "description": "People who bought something", "keys": ["id"], "columns": [
    {"name": "id", "type": "string", "nullable": False, "description": "Customer number"},
    {"name": "email", "type": "string", "pii": True, "description": "Where receipts go"},
    {"name": "city", "type": "string"}]}


@pytest.fixture(scope="module")
def people(spark, session_settings, tmp_path_factory):
    from lake.contracts.versions import in_effect

    s = scenario(spark, session_settings, tmp_path_factory.mktemp("browse"), "brw",
                 {"people": PEOPLE})
    in_effect(spark, {"people": parse_contract({"dataset": "people", **PEOPLE}, "people", "brw")},
              "20260501-001", datetime(2026, 5, 1, tzinfo=UTC))
    s.batch("people", "20260501-001", date(2026, 5, 1), [
        {"id": "p1", "email": "a@example.com", "city": "Oslo"},
        {"id": "p2", "email": "b@example.com", "city": "Lima"}])
    return "brw_silver.people"


@pytest.mark.parametrize(("sql", "expected"), [
    ("SHOW DATABASES", Browse("databases")),
    ("show schemas;", Browse("databases")),
    ("SHOW TABLES", Browse("tables")),
    ("SHOW TABLES IN brw_silver LIKE 'peo*'", Browse("tables", "brw_silver", pattern="peo*")),
    ("SHOW TABLES FROM `brw_silver`", Browse("tables", "brw_silver")),
    ("SHOW COLUMNS FROM people IN brw_silver", Browse("columns", table="brw_silver.people")),
    ("DESCRIBE brw_silver.people", Browse("columns", table="brw_silver.people")),
    ("desc table extended \"brw_silver\".\"people\"", Browse("columns", table="brw_silver.people")),
    ("SELECT 1", None),
])
def test_catalog_questions_are_recognised(sql, expected):
    assert parse_browse(sql) == expected


def test_other_show_and_describe_statements_are_refused():
    for sql in ("SHOW CREATE TABLE t", "DESCRIBE FUNCTION reflect", "SHOW TABLES; DROP TABLE t",
                "SHOW PARTITIONS t", "DESCRIBE QUERY SELECT 1"):
        with pytest.raises(SqlError, match=r"^refused: of SHOW and DESCRIBE"):
            parse_browse(sql)


def test_show_lists_only_readable_databases_and_tables(spark, people):
    databases = [r[0] for r in run_query(spark, "SHOW DATABASES").rows]
    assert {"brw_silver", "warehouse", "meta"} <= set(databases) and "default" not in databases
    result = run_query(spark, "SHOW TABLES IN brw_silver")
    assert result.columns == ["database", "table", "kind", "description"]
    assert result.rows == [("brw_silver", "people", "table", "People who bought something")]
    # without IN: the session's database, as in Spark
    assert {r[0] for r in run_query(spark, "SHOW TABLES").rows} <= {"warehouse"}
    assert run_query(spark, "SHOW TABLES LIKE 'peop%|nothing'", database="brw_silver").rows == \
        result.rows


def test_describe_has_the_contracts_descriptions_and_pii_tags(spark, people):
    result = run_query(spark, "DESCRIBE people", database="brw_silver")
    assert result.columns == ["column", "type", "nullable", "pii", "description"]
    rows = {r[0]: r[1:] for r in result.rows}
    assert rows["id"] == ("string", False, False, "Customer number")
    assert rows["email"] == ("string", True, True, "Where receipts go")
    assert "_batch_id" in rows


def test_describe_of_an_unknown_table_names_tables_of_that_name(spark, people):
    with pytest.raises(SqlError, match=r"^unknown table warehouse.people \(tables of that name: "
                                       r"brw_bronze.people, brw_quarantine.people, "
                                       r"brw_silver.people\)"):
        run_query(spark, "DESCRIBE people")


def test_the_tables_and_describe_commands(spark, people, session_settings, monkeypatch, capsys):
    from lakehouse.cli.main import main

    monkeypatch.setenv("LAKEHOUSE_HOME", str(session_settings.home))

    assert main(["tables", "--database", "brw_silver", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == [{"database": "brw_silver", "table": "people", "kind": "table",
                       "description": "People who bought something"}]
    assert main(["describe", people, "--format", "json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["delta_version"] >= 1 and described["rows"] == 2
    assert described["contract_version"] == 1 and described["last_modified"]
    assert {c["name"]: c["pii"] for c in described["columns"]}["email"] is True
    assert main(["describe", people]) == 0
    text = capsys.readouterr().out
    assert "rows: 2" in text and "email" in text and "Where receipts go" in text
    assert main(["describe", "default.nothing"]) == 2
    assert "unknown database default" in capsys.readouterr().err
