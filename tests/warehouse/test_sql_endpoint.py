"""The warm SQL endpoint as its clients see it: psycopg (the PostgreSQL driver from PyPI), psql,
raw sockets and `lakehouse sql`, against the shared Spark session."""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import errors

from tests.warehouse.conftest import ENDPOINT_PASSWORD, connect

REPO = Path(__file__).resolve().parents[2]
TABLE = "warehouse.endpoint_orders"
# a query that keeps both cores busy for minutes unless cancelled, in 400 short tasks (between
# which the FAIR scheduler gives another connection's query its turn)
SLOW = ("SELECT count(*) FROM range(0, 300000, 1, 400) a CROSS JOIN range(300000) b "
        "WHERE a.id + b.id = 7")


@pytest.fixture(scope="module")
def orders(spark):
    spark.sql(f"DROP TABLE IF EXISTS {TABLE}")
    spark.sql(f"""CREATE TABLE {TABLE} (order_id INT, customer STRING, amount DECIMAL(10,2),
        placed_at TIMESTAMP, placed_on DATE, tags ARRAY<STRING>, paid BOOLEAN, weight DOUBLE,
        ref BIGINT) USING delta""")
    spark.sql(f"""INSERT INTO {TABLE} VALUES
        (1, 'Zoë', 12.50, timestamp'2026-03-01 10:15:00', date'2026-03-01', array('gift'), true,
         0.25, 9000000000),
        (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (3, 'O''Brien', 3.00, timestamp'2026-03-02 23:59:59.5', date'2026-03-02', array(), false,
         1e300, -1)""")
    yield TABLE
    spark.sql(f"DROP TABLE IF EXISTS {TABLE}")


def test_a_client_session_lists_describes_and_reads_typed_rows(orders, sql_endpoint):
    with connect(sql_endpoint, application_name="a BI tool") as conn:
        assert conn.info.parameter_status("server_version") == "16.0"
        tables = conn.execute("SHOW TABLES").fetchall()
        assert ("warehouse", "endpoint_orders", "table", "") in tables
        described = {row[0]: row[1] for row in conn.execute("DESCRIBE endpoint_orders")}
        assert described["amount"] == "decimal(10,2)"
        cur = conn.execute("SELECT * FROM endpoint_orders ORDER BY order_id")
        assert [d.name for d in cur.description][:3] == ["order_id", "customer", "amount"]
        assert [d.type_code for d in cur.description] == [23, 25, 1700, 1114, 1082, 114, 16,
                                                          701, 20]
        rows = cur.fetchall()
    assert rows[0] == (1, "Zoë", Decimal("12.50"), datetime(2026, 3, 1, 10, 15),
                       date(2026, 3, 1), ["gift"], True, 0.25, 9_000_000_000)
    assert rows[1] == (2, *([None] * 8))
    assert rows[2][1] == "O'Brien" and rows[2][3] == datetime(2026, 3, 2, 23, 59, 59, 500000)
    assert rows[2][5:8] == ([], False, 1e300)


def test_parameters_are_bound_as_values_and_statements_are_prepared(orders, sql_endpoint):
    with connect(sql_endpoint) as conn:
        query = "SELECT order_id FROM endpoint_orders WHERE customer = %s OR order_id = %s"
        for _ in range(3):  # a named statement on the server, bound anew each time
            rows = conn.execute(query, ("O'Brien", 1), prepare=True).fetchall()
            assert sorted(rows) == [(1,), (3,)]
        hostile = "x' OR '1'='1"
        assert conn.execute(query, (hostile, -1)).fetchall() == []
        assert conn.execute("SELECT %s::text AS t", ("it's; DROP TABLE x",)).fetchone() == (
            "it's; DROP TABLE x",)


def test_logins_need_the_user_password_and_a_readable_database(sql_endpoint):
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(sql_endpoint, password="wrong")
    with pytest.raises(psycopg.OperationalError, match='role "admin" does not exist'):
        connect(sql_endpoint, user="admin")
    with pytest.raises(psycopg.OperationalError, match="unknown database nowhere"):
        connect(sql_endpoint, dbname="nowhere")
    with pytest.raises(psycopg.OperationalError, match="unknown database default"):
        connect(sql_endpoint, dbname="default")  # exists, but not the lake's or the warehouse's


def test_errors_carry_sqlstates_and_messages(orders, sql_endpoint):
    with connect(sql_endpoint) as conn:
        with pytest.raises(errors.InsufficientPrivilege, match="DROP TABLE is not a read-only"):
            conn.execute(f"DROP TABLE {TABLE}")
        with pytest.raises(errors.UndefinedTable, match="did you mean warehouse.endpoint_orders"):
            conn.execute("SELECT * FROM endpoint_order")
        with pytest.raises(errors.UndefinedColumn, match="unknown column nope"):
            conn.execute("SELECT nope FROM endpoint_orders")
        with pytest.raises(errors.SyntaxError):
            conn.execute("SELEC 1")
        with pytest.raises(errors.UndefinedObject, match="unrecognized configuration"):
            conn.execute("SET spark.sql.runSQLOnFiles = true")
        assert conn.execute("SELECT 1 AS still_here").fetchone() == (1,)


def test_session_settings_dialect_database_and_transactions(orders, sql_endpoint):
    with connect(sql_endpoint, options="-c lakehouse.dialect=snowflake") as conn:
        assert conn.execute("SELECT IFF(paid, 'yes', 'no') FROM endpoint_orders "
                            "WHERE order_id = 1").fetchone() == ("yes",)
        conn.execute("SET lakehouse.dialect = 'spark'")
        conn.execute("SET search_path TO meta")
        assert conn.execute("SHOW search_path").fetchone() == ("meta",)
        assert conn.execute("SELECT count(*) FROM warehouse.endpoint_orders").fetchone() == (3,)
        with pytest.raises(errors.InvalidCatalogName):
            conn.execute("SET search_path = secrets")
    with connect(sql_endpoint, autocommit=False) as conn:  # psycopg sends BEGIN first
        assert conn.execute("SELECT 1").fetchone() == (1,)
        with pytest.raises(errors.UndefinedTable):
            conn.execute("SELECT * FROM missing")
        with pytest.raises(errors.InFailedSqlTransaction):
            conn.execute("SELECT 1")
        conn.rollback()
        assert conn.execute("SELECT 2").fetchone() == (2,)


def test_results_are_capped_with_a_notice_and_streamed(sql_endpoint):
    notices = []
    with connect(sql_endpoint) as conn:
        conn.add_notice_handler(lambda n: notices.append(n.message_primary))
        assert len(conn.execute("SELECT id FROM range(5000)").fetchall()) == 1000
        assert notices == ["result limited to 1,000 rows; SET lakehouse.row_limit (up to 1,000) "
                           "or add a LIMIT"]
        conn.execute("SET lakehouse.row_limit = 10")
        assert conn.execute("SELECT id FROM range(10)").fetchall() == [(i,) for i in range(10)]
        assert len(notices) == 1, "exactly the limit: nothing was cut"
        conn.execute("SET lakehouse.row_limit = 5000")
        assert conn.execute("SHOW lakehouse.row_limit").fetchone() == ("1000",), "capped"
        with pytest.raises(errors.Error, match="lakehouse.row_limit must be a number of rows"):
            conn.execute("SET lakehouse.row_limit = -1")
        streamed = sum(1 for _ in conn.cursor().stream("SELECT id FROM range(10) ORDER BY id"))
        assert streamed == 10


def test_statement_timeout_and_cancel_stop_a_query_and_others_go_on(sql_endpoint):
    with connect(sql_endpoint) as slow, connect(sql_endpoint) as other:
        slow.execute("SET statement_timeout = '1s'")
        started = time.monotonic()
        with pytest.raises(errors.QueryCanceled, match="statement timeout"):
            slow.execute(SLOW)
        assert time.monotonic() - started < 30
        slow.execute("SET statement_timeout = 0")  # back to the endpoint's own limit (60 s)

        outcome = {}

        def run() -> None:
            try:
                slow.execute(SLOW)
                outcome["error"] = None
            except psycopg.Error as err:
                outcome["error"] = err
            outcome["ended"] = time.monotonic()

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(1.5)
        point = time.monotonic()
        assert other.execute("SELECT 40 + 2").fetchone() == (42,)  # while the slow one runs
        answered = time.monotonic()
        assert "ended" not in outcome, "the slow query ended by itself"
        slow.cancel_safe()
        thread.join(30)
        assert isinstance(outcome["error"], errors.QueryCanceled), outcome
        print(f"point query during a running one: {answered - point:.2f} s; cancel took "
              f"{outcome['ended'] - answered:.2f} s")
        assert slow.execute("SELECT 1").fetchone() == (1,)


def test_protocol_abuse_is_refused_and_the_endpoint_goes_on(sql_endpoint):
    host, port = sql_endpoint.address
    packets = [struct.pack("!i", 4), struct.pack("!ii", 100_000, 196608),
               struct.pack("!ii", 8, 1234 << 16), b"GET / HTTP/1.1\r\n\r\n"]
    for packet in packets:
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(packet)
            reply = sock.recv(4096)
            assert reply[:1] == b"E" and b"FATAL" in reply, (packet, reply)
    with socket.create_connection((host, port), timeout=10) as sock:  # a 1 GiB message
        user = b"user\x00analyst\x00\x00"
        sock.sendall(struct.pack("!ii", 8 + len(user), 196608) + user)
        assert sock.recv(4096)[:1] == b"R"  # asked for SCRAM
        sock.sendall(b"p" + struct.pack("!i", 1 << 30))
        assert b"over the limit" in sock.recv(4096)
    with connect(sql_endpoint) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_connections_are_bounded(sql_endpoint):
    held = [connect(sql_endpoint) for _ in range(sql_endpoint.config.max_connections)]
    try:
        with pytest.raises(psycopg.OperationalError, match="too many clients"):
            connect(sql_endpoint)
    finally:
        for conn in held:
            conn.close()


def test_lakehouse_sql_uses_the_running_endpoint(orders, sql_endpoint):
    home = sql_endpoint._state.parent  # noqa: SLF001 - where the endpoint recorded itself
    env = {**os.environ, "LAKEHOUSE_HOME": str(home), "PYTHONPATH": str(REPO),
           "LAKEHOUSE_SQL_ENDPOINT_PASSWORD": ENDPOINT_PASSWORD}
    served = sql_endpoint.served
    done = subprocess.run(
        [sys.executable, "-m", "lakehouse.cli.main", "sql", "--format", "csv", "--limit", "1",
         "SELECT order_id, customer FROM endpoint_orders ORDER BY order_id"],
        cwd=home, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["order_id,customer", "1,Zoë"]
    assert "showing the first 1 rows" in done.stderr
    assert sql_endpoint.served == served + 1
    assert not (home / "logs").exists(), "no Spark was started for the query"
    refused = subprocess.run(
        [sys.executable, "-m", "lakehouse.cli.main", "sql", f"DELETE FROM {TABLE}"],
        cwd=home, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert refused.stderr.startswith("lakehouse sql: refused: DELETE is not a read-only query")


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql comes with PostgreSQL's client "
                    "(infra/ci/install-databases.sh installs it)")
def test_psql_connects_and_queries(orders, sql_endpoint):
    host, port = sql_endpoint.address
    done = subprocess.run(
        ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
         f"postgresql://analyst@{host}:{port}/warehouse", "-c",
         "SELECT customer, amount FROM endpoint_orders WHERE order_id = 1"],
        env={**os.environ, "PGPASSWORD": ENDPOINT_PASSWORD}, capture_output=True, text=True,
        timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Zoë|12.50"
