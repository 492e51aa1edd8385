"""A lineage HTTP server on loopback: Marquez's event endpoint, JSON queries, graph pages.

    POST /api/v1/lineage                      an OpenLineage run event, as Marquez takes it:
                                              201 when recorded (or already there), 400 with
                                              {"error": ...} for bad JSON or a bad event
    GET  /api/v1/lineage/upstream?node=N&depth=D&as_of=T
    GET  /api/v1/lineage/downstream?node=N&depth=D&as_of=T
    GET  /api/v1/runs?job=J&context=C         runs (executions), oldest first
    GET  /api/v1/runs/<run id>                one run with the dataset versions it read and wrote
    GET  /api/v1/events?since=T               the stored OpenLineage events, oldest first
    GET  /graph?node=N&direction=both&depth=D the HTML page drawing the node's lineage
    GET  /                                    an index of the tables and jobs, linking to graphs

So the Airflow OpenLineage provider or openlineage-spark can send here with an HTTP transport
(``url: http://127.0.0.1:5055``, endpoint ``api/v1/lineage``). There is no authentication: keep
it on loopback (the default) or behind something that adds it.

The stdlib :class:`ThreadingHTTPServer` serves; :func:`make_server` builds one for tests (port 0
picks a free port) and :func:`serve` runs one until interrupted.
"""

from __future__ import annotations

import functools
import gzip
import html
import ipaddress
import json
import logging
import re
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from lineage.errors import (
    BadRequest,
    InvalidEventError,
    LineageError,
    StoreUnavailableError,
    UnknownNodeError,
    UnknownRunError,
)
from lineage.queries.graph import DIRECTIONS, neighbourhood
from lineage.queries.times import parse_moment
from lineage.store.metadata_store import MetadataStore
from lineage.views.json_data import jsonable, to_dict
from lineage.views.render import dataset_quality, to_html

log = logging.getLogger(__name__)

API = "/api/v1"
MAX_BODY = 16 * 1024 * 1024
_RUN_PATH = re.compile(r"^/api/v1/runs/(?P<run_id>[^/]+)$")


class LineageServer(ThreadingHTTPServer):
    """An HTTP server answering from one :class:`MetadataStore`."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: MetadataStore, *, owns_store: bool):
        self.store = store
        self._owns_store = owns_store
        super().__init__(address, LineageHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}"

    def server_close(self) -> None:
        super().server_close()
        if self._owns_store:
            self.store.close()


def make_server(
    store: MetadataStore | str, host: str = "127.0.0.1", port: int = 0
) -> LineageServer:
    """A server bound to ``host:port`` (0: a free port; see ``.url``), not yet serving.

    ``store`` is an open store or a SQLAlchemy URL (the server then opens and closes it).
    """
    if not _is_loopback(host):
        log.warning("lineage server on %s: it has no authentication, anyone who can reach the "
                    "port can read and write lineage", host)
    owns = isinstance(store, str)
    opened = MetadataStore(store) if isinstance(store, str) else store
    try:
        return LineageServer((host, port), opened, owns_store=owns)
    except OSError:
        if owns:
            opened.close()
        raise


def serve(store_url: str, host: str = "127.0.0.1", port: int = 5055) -> None:
    """Serve the store at ``store_url`` on ``host:port`` until interrupted (Ctrl-C)."""
    server = make_server(store_url, host, port)
    log.info("lineage server on %s for %s", server.url, server.store.safe_url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


class LineageHandler(BaseHTTPRequestHandler):
    server: LineageServer
    server_version = "lakehouse-lineage/1"
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle's algorithm on, the body waited for the
    # client's delayed ACK of the headers (40 ms a request: 20 events/s through POST).
    disable_nagle_algorithm = True

    # ------------------------------------------------------------ dispatch

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.info("%s " + format, self.address_string(), *args)

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path.rstrip("/") or "/", parse_qs(parts.query)
        routes = {
            ("POST", f"{API}/lineage"): self._post_event,
            ("GET", f"{API}/lineage/upstream"): lambda q: self._graph_json("upstream", q),
            ("GET", f"{API}/lineage/downstream"): lambda q: self._graph_json("downstream", q),
            ("GET", f"{API}/runs"): self._runs,
            ("GET", f"{API}/events"): self._events,
            ("GET", "/graph"): self._graph_page,
            ("GET", "/"): self._index,
        }
        handler = routes.get((method, path))
        run = _RUN_PATH.match(path)
        if handler is None and method == "GET" and run:
            handler = functools.partial(self._run, run.group("run_id"))
        try:
            if handler is None:
                allowed = sorted(m for m, p in routes if p == path)
                if allowed:
                    self._error(HTTPStatus.METHOD_NOT_ALLOWED,
                                f"{method} is not allowed on {path}; use {', '.join(allowed)}",
                                headers={"Allow": ", ".join(allowed)})
                else:
                    self._error(HTTPStatus.NOT_FOUND, f"no such endpoint: {method} {path}")
                return
            handler(query)
        except (UnknownNodeError, UnknownRunError) as err:
            self._error(HTTPStatus.NOT_FOUND, str(err), html_page=path == "/graph")
        except (BadRequest, InvalidEventError) as err:
            self._error(HTTPStatus.BAD_REQUEST, str(err), html_page=path == "/graph")
        except StoreUnavailableError as err:
            self._error(HTTPStatus.SERVICE_UNAVAILABLE, str(err))
        except LineageError as err:  # QueryError and friends: the request asked for the impossible
            self._error(HTTPStatus.BAD_REQUEST, str(err), html_page=path == "/graph")
        except Exception:
            log.exception("lineage server: %s %s failed", method, self.path)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR,
                        "internal error; the server log has the traceback")

    # ------------------------------------------------------------ endpoints

    def _post_event(self, _query: dict[str, list[str]]) -> None:
        body = self._body()
        try:
            event = json.loads(body)
        except (UnicodeDecodeError, ValueError) as err:
            raise BadRequest(f"request body is not JSON: {err}") from err
        recorded = self.server.store.ingest(event)
        self._json(HTTPStatus.CREATED, {"recorded": recorded})

    def _graph_json(self, direction: str, query: dict[str, list[str]]) -> None:
        graph = neighbourhood(self.server.store, _required(query, "node"), direction=direction,
                              depth=_depth(query), as_of=_as_of(query))
        self._json(HTTPStatus.OK, to_dict(graph))

    def _runs(self, query: dict[str, list[str]]) -> None:
        runs = self.server.store.executions(job=_optional(query, "job"),
                                            context=_optional(query, "context"))
        self._json(HTTPStatus.OK, {"runs": jsonable(runs)})

    def _run(self, run_id: str, _query: dict[str, list[str]]) -> None:
        self._json(HTTPStatus.OK, jsonable(self.server.store.run(run_id)))

    def _events(self, query: dict[str, list[str]]) -> None:
        since = _optional(query, "since")
        moment = parse_moment(since, name="since") if since else None
        self._json(HTTPStatus.OK, {"events": self.server.store.events(moment)})

    def _graph_page(self, query: dict[str, list[str]]) -> None:
        direction = _optional(query, "direction") or "both"
        if direction not in DIRECTIONS:
            raise BadRequest(f"direction must be one of {', '.join(DIRECTIONS)}, "
                             f"got {direction!r}")
        store = self.server.store
        graph = neighbourhood(store, _required(query, "node"), direction=direction,
                              depth=_depth(query), as_of=_as_of(query))
        self._send(HTTPStatus.OK, to_html(graph, dataset_quality(store, graph)).encode(),
                   "text/html; charset=utf-8")

    def _index(self, _query: dict[str, list[str]]) -> None:
        store = self.server.store
        tables = sorted({t for d in store.datasets().values() for t in d.tables})
        jobs = sorted(store.jobs())

        def items(names: list[str]) -> str:
            return "".join(
                f'<li><a href="/graph?node={quote(n, safe="")}">{html.escape(n)}</a></li>'
                for n in names
            ) or "<li>none recorded yet</li>"

        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            "<title>Lineage</title></head><body style=\"font-family: sans-serif\">"
            "<h1>Lineage</h1><p>Pick a table or job to see its lineage graph. JSON: "
            f"<code>{API}/lineage/upstream?node=…</code>, <code>{API}/runs</code>, "
            f"<code>{API}/events</code>.</p>"
            f"<h2>Tables</h2><ul>{items(tables)}</ul><h2>Jobs</h2><ul>{items(jobs)}</ul>"
            "</body></html>"
        )
        self._send(HTTPStatus.OK, page.encode(), "text/html; charset=utf-8")

    # ------------------------------------------------------------ plumbing

    def _body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as err:
            raise BadRequest("Content-Length is not a number") from err
        if length <= 0:
            raise BadRequest("empty request body: POST one OpenLineage run event as JSON")
        if length > MAX_BODY:
            raise BadRequest(f"request body of {length} bytes is over the {MAX_BODY} limit")
        body = self.rfile.read(length)
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError) as err:
                raise BadRequest(f"Content-Encoding is gzip but the body is not: {err}") from err
        return body

    def _json(self, status: HTTPStatus, payload: Any) -> None:
        self._send(status, json.dumps(payload, default=str).encode(), "application/json")

    def _error(self, status: HTTPStatus, message: str, *, html_page: bool = False,
               headers: dict[str, str] | None = None) -> None:
        if html_page:
            page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
                    f"{status.value} {status.phrase}</title></head><body><h1>{status.phrase}</h1>"
                    f"<p>{html.escape(message)}</p><p><a href=\"/\">all tables and jobs</a></p>"
                    "</body></html>")
            self._send(status, page.encode(), "text/html; charset=utf-8", headers)
        else:
            self._send(status, json.dumps({"error": message, "status": status.value}).encode(),
                       "application/json", headers)

    def _send(self, status: HTTPStatus, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status >= HTTPStatus.BAD_REQUEST:
            # The request body may be unread: do not let it leak into a next request.
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)


def _optional(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values and values[-1] != "" else None


def _required(query: dict[str, list[str]], name: str) -> str:
    value = _optional(query, name)
    if value is None:
        raise BadRequest(f"query parameter {name!r} is required, e.g. ?{name}=warehouse.fact_orders")
    return value


def _depth(query: dict[str, list[str]]) -> int | None:
    value = _optional(query, "depth")
    if value is None:
        return None
    if not value.isdigit():
        raise BadRequest(f"depth must be a whole number of jobs >= 0, got {value!r}")
    return int(value)


def _as_of(query: dict[str, list[str]]) -> datetime | None:
    value = _optional(query, "as_of")
    return parse_moment(value, end_of_day=True, name="as_of") if value else None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
