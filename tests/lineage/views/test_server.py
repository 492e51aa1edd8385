from __future__ import annotations

import gzip
import http.client
import json
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from lineage.events.run_events import DatasetRef, run_event, to_json
from lineage.store.metadata_store import MetadataStore
from lineage.views import app
from lineage.views.render import COLORS
from lineage.views.server import make_server

REPO = Path(__file__).parents[3]
INSTALL_CHROMIUM = REPO / "infra" / "ci" / "install-chromium.sh"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def server():
    """A server on a free loopback port over an empty in-memory store."""
    store = MetadataStore("sqlite://")
    httpd = make_server(store, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    store.close()


def _call(url: str, data: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) of one request; HTTP errors are answers too."""
    request = urllib.request.Request(url, data=data, headers=headers or {},
                                     method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def _post(server, event: dict | bytes, headers: dict | None = None):
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    return _call(f"{server.url}/api/v1/lineage", body,
                 {"Content-Type": "application/json", **(headers or {})})


def _get_json(url: str):
    status, headers, body = _call(url)
    assert headers["Content-Type"] == "application/json"
    return status, json.loads(body)


def test_posted_event_shows_up_in_upstream(server, tmp_path):
    source, target = str(tmp_path / "lake/bronze/orders"), str(tmp_path / "lake/silver/orders")
    event = run_event(
        "COMPLETE", namespace="lakehouse", job_name="validate_orders", run_id=str(uuid.uuid4()),
        event_time=datetime(2024, 1, 31, 6, tzinfo=UTC),
        inputs=[DatasetRef(source, table="bronze.orders", version=4)],
        outputs=[DatasetRef(target, table="silver.orders", version=2)],
    )
    status, _, body = _post(server, to_json(event).encode())
    assert (status, json.loads(body)) == (201, {"recorded": True})
    status, _, body = _post(server, to_json(event).encode())  # Marquez answers 201 to repeats too
    assert (status, json.loads(body)) == (201, {"recorded": False})

    status, graph = _get_json(f"{server.url}/api/v1/lineage/upstream?node=silver.orders")
    assert status == 200
    assert {(n["label"], n["latest_version"]) for n in graph["nodes"]} == {
        ("silver.orders", "2"), ("validate_orders", None), ("bronze.orders", "4")}
    assert graph["direction"] == "upstream" and len(graph["edges"]) == 2

    status, graph = _get_json(f"{server.url}/api/v1/lineage/downstream?node=bronze.orders&depth=0")
    assert [n["label"] for n in graph["nodes"]] == ["bronze.orders"]

    status, runs = _get_json(f"{server.url}/api/v1/runs?job=validate_orders")
    assert [(r["job"], r["state"]) for r in runs["runs"]] == [("validate_orders", "COMPLETE")]
    status, run = _get_json(f"{server.url}/api/v1/runs/{runs['runs'][0]['run_id']}")
    assert [a["version"] for a in run["inputs"]] == ["4"]

    status, events = _get_json(f"{server.url}/api/v1/events?since=2024-01-31")
    assert status == 200 and len(events["events"]) == 1
    assert events["events"][0]["run"]["runId"] == event.run.runId
    status, events = _get_json(f"{server.url}/api/v1/events?since=2024-02-01")
    assert events["events"] == []


def test_gzip_bodies_are_accepted(server, pipeline):
    status, _, _ = _post(server, gzip.compress(json.dumps(pipeline.events[0]).encode()),
                         {"Content-Encoding": "gzip"})
    assert status == 201
    assert len(server.store.events()) == 1


def test_request_bodies_are_bounded_before_and_after_gzip(server, monkeypatch):
    monkeypatch.setattr(app, "MAX_BODY", 1024)
    padded = json.dumps({"eventType": "START", "padding": "x" * 4096}).encode()
    status, _, answer = _post(server, padded)
    assert status == 400
    assert f"request body of {len(padded)} bytes is over the 1024 limit" in json.loads(answer)["error"]
    squeezed = gzip.compress(padded)
    assert len(squeezed) < 1024  # small on the wire, too big once decompressed
    status, _, answer = _post(server, squeezed, {"Content-Encoding": "gzip"})
    assert status == 400 and "once decompressed" in json.loads(answer)["error"]
    status, _, answer = _post(server, b"{}", {"Content-Encoding": "gzip"})
    assert status == 400
    assert "Content-Encoding is gzip but the body is not" in json.loads(answer)["error"]
    assert server.store.events() == []


def test_posts_on_a_kept_alive_connection_do_not_wait_for_delayed_acks(server, pipeline):
    """Nagle's algorithm on the server made each answer wait ~40 ms for the client's ACK."""
    connection = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=10)
    bodies = [json.dumps(event).encode() for event in pipeline.events]
    try:
        started = time.perf_counter()
        for body in bodies:
            connection.request("POST", "/api/v1/lineage", body,
                               {"Content-Type": "application/json"})
            response = connection.getresponse()
            assert (response.status, response.read()) == (201, b'{"recorded": true}')
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
    assert elapsed < 0.02 * len(bodies), f"{len(bodies)} events took {elapsed:.2f} s"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "request body is not JSON"),
        (b'{"eventType": "START"}', "records run events only"),
        (b'{"run": {"runId": "r"}, "job": {"namespace": "n"}, "eventTime": "2024-01-31"}',
         "job.name is missing"),
        (b"", "empty request body"),
    ],
)
def test_bad_events_get_400_with_a_json_error(server, body, message):
    status, headers, answer = _post(server, body)
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert message in json.loads(answer)["error"]
    assert server.store.events() == []


def test_query_errors_say_what_is_wrong(server, pipeline):
    for event in pipeline.events:
        assert _post(server, event)[0] == 201
    status, error = _get_json(f"{server.url}/api/v1/lineage/upstream?node=nope.table")
    assert status == 404 and "unknown lineage node 'nope.table'" in error["error"]
    status, error = _get_json(f"{server.url}/api/v1/lineage/upstream")
    assert status == 400 and "query parameter 'node' is required" in error["error"]
    status, error = _get_json(f"{server.url}/api/v1/lineage/upstream?node=silver.orders&depth=x")
    assert status == 400 and "depth must be a whole number" in error["error"]
    status, error = _get_json(f"{server.url}/api/v1/events?since=yesterday")
    assert status == 400 and "not an ISO-8601 date" in error["error"]
    status, error = _get_json(f"{server.url}/api/v1/runs/no-such-run")
    assert status == 404 and "no run 'no-such-run'" in error["error"]
    status, error = _get_json(f"{server.url}/api/v1/nothing")
    assert status == 404 and error["error"] == "no such endpoint: GET /api/v1/nothing"
    slashed = _get_json(f"{server.url}/api/v1/runs/")  # a trailing slash is the same path
    assert slashed == _get_json(f"{server.url}/api/v1/runs") and slashed[0] == 200
    status, headers, _ = _call(f"{server.url}/api/v1/lineage")
    assert status == 405 and headers["Allow"] == "POST"


def test_graph_page_and_index(server, pipeline):
    for event in pipeline.events:
        _post(server, event)
    status, headers, body = _call(f"{server.url}/graph?node={quote('warehouse.fact_orders')}")
    page = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    for label in ("bronze.orders", "silver.orders", "warehouse.fact_orders", "validate_orders"):
        assert f'"title": "{label}"' in page
    status, _, body = _call(f"{server.url}/graph?node=nope")
    assert status == 404 and b"unknown lineage node" in body
    status, _, body = _call(f"{server.url}/")
    assert status == 200 and b'href="/graph?node=warehouse.fact_orders"' in body


# ------------------------------------------------------------------ in a real browser


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed by infra/ci/install-chromium.sh when missing."""
    if not Path(CHROMIUM).exists():
        result = subprocess.run(["bash", str(INSTALL_CHROMIUM)], capture_output=True, text=True,
                                check=False, timeout=1200)
        if result.returncode != 0 or not Path(CHROMIUM).exists():
            pytest.fail(f"{INSTALL_CHROMIUM} could not install chromium (exit "
                        f"{result.returncode}): {result.stderr[-2000:]}")
    return CHROMIUM


def _browse(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
               "--virtual-time-budget=5000", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=90)


@pytest.fixture
def graph_server(loaded):
    httpd = make_server(loaded, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_browser_draws_the_graph_page(chromium, graph_server, loaded, pipeline, tmp_path):
    url = f"{graph_server.url}/graph?node=warehouse.fact_orders&direction=upstream"
    dumped = _browse(chromium, tmp_path / "profile", "--dump-dom", url)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    assert 'data-rendered="true"' in dom  # the script ran to the end
    assert '<svg id="lineage-graph"' in dom
    drawn = {node_id: kind for kind, node_id in
             re.findall(r'<g class="node (dataset|job)[^"]*" data-id="([^"]+)"', dom)}
    assert drawn == {
        f"dataset:file://{pipeline.table('bronze', 'orders')}": "dataset",
        f"dataset:file://{pipeline.table('silver', 'orders')}": "dataset",
        f"dataset:file://{pipeline.root / 'warehouse' / 'fact_orders'}": "dataset",
        f"dataset:file://{pipeline.landing}": "dataset",
        "job:bronze_orders": "job", "job:validate_orders": "job",
        "job:warehouse_fact_orders": "job",
    }
    assert len(re.findall(r'<g class="edge[^"]*" data-source=', dom)) == 6
    assert "4 datasets, 3 jobs, 6 edges" in dom
    assert re.search(r'class="node dataset dataset-failed" data-id="[^"]*/bronze/orders"', dom)

    shot = tmp_path / "graph.png"
    taken = _browse(chromium, tmp_path / "profile", "--window-size=1280,800",
                    f"--screenshot={shot}", url)
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.stat().st_size > 10_000
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1280, 800)
        colors = {rgb for _, rgb in image.convert("RGB").getcolors(maxcolors=1 << 20)}
    fill = COLORS["dataset-failed"][0]
    red = tuple(int(fill[i:i + 2], 16) for i in (1, 3, 5))
    assert red in colors  # bronze.orders, whose quality check failed, is on screen in red
    assert len(colors) > 50  # text and shapes, not a blank page
