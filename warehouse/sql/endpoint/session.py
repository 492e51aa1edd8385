"""One client's conversation with the SQL endpoint: start-up and SCRAM authentication, then
simple and extended queries until the client leaves.

Every query goes through the same gates as ``lakehouse sql`` (:func:`warehouse.sql.analyst.prepare`,
then Spark's plans in :func:`~warehouse.sql.analyst.checked_frame`) on the connection's own
analyst session (SQL on files off, its database). Rows are streamed partition by partition and
capped at the row limit; each query runs in a Spark job group that a cancel request or the
statement timeout cancels. Session statements (``SET``, ``SHOW``, ``BEGIN`` …) are answered
here (:mod:`warehouse.sql.endpoint.parameters`).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from lake.errors import SqlError
from warehouse.sql.endpoint import parameters, scram, values, wire
from warehouse.sql.endpoint.binding import bind_parameters

if TYPE_CHECKING:
    from collections.abc import Iterator

    from warehouse.sql.endpoint.server import SqlEndpoint

logger = logging.getLogger(__name__)

_FLUSH_BYTES = 1 << 16
_RECANCEL_SECONDS = 0.2


class QueryCancelled(SqlError):
    """The query was cancelled (the client asked, or the statement timeout passed)."""


@dataclass
class Portal:
    """A statement ready to run: rows of ``columns`` (None: a command without rows), from
    ``frame`` (a checked Spark query) or from ``rows`` already known."""

    tag: str
    columns: list[values.Column] | None = None
    frame: Any = None
    rows: Iterator[Any] | None = None
    spark_sql: str = ""
    sent: int = 0
    notices: list[str] = field(default_factory=list)


class ClientSession:
    """The conversation on one connection (``pid`` and ``key`` identify it to a cancel)."""

    def __init__(self, endpoint: SqlEndpoint, rfile: BinaryIO, wfile: BinaryIO, pid: int,
                 key: int) -> None:
        self.endpoint, self.rfile, self.wfile = endpoint, rfile, wfile
        self.pid, self.key = pid, key
        self.params = self._defaults()
        self.status = "I"
        self.statements: dict[str, tuple[str, list[int]]] = {}
        self.portals: dict[str, Portal] = {}
        self.session: Any = None
        self._cancel_reason: str | None = None
        self._group: str | None = None
        self._queries = 0
        self._lock = threading.Lock()

    def _defaults(self) -> dict[str, str]:
        config = self.endpoint.config
        return {**parameters.SESSION_DEFAULTS, "search_path": config.database,
                "statement_timeout": f"{int(config.statement_timeout * 1000)}ms",
                "lakehouse.dialect": config.dialect, "lakehouse.row_limit": str(config.row_limit)}

    # -- start-up ----------------------------------------------------------------------------------

    def start(self, startup: wire.Startup) -> bool:
        """Authenticate the client and open its session; False when the connection must end."""
        config = self.endpoint.config
        user = startup.params.get("user", "")
        if user != config.user:
            return self._fatal("28000", f'role "{user}" does not exist; the endpoint\'s user is '
                                        "LAKEHOUSE_SQL_ENDPOINT_USER")
        if not self._authenticate(config.password):
            return self._fatal("28P01", f'password authentication failed for user "{user}"')
        try:
            self._open(startup.params)
        except SqlError as err:
            return self._fatal(_sqlstate(str(err)), str(err))
        self.send(wire.authentication(0))
        for name in parameters.REPORTED:
            self.send(wire.parameter_status(name, self.params[name]))
        self.send(wire.backend_key(self.pid, self.key), wire.ready(self.status), flush=True)
        return True

    def _authenticate(self, password: str) -> bool:
        mechanism = scram.MECHANISM
        self.send(wire.authentication(10, mechanism.encode() + b"\x00\x00"), flush=True)
        exchange = scram.Exchange(password)
        try:
            kind, body = wire.read_message(self.rfile)
            r = wire.Reader(body)
            if kind != b"p" or r.cstring() != mechanism:
                return False
            server_first = exchange.first(r.take(r.int32()))
            self.send(wire.authentication(11, server_first), flush=True)
            kind, body = wire.read_message(self.rfile)
            if kind != b"p":
                return False
            self.send(wire.authentication(12, exchange.final(body)))
        except scram.AuthenticationFailed:
            return False
        return True

    def _open(self, params: dict[str, str]) -> None:
        from warehouse.sql.analyst import check_dialect
        from warehouse.sql.browse import check_database
        from warehouse.sql.plan_guard import analyst_session

        for option, value in _options(params.get("options", "")).items():
            name = parameters.parameter(option)
            self.params[name] = self._checked(name, value)
        if params.get("application_name"):
            self.params["application_name"] = params["application_name"][:128]
        database = params.get("database", "")
        if database and database != params.get("user") and database != "lakehouse":
            self.params["search_path"] = database
        check_dialect(self.params["lakehouse.dialect"])
        spark = self.endpoint.spark
        self.params["search_path"] = check_database(spark, self.params["search_path"])
        self.session = analyst_session(spark, self.params["search_path"])

    # -- the message loop --------------------------------------------------------------------------

    def serve(self) -> None:
        """Answer messages until the client terminates or the connection drops."""
        sc = self.endpoint.spark.sparkContext
        sc.setLocalProperty("spark.scheduler.pool", f"connection-{self.pid}")
        skipping = False  # after an error in an extended-protocol batch: skip to Sync
        while True:
            kind, body = wire.read_message(self.rfile)
            if kind == b"X":
                return
            if kind == b"Q":
                self._simple(body)
            elif kind == b"S":
                skipping = False
                if self.status == "I":
                    self.portals.pop("", None)
                self.send(wire.ready(self.status), flush=True)
            elif not skipping:
                try:
                    self._extended(kind, body)
                except SqlError as err:
                    self._error(err)
                    skipping = True

    def _simple(self, body: bytes) -> None:
        try:
            sql = wire.Reader(body).cstring()
            if not sql.strip():
                self.send(wire.EMPTY_QUERY)
            else:
                portal = self._portal(sql)
                if portal.columns is not None:
                    self.send(_row_description(portal.columns))
                self._execute(portal, 0)
        except SqlError as err:
            self._error(err)
        self.send(wire.ready(self.status), flush=True)

    def _extended(self, kind: bytes, body: bytes) -> None:
        if kind == b"P":
            name, query, oids = wire.parse_parse(body)
            self.statements[name] = (query, oids)
            self.send(wire.PARSE_COMPLETE)
        elif kind == b"B":
            bind = wire.parse_bind(body)
            if bind.statement not in self.statements:
                raise SqlError(f'prepared statement "{bind.statement}" does not exist')
            if any(f != 0 for f in bind.result_formats):
                raise SqlError("the endpoint sends results as text only; ask for text results")
            query, oids = self.statements[bind.statement]
            sql = bind_parameters(query, oids, bind, self.params["lakehouse.dialect"])
            self.portals[bind.portal] = self._portal(sql) if sql.strip() else Portal("")
            self.send(wire.BIND_COMPLETE)
        elif kind == b"D":
            self._describe(*wire.parse_target(body))
        elif kind == b"E":
            name, max_rows = wire.parse_execute(body)
            portal = self.portals.get(name)
            if portal is None:
                raise SqlError(f'portal "{name}" does not exist')
            if not portal.tag:
                self.send(wire.EMPTY_QUERY)
            else:
                self._execute(portal, max_rows)
        elif kind == b"C":
            target, name = wire.parse_target(body)
            (self.statements if target == "S" else self.portals).pop(name, None)
            self.send(wire.CLOSE_COMPLETE)
        elif kind == b"H":
            self.wfile.flush()
        else:
            raise wire.ProtocolError(f"unsupported message type {kind!r}")

    def _describe(self, target: str, name: str) -> None:
        if target == "S":
            if name not in self.statements:
                raise SqlError(f'prepared statement "{name}" does not exist')
            query, oids = self.statements[name]
            count = max([len(oids), *_parameter_numbers(query)])
            self.send(wire.parameter_description(
                [(oids[i] if i < len(oids) and oids[i] else values.TEXT) for i in range(count)]))
            portal = self._portal(bind_parameters(query, oids, None, self.params[
                "lakehouse.dialect"])) if query.strip() else Portal("")
        else:
            if name not in self.portals:
                raise SqlError(f'portal "{name}" does not exist')
            portal = self.portals[name]
        self.send(wire.NO_DATA if portal.columns is None else _row_description(portal.columns))

    # -- statements --------------------------------------------------------------------------------

    def _portal(self, sql: str) -> Portal:
        statement = parameters.parse_session_statement(sql)
        if self.status == "E" and (statement is None or statement.kind != "transaction"):
            raise SqlError("current transaction is aborted, commands ignored until end of "
                           "transaction block")
        if statement is not None:
            return self._session_statement(statement)
        from warehouse.sql.analyst import checked_frame, prepare
        from warehouse.sql.browse import Browse, answer

        prepared = prepare(sql, self.params["lakehouse.dialect"])
        database = self.params["search_path"]
        if isinstance(prepared, Browse):
            result = answer(self.endpoint.spark, prepared, database)
            cols = [values.Column(c, values.TEXT, -1, values.as_text) for c in result.columns]
            return Portal("SELECT", cols, rows=iter(result.rows))
        frame = checked_frame(self.session, prepared, database)
        return Portal("SELECT", values.columns(frame.schema), frame=frame, spark_sql=prepared)

    def _session_statement(self, statement: parameters.SessionStatement) -> Portal:
        if statement.kind == "transaction":
            self.status = "T" if statement.name == "BEGIN" else "I"
            return Portal(statement.name)
        if statement.kind == "show":
            text = values.Column(statement.name, values.TEXT, -1, values.as_text)
            return Portal("SHOW", [text], rows=iter([(self.params[statement.name],)]))
        if statement.kind == "set" and statement.name is not None:
            self._set(statement.name, self._checked(statement.name, statement.value))
        elif statement.kind == "reset":
            defaults = self._defaults()
            for name in [statement.name] if statement.name else list(defaults):
                if name not in parameters.READ_ONLY_PARAMETERS:
                    self._set(name, defaults[name])
        return Portal(statement.kind.upper() if statement.kind != "reset" else "RESET")

    def _checked(self, name: str, value: str) -> str:
        config = self.endpoint.config
        value = parameters.check_value(name, value, config.row_limit, config.statement_timeout)
        if name == "search_path":
            from warehouse.sql.browse import check_database

            first = value.split(",")[0].strip()
            value = config.database if first in ("", "public", "$user") else first
            value = check_database(self.endpoint.spark, value)
        elif name == "lakehouse.dialect":
            from warehouse.sql.analyst import check_dialect

            value = check_dialect(value)
        return value

    def _set(self, name: str, value: str) -> None:
        if name == "search_path" and self.session is not None:
            self.session.catalog.setCurrentDatabase(value)
        self.params[name] = value
        if name in parameters.REPORTED:
            self.send(wire.parameter_status(name, value))

    # -- running -----------------------------------------------------------------------------------

    def _execute(self, portal: Portal, max_rows: int) -> None:
        """Send ``portal``'s rows (at most ``max_rows`` now, 0: all), then its completion."""
        if portal.columns is None:
            self.send(wire.command_complete(portal.tag))
            return
        if portal.rows is None:
            portal.rows = self._stream(portal)
        limit = int(self.params["lakehouse.row_limit"])
        buffer: list[bytes] = []
        size, sent_now = 0, 0
        for row in portal.rows:
            if portal.sent >= limit:
                portal.rows.close()  # the rest is never computed
                portal.notices.append(
                    f"result limited to {limit:,} rows; SET lakehouse.row_limit (up to "
                    f"{self.endpoint.config.row_limit:,}) or add a LIMIT")
                break
            data = wire.data_row(values.encode_row(row, portal.columns))
            buffer.append(data)
            size += len(data)
            portal.sent += 1
            sent_now += 1
            if size >= _FLUSH_BYTES:
                self.send(*buffer, flush=True)
                buffer, size = [], 0
            if max_rows and sent_now >= max_rows:
                self.send(*buffer, wire.PORTAL_SUSPENDED)
                return
        self.send(*buffer, *(wire.notice(n) for n in portal.notices),
                  wire.command_complete(f"SELECT {portal.sent}"))

    def _stream(self, portal: Portal) -> Iterator[Any]:
        """The frame's rows, partition by partition, in this query's job group (cancellable
        until the rows are all read or the portal is closed)."""
        from warehouse.sql.analyst import run_failure

        self._queries += 1
        group = f"lakehouse-sql-{self.pid}-{self._queries}"
        with self._lock:
            self._cancel_reason, self._group = None, group
        self.endpoint.spark.sparkContext.setJobGroup(
            group, f"SQL endpoint connection {self.pid}: {portal.spark_sql[:200]}",
            interruptOnCancel=True)
        timer = threading.Timer(parameters.timeout_seconds(self.params["statement_timeout"]),
                                self.cancel, ("statement timeout",))
        timer.daemon = True
        timer.start()
        rows = None
        try:
            rows = portal.frame.toLocalIterator(prefetchPartitions=True)
            for row in rows:
                if self._cancel_reason:
                    break
                yield row
        except Exception as err:  # a job failed: cancelled, or Spark's own error
            if not self._cancel_reason:
                raise run_failure(err, portal.spark_sql) from err
        finally:
            timer.cancel()
            with self._lock:
                self._group = None
            if rows is not None and hasattr(rows, "close"):
                rows.close()
        if self._cancel_reason:
            raise QueryCancelled(f"canceling statement due to {self._cancel_reason}")

    def cancel(self, reason: str = "user request") -> None:
        """Cancel the running query, if any (from another thread: a cancel request, a timer).

        Jobs the query starts after the cancel are cancelled too: the group is cancelled again
        until the query has stopped."""
        with self._lock:
            if self._group is None or self._cancel_reason:
                return
            self._cancel_reason = reason
            group = self._group
        logger.info("cancelling %s: %s", group, reason)
        threading.Thread(target=self._keep_cancelling, args=(group,), daemon=True,
                         name=f"cancel-{group}").start()

    def _keep_cancelling(self, group: str) -> None:
        sc = self.endpoint.spark.sparkContext
        while True:
            sc.cancelJobGroup(group)
            with self._lock:
                if self._group != group:
                    return
            time.sleep(_RECANCEL_SECONDS)

    # -- output ------------------------------------------------------------------------------------

    def send(self, *messages: bytes, flush: bool = False) -> None:
        for m in messages:
            self.wfile.write(m)
        if flush:
            self.wfile.flush()

    def _error(self, err: Exception) -> None:
        text = str(err)
        code = "57014" if isinstance(err, QueryCancelled) else _sqlstate(text)
        if self.status == "T":
            self.status = "E"
        self.send(wire.error(code, text))

    def _fatal(self, code: str, text: str) -> bool:
        self.send(wire.error(code, text, fatal=True), flush=True)
        return False


_SQLSTATES = (("refused", "42501"), ("unknown table", "42P01"), ("unknown column", "42703"),
              ("unknown function", "42883"), ("unknown database", "3D000"),
              ("cannot parse", "42601"), ("no query", "42601"), ("unrecognized configuration",
                                                                 "42704"),
              ("current transaction is aborted", "25P02"), ("cannot translate", "0A000"),
              ("unknown dialect", "22023"), ("Spark failed", "XX000"))


def _sqlstate(text: str) -> str:
    """The SQLSTATE of an error message of the platform (42000 when none fits)."""
    return next((code for prefix, code in _SQLSTATES if text.startswith(prefix)), "42000")


def _row_description(cols: list[values.Column]) -> bytes:
    return wire.row_description([(c.name, c.oid, c.size) for c in cols])


def _options(options: str) -> dict[str, str]:
    """``-c name=value`` pairs of libpq's ``options`` start-up parameter."""
    found, words = {}, options.replace("--", "-c ").split()
    for i, word in enumerate(words):
        pair = words[i + 1] if word == "-c" and i + 1 < len(words) else (
            word[2:] if word.startswith("-c") and len(word) > 2 else "")
        name, sep, value = pair.partition("=")
        if sep:
            found[name] = value
    return found


def _parameter_numbers(query: str) -> list[int]:
    return [int(n) for n in re.findall(r"\$(\d{1,4})", query)]
