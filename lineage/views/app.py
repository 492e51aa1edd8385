"""The lineage web app (Starlette): Marquez's event endpoint, JSON queries, graph pages.

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

Errors are ``{"error": message, "status": code}`` (an HTML page on ``/graph``): 400 for a bad
request or event, 404 for an unknown node, run or endpoint, 405 (with ``Allow``) for a wrong
method, 503 when the store is down, 500 (details in the server log) for anything else. Request
bodies may be gzip-compressed (``Content-Encoding: gzip``) and are at most :data:`MAX_BODY` bytes,
compressed or not. Store work runs in Starlette's thread pool, off the event loop.
"""

from __future__ import annotations

import html
import inspect
import json
import logging
import zlib
from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

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
"""The largest request body taken, in bytes, before and after gzip decompression."""
_HTML = "text/html; charset=utf-8"

Handler = Callable[[Request], Any]


def create_app(store: MetadataStore) -> ASGIApp:
    """The ASGI app answering from ``store`` (which the caller opens and closes)."""
    routes = [
        _route(f"{API}/lineage", _post_event, "POST"),
        _route(f"{API}/lineage/upstream", lambda r: _graph_json("upstream", r)),
        _route(f"{API}/lineage/downstream", lambda r: _graph_json("downstream", r)),
        _route(f"{API}/runs", _runs),
        _route(f"{API}/runs/{{run_id}}", _run),
        _route(f"{API}/events", _events),
        _route("/graph", _graph_page, html_errors=True),
        _route("/", _index),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _routing_error})
    app.router.redirect_slashes = False  # /graph/ is /graph (below), not a redirect to it
    app.state.store = store
    return _TrailingSlashes(app)


# ------------------------------------------------------------------ endpoints


async def _post_event(request: Request) -> Response:
    body = await _body(request)
    try:
        event = json.loads(body)
    except (UnicodeDecodeError, ValueError) as err:
        raise BadRequest(f"request body is not JSON: {err}") from err
    recorded = await run_in_threadpool(_store(request).ingest, event)
    return _json(HTTPStatus.CREATED, {"recorded": recorded})


def _graph_json(direction: str, request: Request) -> Response:
    graph = neighbourhood(_store(request), _required(request, "node"), direction=direction,
                          depth=_depth(request), as_of=_as_of(request))
    return _json(HTTPStatus.OK, to_dict(graph))


def _runs(request: Request) -> Response:
    runs = _store(request).executions(job=_optional(request, "job"),
                                      context=_optional(request, "context"))
    return _json(HTTPStatus.OK, {"runs": jsonable(runs)})


def _run(request: Request) -> Response:
    return _json(HTTPStatus.OK, jsonable(_store(request).run(request.path_params["run_id"])))


def _events(request: Request) -> Response:
    since = _optional(request, "since")
    moment = parse_moment(since, name="since") if since else None
    return _json(HTTPStatus.OK, {"events": _store(request).events(moment)})


def _graph_page(request: Request) -> Response:
    direction = _optional(request, "direction") or "both"
    if direction not in DIRECTIONS:
        raise BadRequest(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    store = _store(request)
    graph = neighbourhood(store, _required(request, "node"), direction=direction,
                          depth=_depth(request), as_of=_as_of(request))
    return Response(to_html(graph, dataset_quality(store, graph)), media_type=_HTML)


def _index(request: Request) -> Response:
    store = _store(request)
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
    return Response(page, media_type=_HTML)


# ------------------------------------------------------------------ plumbing


def _route(path: str, handler: Handler, method: str = "GET", *, html_errors: bool = False
           ) -> Route:
    """``handler`` at ``path``, its errors answered as the API's error bodies. A plain function
    runs in the thread pool (the store blocks); a coroutine function on the event loop."""
    is_async = inspect.iscoroutinefunction(handler)

    async def endpoint(request: Request) -> Response:
        try:
            if is_async:
                return await handler(request)
            return await run_in_threadpool(handler, request)
        except (UnknownNodeError, UnknownRunError) as err:
            return _error(HTTPStatus.NOT_FOUND, str(err), html_page=html_errors)
        except (BadRequest, InvalidEventError) as err:
            return _error(HTTPStatus.BAD_REQUEST, str(err), html_page=html_errors)
        except StoreUnavailableError as err:
            return _error(HTTPStatus.SERVICE_UNAVAILABLE, str(err))
        except LineageError as err:  # QueryError and friends: the request asked the impossible
            return _error(HTTPStatus.BAD_REQUEST, str(err), html_page=html_errors)
        except Exception:
            log.exception("lineage server: %s %s failed", request.method, request.url.path)
            return _error(HTTPStatus.INTERNAL_SERVER_ERROR,
                          "internal error; the server log has the traceback")

    return Route(path, endpoint, methods=[method])


async def _routing_error(request: Request, exc: Exception) -> Response:
    """No route for the path (404), or not for this method (405, with ``Allow``)."""
    assert isinstance(exc, HTTPException)
    method, path = request.method, request.url.path
    if exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
        allowed = (exc.headers or {}).get("Allow", "")
        return _error(HTTPStatus.METHOD_NOT_ALLOWED,
                      f"{method} is not allowed on {path}; use {allowed}",
                      headers={"Allow": allowed})
    if exc.status_code == HTTPStatus.NOT_FOUND:
        return _error(HTTPStatus.NOT_FOUND, f"no such endpoint: {method} {path}")
    return _error(HTTPStatus(exc.status_code), str(exc.detail), headers=exc.headers)


class _TrailingSlashes:
    """``/graph/`` answers as ``/graph``: paths are matched without their trailing slash."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            scope = {**scope, "path": path.rstrip("/") or "/"}
        await self.app(scope, receive, send)


async def _body(request: Request) -> bytes:
    """The request body, gunzipped if it says so; :class:`BadRequest` when empty or too big."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError as err:
            raise BadRequest("Content-Length is not a number") from err
        if length > MAX_BODY:
            raise BadRequest(f"request body of {length} bytes is over the {MAX_BODY} limit")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise BadRequest(f"request body is over the {MAX_BODY} byte limit")
    if not body:
        raise BadRequest("empty request body: POST one OpenLineage run event as JSON")
    if request.headers.get("content-encoding", "").lower() == "gzip":
        return _gunzip(bytes(body))
    return bytes(body)


def _gunzip(body: bytes) -> bytes:
    """Decompress every gzip member of ``body``, refusing more than :data:`MAX_BODY` bytes out."""
    out = bytearray()
    rest = body
    try:
        while rest:
            member = zlib.decompressobj(wbits=31)
            out += member.decompress(rest, MAX_BODY + 1 - len(out))
            if len(out) > MAX_BODY or member.unconsumed_tail:
                raise BadRequest(f"request body is over the {MAX_BODY} byte limit once "
                                 "decompressed")
            if not member.eof:
                raise BadRequest("Content-Encoding is gzip but the body is not: it is cut short")
            rest = member.unused_data
    except zlib.error as err:
        raise BadRequest(f"Content-Encoding is gzip but the body is not: {err}") from err
    return bytes(out)


def _store(request: Request) -> MetadataStore:
    return request.app.state.store


def _json(status: HTTPStatus, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload, default=str), status_code=status,
                    media_type="application/json", headers=headers)


def _error(status: HTTPStatus, message: str, *, html_page: bool = False,
           headers: dict[str, str] | None = None) -> Response:
    if not html_page:
        return _json(status, {"error": message, "status": status.value}, headers)
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
            f"{status.value} {status.phrase}</title></head><body><h1>{status.phrase}</h1>"
            f"<p>{html.escape(message)}</p><p><a href=\"/\">all tables and jobs</a></p>"
            "</body></html>")
    return Response(page, status_code=status, media_type=_HTML, headers=headers)


def _optional(request: Request, name: str) -> str | None:
    values = [v for v in request.query_params.getlist(name) if v != ""]
    return values[-1] if values else None


def _required(request: Request, name: str) -> str:
    value = _optional(request, name)
    if value is None:
        raise BadRequest(f"query parameter {name!r} is required, e.g. ?{name}=warehouse.fact_orders")
    return value


def _depth(request: Request) -> int | None:
    value = _optional(request, "depth")
    if value is None:
        return None
    if not value.isdigit():
        raise BadRequest(f"depth must be a whole number of jobs >= 0, got {value!r}")
    return int(value)


def _as_of(request: Request) -> datetime | None:
    value = _optional(request, "as_of")
    return parse_moment(value, end_of_day=True, name="as_of") if value else None

