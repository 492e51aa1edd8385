"""Schema migrations: a store made by an older version of the code upgrades in place, on every
backend, keeping its data and gaining what the new code needs."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import MetaData, create_engine, insert, inspect, select, text

from lineage.errors import StoreUnavailableError
from lineage.queries.graph import upstream
from lineage.store import schema, schema_upgrade
from lineage.store.metadata_store import MetadataStore
from tests.lineage.conftest import T0

BRONZE = "file:///lake/bronze/orders"
JOB = "bronze_commandes_été_注文"  # non-ASCII: upgrades keep names byte for byte


def test_head_matches_the_scripts_and_the_schema_module():
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(schema_upgrade.SCRIPTS))
    assert scripts.get_heads() == [schema_upgrade.HEAD]
    assert [r.revision for r in reversed(list(scripts.walk_revisions()))] == list(
        schema_upgrade.REVISIONS)
    engine = create_engine("sqlite://")
    schema_upgrade.upgrade(engine)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    assert differences == []  # the migrations build exactly what lineage.store.schema describes


def _skeleton_store(url: str, *, stamped: bool) -> None:
    """A store as the walking skeleton left it: revision 0001 tables holding one bronze run."""
    engine = create_engine(url)
    schema_upgrade.upgrade(engine, schema_upgrade.FIRST)
    old = MetaData()
    old.reflect(engine)
    assert "dataset_alias" not in old.tables and "version_number" not in old.tables["artifact"].c
    # Rows written through the old columns only (lineage.store.schema's tables carry the JSON types).
    tables = {name: schema.metadata.tables[name] for name in old.tables if name != "alembic_version"}
    run_id = str(uuid.uuid4())
    payload = {"eventType": "COMPLETE", "eventTime": T0.isoformat(), "run": {"runId": run_id},
               "job": {"namespace": "lakehouse", "name": JOB},
               "producer": "urn:test", "schemaURL": "https://openlineage.io/spec/2-0-2/"
               "OpenLineage.json#/$defs/RunEvent"}
    with engine.begin() as conn:
        conn.execute(insert(tables["artifact_type"]).values(id=1, name="Dataset", properties={}))
        conn.execute(insert(tables["execution_type"]).values(id=1, name=JOB,
                                                             properties={}))
        for artifact_id, version in ((1, "3"), (2, "4")):
            conn.execute(insert(tables["artifact"]).values(
                id=artifact_id, type_id=1, uri=BRONZE, name=BRONZE,
                name_digest=_digest(BRONZE), version=version, state="LIVE",
                properties={"namespace": "file", "name": "/lake/bronze/orders",
                            "tables": ["bronze.orders"], "row_count": 10},
                create_time=T0, update_time=T0))
        conn.execute(insert(tables["execution"]).values(
            id=1, type_id=1, name=run_id, properties={}, state="COMPLETE", start_time=T0,
            end_time=T0 + timedelta(minutes=1), create_time=T0, update_time=T0))
        for artifact_id in (1, 2):
            conn.execute(insert(tables["event"]).values(
                artifact_id=artifact_id, execution_id=1, type="OUTPUT", time=T0))
        conn.execute(insert(tables["ol_event"]).values(
            run_id=run_id, event_type="COMPLETE", job=JOB, job_namespace="lakehouse",
            repeat_key="", event_time=T0, ingest_time=T0, payload=payload))
        if not stamped:
            conn.execute(text("DROP TABLE alembic_version"))  # the skeleton had no Alembic
    engine.dispose()


def _digest(name: str) -> str:
    return schema.name_digest(name)


@pytest.mark.parametrize("stamped", [True, False], ids=["revision-0001", "skeleton-unstamped"])
def test_an_old_store_upgrades_in_place_and_keeps_its_data(store_url, stamped):
    if store_url == "sqlite://":
        pytest.skip("an in-memory database does not outlive its engine")
    _skeleton_store(store_url, stamped=stamped)
    store = MetadataStore(store_url)  # the current code opens it: upgrade to HEAD
    try:
        engine = store._engine
        with engine.connect() as conn:
            assert schema_upgrade.current_revision(conn) == schema_upgrade.HEAD
            columns = {c["name"] for c in inspect(conn).get_columns("artifact")}
            assert "version_number" in columns
            assert "first_event_time" in {c["name"] for c in inspect(conn).get_columns("execution")}
            numbers = conn.execute(select(schema.artifact.c.version, schema.artifact.c.version_number)
                                   .order_by(schema.artifact.c.id)).all()
        assert [tuple(row) for row in numbers] == [("3", 3), ("4", 4)]  # backfilled
        (run,) = store.executions(job=JOB)
        assert run.state == "COMPLETE" and run.start_time == T0
        assert [e["run"]["runId"] for e in store.events()] == [run.run_id]
        # Resolving by table name goes through the new alias table, backfilled from the old rows.
        graph = upstream(store, "bronze.orders")
        assert graph.nodes[f"dataset:{BRONZE}"].latest_version == "4"
        assert {n.label for n in graph.nodes.values()} == {"bronze.orders", JOB}
        # New events land next to the old ones.
        event = json.loads(json.dumps(store.events()[0]))
        event["run"]["runId"] = str(uuid.uuid4())
        assert store.ingest(event) is True
        assert len(store.executions(job=JOB)) == 2
    finally:
        store.close()
    reopened = MetadataStore(store_url)  # already at HEAD: nothing to do, nothing lost
    assert len(reopened.executions()) == 2
    reopened.close()


def test_a_store_from_a_newer_version_is_refused_with_the_fix(tmp_path):
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    MetadataStore(url).close()
    with create_engine(url).begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreUnavailableError, match="revision '9999'.*upgrade the lakehouse"):
        MetadataStore(url)
