"""The warm SQL endpoint: one long-lived Spark application answering analysts and BI tools over
the PostgreSQL wire protocol (psql, psycopg, JDBC/ODBC, DBeaver, Metabase, Superset, Tableau …
all speak it), on loopback unless told otherwise.

Each connection is a thread with its own :class:`~warehouse.sql.endpoint.session.ClientSession`
and its own Spark scheduler pool (Spark runs with the FAIR scheduler here, so a long query does
not hold up a point query). A cancel request (PostgreSQL's: a new connection naming the
process id and secret key the session was given) cancels that session's Spark jobs.

The running endpoint is recorded in ``<home>/sql-endpoint.json`` (readable only by its owner:
it may hold the generated password), which ``lakehouse sql`` reads to send its query here
instead of starting Spark (:mod:`warehouse.sql.endpoint.remote`).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socketserver
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lake.errors import SqlError
from warehouse.sql.endpoint import wire
from warehouse.sql.endpoint.remote import RunningEndpoint, state_file
from warehouse.sql.endpoint.session import ClientSession

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from lake.config.settings import Settings

logger = logging.getLogger(__name__)

SPARK_CONF = {"spark.scheduler.mode": "FAIR"}
"""What the endpoint's Spark application needs beyond the platform's settings."""

STARTUP_TIMEOUT = 10.0
"""Seconds a new connection has to start up and authenticate."""


@dataclass(frozen=True)
class EndpointConfig:
    """Where the endpoint listens, who may connect, and the limits of each query (the
    ``sql_*`` settings, :meth:`from_settings`)."""

    host: str
    port: int
    user: str
    password: str
    database: str
    dialect: str
    row_limit: int
    statement_timeout: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> EndpointConfig:
        values = {
            "host": settings.sql_endpoint_host, "port": settings.sql_endpoint_port,
            "user": settings.sql_endpoint_user, "password": settings.sql_endpoint_password,
            "database": settings.sql_database, "dialect": settings.sql_endpoint_dialect,
            "row_limit": settings.sql_endpoint_row_limit,
            "statement_timeout": settings.sql_statement_timeout,
            "max_connections": settings.sql_endpoint_max_connections,
        }  # fmt: skip
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


class SqlEndpoint:
    """The listener, its sessions and the Spark application they share."""

    def __init__(self, spark: SparkSession, config: EndpointConfig) -> None:
        generated = not config.password
        if generated:
            config = EndpointConfig(**{**asdict(config), "password": secrets.token_urlsafe(24)})
        self.spark, self.config, self.generated_password = spark, config, generated
        self._sessions: dict[int, ClientSession] = {}
        self._lock = threading.Lock()
        self._next_pid = 1000
        self.served = 0  # connections accepted since start
        self._server = _Server((config.host, config.port), _Handler, bind_and_activate=False)
        self._server.endpoint = self
        self._thread: threading.Thread | None = None
        self._state: Path | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self, home: Path | None = None) -> SqlEndpoint:
        """Listen (in a background thread) and, given the platform's ``home``, record it there."""
        try:
            self._server.server_bind()
            self._server.server_activate()
        except OSError as err:
            self._server.server_close()
            raise SqlError(f"the SQL endpoint cannot listen on {self.config.host}:"
                           f"{self.config.port}: {err.strerror or err}; set "
                           "LAKEHOUSE_SQL_ENDPOINT_PORT (0: any free port)") from err
        self._thread = threading.Thread(target=self._server.serve_forever, name="sql-endpoint",
                                        daemon=True)
        self._thread.start()
        if home is not None:
            self._record(home)
        return self

    def wait(self) -> None:
        """Block until :meth:`close` (from a signal handler or another thread)."""
        if self._thread is not None:
            self._thread.join()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            session.cancel("the endpoint shutting down")
        if self._state is not None:
            self._state.unlink(missing_ok=True)

    def _record(self, home: Path) -> None:
        host, port = self.address
        state = RunningEndpoint(host, port, os.getpid(), self.config.user, self.config.database,
                                self.config.password if self.generated_password else "")
        path = state_file(home)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(asdict(state), f)
        self._state = path

    # -- sessions ----------------------------------------------------------------------------------

    def register(self, rfile: Any, wfile: Any) -> ClientSession | None:
        with self._lock:
            if len(self._sessions) >= self.config.max_connections:
                return None
            self._next_pid += 1
            self.served += 1
            session = ClientSession(self, rfile, wfile, self._next_pid,
                                    secrets.randbits(31))
            self._sessions[session.pid] = session
        return session

    def unregister(self, session: ClientSession) -> None:
        with self._lock:
            self._sessions.pop(session.pid, None)

    def cancel(self, pid: int, key: int) -> None:
        with self._lock:
            session = self._sessions.get(pid)
        if session is not None and secrets.compare_digest(str(session.key), str(key)):
            session.cancel()

    def connections(self) -> int:
        with self._lock:
            return len(self._sessions)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    endpoint: SqlEndpoint


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        endpoint = self.server.endpoint
        self.connection.settimeout(STARTUP_TIMEOUT)
        try:
            startup = wire.read_startup(self.rfile)
            while startup.code in (wire.SSL_REQUEST, wire.GSSENC_REQUEST):
                self.wfile.write(b"N")  # no TLS here: the client goes on in plain text or stops
                self.wfile.flush()
                startup = wire.read_startup(self.rfile)
            if startup.cancel is not None:
                endpoint.cancel(*startup.cancel)
                return
            if startup.code != wire.PROTOCOL_3:
                self._refuse("0A000", f"unsupported frontend protocol {startup.code >> 16}."
                                      f"{startup.code & 0xFFFF}: the endpoint speaks 3.0")
                return
            session = endpoint.register(self.rfile, self.wfile)
            if session is None:
                self._refuse("53300", "sorry, too many clients already (the endpoint takes "
                                      f"{endpoint.config.max_connections}: "
                                      "LAKEHOUSE_SQL_ENDPOINT_MAX_CONNECTIONS)")
                return
            try:
                if session.start(startup):
                    self.connection.settimeout(None)
                    session.serve()
            finally:
                session.cancel("the client leaving")
                endpoint.unregister(session)
        except (EOFError, ConnectionError, TimeoutError):
            return
        except wire.ProtocolError as err:
            self._refuse("08P01", str(err))
        except Exception:  # one connection's failure must not end the endpoint
            logger.exception("SQL endpoint connection failed")
            self._refuse("XX000", "internal error in the SQL endpoint; see its log")

    def _refuse(self, code: str, text: str) -> None:
        try:
            self.wfile.write(wire.error(code, text, fatal=True))
            self.wfile.flush()
        except OSError:
            pass
