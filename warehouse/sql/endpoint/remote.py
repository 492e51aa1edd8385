"""``lakehouse sql`` through a running endpoint: find it under the home, send the query with
psycopg (the PostgreSQL driver BI tools' Python users have), and get a
:class:`~warehouse.sql.result.QueryResult` back, without starting Spark in this process."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from lake.errors import SqlError
from warehouse.sql.result import QueryResult


@dataclass(frozen=True)
class RunningEndpoint:
    """What ``<home>/sql-endpoint.json`` says of a running endpoint."""

    host: str
    port: int
    pid: int
    user: str
    database: str
    password: str = ""  # only when generated (not from settings)


def state_file(home: Path) -> Path:
    return home / "sql-endpoint.json"


def running_endpoint(home: Path) -> RunningEndpoint | None:
    """The endpoint recorded under ``home`` if its process is alive and it accepts connections."""
    try:
        state = RunningEndpoint(**json.loads(state_file(home).read_text()))
        os.kill(state.pid, 0)
    except (OSError, ValueError, TypeError):
        return None
    try:
        with socket.create_connection((state.host, state.port), timeout=1.0):
            return state
    except OSError:
        return None


def run_remote(endpoint: RunningEndpoint, password: str, sql: str, dialect: str,
               limit: int | None, database: str) -> QueryResult:
    """``sql`` (in ``dialect``, unqualified names in ``database``) run by ``endpoint``, at most
    ``limit`` rows (None: the endpoint's own limit) and whether there were more."""
    import psycopg

    options = f"-c lakehouse.dialect={dialect}"
    if limit is not None:
        options += f" -c lakehouse.row_limit={limit + 1}"  # one more: whether there were more
    notices: list[str] = []
    try:
        with psycopg.connect(host=endpoint.host, port=endpoint.port, user=endpoint.user,
                             password=password or endpoint.password, dbname=database,
                             options=options, application_name="lakehouse sql",
                             autocommit=True, connect_timeout=10) as conn:
            conn.add_notice_handler(lambda n: notices.append(n.message_primary or ""))
            cursor = conn.execute(sql)
            columns = [d.name for d in cursor.description or []]
            rows = [tuple(r) for r in cursor.fetchall()]
    except psycopg.Error as err:
        message = (err.diag.message_primary if err.diag else None) or str(err).strip()
        raise SqlError(message) from err
    truncated = any(n.startswith("result limited to") for n in notices)
    if limit is not None and len(rows) > limit:
        rows, truncated = rows[:limit], True
    return QueryResult(columns, rows, truncated)
