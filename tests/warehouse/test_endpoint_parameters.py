"""Session statements the endpoint answers itself: exact shapes only; anything else (a second
statement, an unknown parameter, a hostile value) is the query path's to refuse, or an error."""

from __future__ import annotations

import pytest

from lake.errors import SqlError
from warehouse.sql.endpoint.parameters import (
    SessionStatement,
    check_value,
    parse_session_statement,
    timeout_seconds,
)


@pytest.mark.parametrize(("sql", "expected"), [
    ("BEGIN", SessionStatement("transaction", "BEGIN")),
    ("start transaction read only", SessionStatement("transaction", "BEGIN")),
    ("COMMIT;", SessionStatement("transaction", "COMMIT")),
    ("abort", SessionStatement("transaction", "ROLLBACK")),
    ("SET extra_float_digits = 3", SessionStatement("set", "extra_float_digits", "3")),
    ("SET application_name = 'PostgreSQL JDBC Driver'",
     SessionStatement("set", "application_name", "PostgreSQL JDBC Driver")),
    ("set search_path to retail_silver, public",
     SessionStatement("set", "search_path", "retail_silver, public")),
    ("SET TIME ZONE 'UTC'", SessionStatement("set", "TimeZone", "UTC")),
    ("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", SessionStatement("set", None)),
    ("SHOW transaction isolation level", SessionStatement("show", "transaction_isolation")),
    ("show DateStyle", SessionStatement("show", "DateStyle")),
    ("RESET ALL", SessionStatement("reset", None)),
    ("DISCARD ALL", SessionStatement("reset", None)),
])
def test_session_statements_are_recognised(sql, expected):
    assert parse_session_statement(sql) == expected


@pytest.mark.parametrize("sql", [
    "SHOW TABLES", "SHOW DATABASES", "SHOW COLUMNS IN t",  # the catalog's (browse)
    "SET application_name = 'x'; DROP TABLE t",  # a second statement: the query path refuses it
    "BEGIN; DELETE FROM t", "SELECT 1", "SET x = (SELECT 1)", "COMMIT AND CHAIN; DROP TABLE t",
])
def test_anything_else_goes_to_the_query_path(sql):
    assert parse_session_statement(sql) is None


@pytest.mark.parametrize("sql", ["SET spark.sql.runSQLOnFiles = true", "SHOW spark.master",
                                 "SET hive.exec.scratchdir = '/tmp'", "RESET spark.jars"])
def test_parameters_outside_the_allow_list_are_refused(sql):
    with pytest.raises(SqlError, match="unrecognized configuration parameter"):
        parse_session_statement(sql)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("server_version", "9.6", "cannot be changed"),
    ("transaction_read_only", "off", "cannot be changed"),
    ("default_transaction_read_only", "off", "cannot be changed"),
    ("client_encoding", "LATIN1", "UTF8 only"),
    ("standard_conforming_strings", "off", "always on"),
    ("lakehouse.row_limit", "1e9", "number of rows"),
    ("statement_timeout", "forever", "invalid statement_timeout"),
    ("extra_float_digits", "3; DROP", "integer"),
])
def test_bad_values_are_refused(name, value, message):
    with pytest.raises(SqlError, match=message):
        check_value(name, value, max_rows=1000, max_timeout=300)


def test_limits_are_capped_at_the_endpoints():
    assert check_value("lakehouse.row_limit", "50000", 1000, 300) == "1000"
    assert check_value("lakehouse.row_limit", "0", 1000, 300) == "1000"
    assert check_value("statement_timeout", "10min", 1000, 300) == "300000ms"
    assert check_value("statement_timeout", "0", 1000, 300) == "300000ms"
    assert timeout_seconds("2500") == 2.5 and timeout_seconds("2s") == 2
