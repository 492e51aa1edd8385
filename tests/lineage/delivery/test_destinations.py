"""Transports from settings: store, file, console, HTTP or several; an HTTP outage spools and
replay delivers every event once."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import timedelta

import pytest

from lake.config.settings import load_settings
from lake.errors import ConfigError
from lineage.delivery.destinations import http_spool_dir, parse_transports
from lineage.delivery.emitter import emit_safely, make_client
from lineage.delivery.replay import replay_all
from lineage.delivery.spool import spooled
from lineage.errors import TransportConfigError
from lineage.events.run_events import DatasetRef, run_event
from lineage.store.metadata_store import MetadataStore
from lineage.views.server import make_server
from tests.databases import free_port
from tests.lineage.conftest import T0, validate


@pytest.fixture(autouse=True)
def _no_ambient_openlineage_config(monkeypatch, tmp_path):
    monkeypatch.delenv("OPENLINEAGE_DISABLED", raising=False)
    monkeypatch.delenv("OPENLINEAGE_CONFIG", raising=False)
    monkeypatch.delenv("OPENLINEAGE_URL", raising=False)
    monkeypatch.chdir(tmp_path)


def _run_events(tmp_path, runs: int) -> list:
    events = []
    for index in range(runs):
        common = {"namespace": "lakehouse", "job_name": "bronze_orders",
                  "run_id": str(uuid.uuid4())}
        out = DatasetRef(str(tmp_path / "lake" / "bronze" / "orders"), table="bronze.orders",
                         version=index + 1, row_count=10)
        events.append(run_event("START", event_time=T0 + timedelta(minutes=index), **common))
        events.append(run_event("COMPLETE", event_time=T0 + timedelta(minutes=index, seconds=30),
                                outputs=[out], **common))
    return events


@pytest.mark.parametrize(("text", "expected"), [
    ("store", ("store",)),
    ("store, file:/tmp/ol.ndjson", ("store", "file")),
    ("console,http://127.0.0.1:5000", ("console", "http")),
    ("none", ("none",)),
])
def test_transport_settings_parse(text, expected):
    assert tuple(d.kind for d in parse_transports(text)) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("kafka", "'kafka' is not a lineage transport: use store, console"),
    ("store,,console", "empty destination between commas"),
    ("file:", "has no path: write file:/path/to/events.ndjson"),
    ("http://", "has no host"),
    ("none,store", "combines none with other destinations"),
    ("store,store", "names a destination twice"),
])
def test_a_bad_transport_setting_names_the_setting_and_the_fix(text, message):
    with pytest.raises(ConfigError) as info:
        load_settings(env={"LAKEHOUSE_LINEAGE_TRANSPORT": text})
    assert "LAKEHOUSE_LINEAGE_TRANSPORT" in str(info.value)
    assert message in str(info.value)
    with pytest.raises(TransportConfigError, match="lineage transport"):
        make_client("sqlite://", "/tmp/spool", text)


def test_store_and_file_at_once_get_every_event(tmp_path):
    url, ndjson = f"sqlite:///{tmp_path / 'lineage.db'}", tmp_path / "out" / "events.ndjson"
    ndjson.parent.mkdir()
    client = make_client(url, tmp_path / "spool", f"store,file:{ndjson}")
    events = _run_events(tmp_path, 3)
    for event in events:
        emit_safely(client, event)
    lines = [json.loads(line) for line in ndjson.read_text().splitlines()]
    assert [e["eventType"] for e in lines] == ["START", "COMPLETE"] * 3
    store = MetadataStore(url)
    assert len(store.events()) == 6
    store.close()
    result = validate({"file": lines}, tmp_path)
    assert result.returncode == 0, result.stdout


def test_console_transport_logs_each_event(tmp_path, caplog):
    client = make_client("sqlite://", tmp_path / "spool", "console")
    with caplog.at_level(logging.INFO, logger="openlineage.client.transport.console"):
        emit_safely(client, _run_events(tmp_path, 1)[0])
    assert '"eventType": "START"' in caplog.text or '"eventType":"START"' in caplog.text


def test_none_emits_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    client = make_client(url, tmp_path / "spool", "none")
    emit_safely(client, _run_events(tmp_path, 1)[0])
    assert not (tmp_path / "lineage.db").exists() and not (tmp_path / "spool").exists()


def test_http_outage_spools_and_replay_delivers_each_event_once(tmp_path, caplog, store):
    """The endpoint is our lineage server in front of a store on each of the four backends."""
    port = free_port()  # nothing listens there yet: the endpoint is down
    endpoint = f"http://127.0.0.1:{port}"
    spool = tmp_path / "spool"
    client = make_client("sqlite://", spool, endpoint)
    events = _run_events(tmp_path, 10)
    with caplog.at_level(logging.WARNING, logger="lineage.delivery.spooling_transport"):
        for event in events:
            emit_safely(client, event)  # the job goes on
    waiting = http_spool_dir(spool, endpoint)
    assert len(spooled(waiting)) == 20
    assert f"lineage endpoint http://127.0.0.1:{port} unavailable" in caplog.text

    server = make_server(store, "127.0.0.1", port)  # the endpoint comes back
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        delivered = replay_all(endpoint, store_url="sqlite://", spool_dir=spool)
        assert delivered == {endpoint: 20}
        assert spooled(waiting) == []
        assert replay_all(endpoint, store_url="sqlite://", spool_dir=spool) == {endpoint: 0}
        stored = store.events()
        assert len(stored) == 20
        assert {e["run"]["runId"] for e in stored} == {e.run.runId for e in events}
        assert {r.state for r in store.executions(job="bronze_orders")} == {"COMPLETE"}
        # A later emit goes straight through; a duplicate delivery is recorded once.
        emit_safely(client, events[0])
        assert len(store.events()) == 20
    finally:
        server.shutdown()
        server.server_close()


def test_the_next_emit_delivers_what_an_outage_spooled(tmp_path):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}/api/v1/lineage"
    client = make_client("sqlite://", tmp_path / "spool", endpoint)
    first, second, third, fourth = _run_events(tmp_path, 2)
    emit_safely(client, first)
    emit_safely(client, second)
    store = MetadataStore("sqlite://")
    server = make_server(store, "127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        emit_safely(client, third)
        emit_safely(client, fourth)
        assert [e["eventType"] for e in store.events()] == ["START", "COMPLETE"] * 2
        assert spooled(http_spool_dir(tmp_path / "spool", endpoint)) == []
    finally:
        server.shutdown()
        server.server_close()
        store.close()
