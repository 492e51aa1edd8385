from __future__ import annotations

import json
import logging
import uuid

import pytest
from openlineage.client import OpenLineageClient
from sqlalchemy import create_engine, func, select

from lineage.delivery.destinations import SPOOLING_TRANSPORT, client_config
from lineage.delivery.emitter import emit_safely, make_client
from lineage.delivery.replay import replay_spool
from lineage.delivery.spool import REJECTED, spooled
from lineage.delivery.spooling_transport import SpoolingConfig, SpoolingTransport
from lineage.errors import StoreUnavailableError, TransportConfigError
from lineage.events.run_events import DatasetRef, run_event, to_json
from lineage.store import schema
from lineage.store.metadata_store import MetadataStore
from tests.lineage.conftest import T0, validate


@pytest.fixture(autouse=True)
def _no_ambient_openlineage_config(monkeypatch, tmp_path):
    """openlineage-python reads OPENLINEAGE_* variables and ./openlineage.yml; ignore the host's."""
    monkeypatch.delenv("OPENLINEAGE_DISABLED", raising=False)
    monkeypatch.delenv("OPENLINEAGE_CONFIG", raising=False)
    monkeypatch.delenv("OPENLINEAGE_URL", raising=False)
    monkeypatch.chdir(tmp_path)


def _events(tmp_path):
    run_id = str(uuid.uuid4())
    common = {"namespace": "lakehouse", "job_name": "bronze_orders", "run_id": run_id}
    out = str(tmp_path / "lake" / "bronze" / "orders")
    return [
        run_event("START", event_time=T0, **common, outputs=[DatasetRef(out)]),
        run_event("COMPLETE", event_time=T0, **common,
                  outputs=[DatasetRef(out, table="bronze.orders", version=1, row_count=3)]),
    ]


def _to_store(url: str, spool) -> SpoolingTransport:
    return SpoolingTransport(SpoolingConfig(spool_dir=str(spool), store_url=url))


def _ol_events(url: str) -> int:
    with create_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.ol_event)).scalar_one()


def test_unwritable_store_spools_then_replays_without_duplicates(tmp_path, caplog):
    home = tmp_path / "home"  # does not exist yet: SQLite cannot create the database file
    url, spool = f"sqlite:///{home / 'lineage.db'}", tmp_path / "spool"
    transport = _to_store(url, spool)
    start, complete = _events(tmp_path)
    with caplog.at_level(logging.WARNING, logger="lineage.delivery.spooling_transport"):
        transport.emit(start)
        transport.emit(complete)
        transport.emit(complete)  # a retried emit: spooled twice, recorded once
    assert len(spooled(spool)) == 3
    assert "lineage store unavailable" in caplog.text and str(spool) in caplog.text
    with pytest.raises(StoreUnavailableError):
        replay_spool(url, spool)  # still down: nothing lost
    assert len(spooled(spool)) == 3

    home.mkdir()  # the store comes back; the next emit replays the spool first
    later = run_event("START", namespace="lakehouse", job_name="silver_orders",
                      run_id=str(uuid.uuid4()), event_time=T0)
    transport.emit(later)
    assert spooled(spool) == []
    assert _ol_events(url) == 3
    store = MetadataStore(url)
    (bronze,) = store.executions(job="bronze_orders")
    assert bronze.state == "COMPLETE"
    assert replay_spool(url, spool) == 0
    assert _ol_events(url) == 3
    transport.close()
    store.close()


def test_replay_spool_drains_into_the_store_and_sets_aside_invalid_events(tmp_path):
    url, spool = f"sqlite:///{tmp_path / 'lineage.db'}", tmp_path / "spool"
    down = _to_store(f"sqlite:///{tmp_path / 'missing' / 'x.db'}", spool)
    for event in _events(tmp_path):
        down.emit(event)
    (spool / "00000000000000000000-broken.json").write_text("{not json")
    assert replay_spool(url, spool) == 2
    assert spooled(spool) == []
    assert [p.name for p in (spool / REJECTED).iterdir()] == ["00000000000000000000-broken.json"]
    assert _ol_events(url) == 2


def test_an_invalid_event_is_kept_aside_not_retried(tmp_path, caplog):
    url, spool = f"sqlite:///{tmp_path / 'lineage.db'}", tmp_path / "spool"
    transport = _to_store(url, spool)
    with caplog.at_level(logging.WARNING, logger="lineage.delivery.spooling_transport"):
        transport.emit({"eventTime": T0.isoformat(), "dataset": {"namespace": "f", "name": "x"}})
    assert spooled(spool) == []
    assert len(list((spool / REJECTED).glob("*.json"))) == 1
    assert "records run events only" in caplog.text


def test_client_built_from_config_writes_valid_events_into_the_store(tmp_path):
    url, spool = f"sqlite:///{tmp_path / 'lineage.db'}", tmp_path / "spool"
    config = client_config("store", store_url=url, spool_dir=spool)
    assert config == {"type": SPOOLING_TRANSPORT, "store_url": url, "spool_dir": str(spool)}
    client = OpenLineageClient(config={"transport": config})
    assert isinstance(client.transport, SpoolingTransport)
    for event in _events(tmp_path):
        client.emit(event)
    store = MetadataStore(url)
    served = store.events()
    assert [e["eventType"] for e in served] == ["START", "COMPLETE"]
    # openlineage-python adds a run "tags" facet on emit; the stored events must stay valid.
    assert "tags" in served[0]["run"]["facets"]
    result = validate({"stored": served}, tmp_path)
    assert result.returncode == 0, result.stdout
    store.close()


def test_make_client_and_emit_safely_never_fail_the_job(tmp_path, caplog):
    spool = tmp_path / "spool"
    client = make_client(f"sqlite:///{tmp_path / 'nowhere' / 'lineage.db'}", spool)
    start, _ = _events(tmp_path)
    emit_safely(client, start)
    assert len(spooled(spool)) == 1
    with caplog.at_level(logging.WARNING, logger="lineage.delivery.emitter"):
        emit_safely(client, {"not": "an event"})  # the client itself raises on this
    assert "could not emit lineage event" in caplog.text


@pytest.mark.parametrize(("config", "message"), [
    ({"store_url": "sqlite://"}, "needs spool_dir in its transport config"),
    ({"spool_dir": "/tmp/spool"}, "needs exactly one of store_url and transport"),
    ({"spool_dir": "/tmp/spool", "store_url": "sqlite://", "transport": {"type": "console"}},
     "needs exactly one of store_url and transport"),
    ({"spool_dir": "/tmp/spool", "transport": "http://127.0.0.1:5055"},
     "transport must be the inner transport's config"),
])
def test_a_bad_config_says_what_to_write(config, message):
    assert SpoolingTransport.__module__ + ".SpoolingTransport" == SPOOLING_TRANSPORT
    with pytest.raises(TransportConfigError, match=message):
        OpenLineageClient(config={"transport": {"type": SPOOLING_TRANSPORT, **config}})


def test_spooled_files_are_whole_json_events(tmp_path):
    spool = tmp_path / "spool"
    transport = _to_store("not a url", spool)
    start, _ = _events(tmp_path)
    transport.emit(start)
    (path,) = spooled(spool)
    assert json.loads(path.read_text())["eventType"] == "START"
    assert not list(spool.glob(".*.tmp"))


def test_replay_can_drain_in_bounded_steps(tmp_path):
    from lineage.delivery.replay import replay
    from lineage.delivery.spool import spool_event

    spool = tmp_path / "spool"
    for event in _events(tmp_path):
        spool_event(spool, json.loads(to_json(event)))
    store = MetadataStore("sqlite://")
    assert replay(store, spool, limit=1) == 1
    assert [e["eventType"] for e in store.events()] == ["START"]  # oldest first
    assert replay(store, spool, limit=1) == 1
    assert spooled(spool) == []
    store.close()


def test_replay_sets_aside_only_the_event_the_store_refuses(tmp_path):
    from lineage.delivery.spool import spool_event

    url, spool = f"sqlite:///{tmp_path / 'lineage.db'}", tmp_path / "spool"
    first, last = (json.loads(to_json(e)) for e in _events(tmp_path))
    refused = json.loads(to_json(run_event(
        "COMPLETE", namespace="lakehouse", job_name="bronze_orders", run_id=str(uuid.uuid4()),
        event_time=T0, outputs=[DatasetRef(str(tmp_path / "x"), version="v" * 300)])))
    for payload in (first, refused, last):  # the refused one in the middle of a replay batch
        spool_event(spool, payload)
    assert replay_spool(url, spool) == 2
    assert spooled(spool) == []
    (kept,) = (spool / REJECTED).glob("*.json")
    assert json.loads(kept.read_text()) == refused
    assert _ol_events(url) == 2
