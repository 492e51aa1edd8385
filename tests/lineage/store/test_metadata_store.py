from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lineage.errors import InvalidEventError, StoreUnavailableError, UnknownRunError
from lineage.events.run_events import DatasetRef, ParentRun, run_event, to_json
from lineage.store import schema
from lineage.store.metadata_store import MetadataStore
from tests.lineage.conftest import DAG, T0


def _count(store: MetadataStore, table) -> int:
    with store._engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _spark_events(tmp_path, run_id=None):
    run_id = run_id or str(uuid.uuid4())
    bronze = str(tmp_path / "bronze")
    common = {"namespace": "lakehouse", "job_name": "bronze_orders", "run_id": run_id}
    start = run_event("START", event_time=T0, **common, inputs=[DatasetRef(str(tmp_path / "in"))],
                      outputs=[DatasetRef(bronze, table="bronze.orders")],
                      parameters={"logical_date": "2024-01-31"})
    complete = run_event("COMPLETE", event_time=T0 + timedelta(minutes=2), **common,
                         inputs=[DatasetRef(str(tmp_path / "in"))],
                         outputs=[DatasetRef(bronze, table="bronze.orders", version=3,
                                             row_count=10, schema=(("id", "bigint"),))])
    return json.loads(to_json(start)), json.loads(to_json(complete))


def test_ingest_is_idempotent(store, tmp_path):
    start, complete = _spark_events(tmp_path)
    assert store.ingest(start) is True
    assert store.ingest(complete) is True
    assert store.ingest(complete) is False
    assert store.ingest(start) is False
    assert _count(store, schema.ol_event) == 2
    assert _count(store, schema.execution) == 1
    assert _count(store, schema.event) == 3  # in (INPUT), bronze unversioned and v3 (OUTPUT)
    versions = [(a.name, a.version) for a in store.artifacts()]
    assert len(versions) == len(set(versions)) == 3
    assert store.events() == [start, complete]


def test_a_dataset_version_is_one_artifact_across_runs(store, tmp_path):
    _, first = _spark_events(tmp_path)
    _, second = _spark_events(tmp_path)  # another run reports the same bronze version 3
    store.ingest(first)
    store.ingest(second)
    bronze = [a for a in store.artifacts() if a.version == "3"]
    assert len(bronze) == 1
    assert bronze[0].properties["row_count"] == 10
    assert bronze[0].properties["schema"] == [["id", "bigint"]]
    assert bronze[0].tables == ("bronze.orders",)
    assert bronze[0].state == "LIVE"


def test_complete_before_start_leaves_the_run_complete(store, tmp_path):
    start, complete = _spark_events(tmp_path)
    store.ingest(complete)
    (run,) = store.executions()
    assert run.state == "COMPLETE" and run.start_time is None
    store.ingest(start)
    (run,) = store.executions()
    assert run.state == "COMPLETE"
    assert run.start_time == T0
    assert run.end_time == T0 + timedelta(minutes=2)
    assert run.parameters == {"logical_date": "2024-01-31"}


def test_failed_run_records_the_error_and_abandons_unwritten_outputs(store, tmp_path):
    run_id = str(uuid.uuid4())
    fail = run_event("FAIL", namespace="lakehouse", job_name="bronze_orders", run_id=run_id,
                     event_time=T0, outputs=[DatasetRef(str(tmp_path / "bronze"))],
                     error="IngestError: no file at /landing/x")
    store.ingest(json.loads(to_json(fail)))
    run = store.run(run_id)
    assert run.execution.state == "FAILED"
    assert run.execution.error == "IngestError: no file at /landing/x"
    assert [a.state for a in run.outputs] == ["ABANDONED"]


def test_airflow_task_and_spark_job_events_land_in_the_dag_run_context(loaded_on, pipeline):
    runs = loaded_on.executions(context=pipeline.dag_run_id)
    jobs = {r.job for r in runs}
    assert jobs == {DAG, f"{DAG}.bronze", f"{DAG}.validate", f"{DAG}.warehouse",
                    "bronze_orders", "validate_orders", "warehouse_fact_orders"}
    assert {r.job for r in loaded_on.executions(context=DAG)} == jobs
    assert {c.type for c in loaded_on.contexts()} == {"pipeline", "pipeline_run"}
    spark = loaded_on.executions(job="validate_orders")[0]
    assert spark.properties["parent"]["job"] == f"{DAG}.validate"
    assert spark.properties["root"]["run_id"] == pipeline.dag_run_id
    fact = [a for a in loaded_on.artifacts(context=pipeline.dag_run_id)
            if "warehouse.fact_orders" in a.tables]
    assert [a.version for a in fact if a.version] == ["7"]


def test_a_run_lists_the_exact_versions_it_read_and_wrote(loaded_on):
    (spark,) = loaded_on.executions(job="validate_orders")
    run = loaded_on.run(spark.run_id)
    assert [(a.tables, a.version) for a in run.inputs] == [(("bronze.orders",), "4")]
    assert sorted((a.tables, a.version) for a in run.outputs) == [
        (("quarantine.orders",), "1"), (("silver.orders",), "2")]
    assert run.inputs[0].properties["quality"]["metrics"] == {"rows_quarantined": 1,
                                                             "rows_valid": 9}
    with pytest.raises(UnknownRunError, match="lakehouse lineage events"):
        loaded_on.run(str(uuid.uuid4()))


def test_stored_events_are_served_back_unchanged_in_time_order(loaded_on, pipeline):
    served = loaded_on.events()
    key = json.dumps
    assert sorted(map(key, served)) == sorted(map(key, pipeline.events))
    times = [e["eventTime"] for e in served]
    assert times == sorted(times)
    since = T0 + timedelta(minutes=20)
    later = loaded_on.events(since=since)
    assert later == [e for e in served if e["eventTime"] >= since.isoformat()]
    assert 0 < len(later) < len(served)


def test_events_that_are_not_run_events_are_rejected_with_the_reason(store):
    with pytest.raises(InvalidEventError, match="records run events only"):
        store.ingest({"eventTime": T0.isoformat(), "dataset": {"namespace": "f", "name": "x"}})
    with pytest.raises(InvalidEventError, match="run.runId is missing"):
        store.ingest({"eventTime": T0.isoformat(), "run": {}, "job": {"namespace": "n",
                                                                      "name": "j"}})
    good = {"eventTime": T0.isoformat(), "eventType": "START",
            "run": {"runId": str(uuid.uuid4())}, "job": {"namespace": "n", "name": "j"}}
    with pytest.raises(InvalidEventError, match="eventTime 'yesterday' is not an ISO-8601"):
        store.ingest(good | {"eventTime": "yesterday"})
    with pytest.raises(InvalidEventError, match="eventType 'DONE' is not an OpenLineage run"):
        store.ingest(good | {"eventType": "DONE"})
    with pytest.raises(InvalidEventError, match="malformed OpenLineage run event"):
        store.ingest(good | {"outputs": [{"namespace": "f", "name": "x", "facets": ["oops"]}]})
    assert store.events() == []


def test_an_unopenable_store_says_how_to_fix_it(tmp_path):
    with pytest.raises(StoreUnavailableError, match="that the folder exists"):
        MetadataStore(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'lineage.db'}")
    with pytest.raises(StoreUnavailableError, match="not a SQLAlchemy URL"):
        MetadataStore("lineage.db")


def test_parent_without_root_uses_the_parent_as_pipeline(store):
    dag_run = str(uuid.uuid4())
    event = run_event("START", namespace="airflow", job_name="retail_daily.bronze",
                      run_id=str(uuid.uuid4()), event_time=T0, job_type="AIRFLOW",
                      parent=ParentRun("airflow", "retail_daily", dag_run))
    store.ingest(json.loads(to_json(event)))
    assert {(c.type, c.name) for c in store.contexts()} == {
        ("pipeline", "retail_daily"), ("pipeline_run", dag_run)}


def test_an_airflow_provider_task_event_lands_next_to_our_spark_job(pipeline, tmp_path):
    """The shape Airflow's OpenLineage provider emits for a task: its own run facets, root = the
    DAG run. It joins the DAG run context our Spark job events are already in."""
    task_run = str(uuid.uuid4())
    producer = "https://github.com/apache/airflow/tree/providers-openlineage/2.3.0"
    event = {
        "eventType": "COMPLETE",
        "eventTime": (T0 + timedelta(minutes=45)).isoformat(),
        "producer": producer,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": task_run, "facets": {
            "airflow": {"_producer": producer, "_schemaURL": "https://raw.githubusercontent.com/"
                        "apache/airflow/providers-openlineage/2.3.0/airflow/providers/openlineage"
                        "/facets/AirflowRunFacet.json#/$defs/AirflowRunFacet",
                        "dag": {"dag_id": DAG}, "taskInstance": {"try_number": 1}},
            "parent": {"_producer": producer, "_schemaURL": "https://openlineage.io/spec/facets/"
                       "1-1-0/ParentRunFacet.json#/$defs/ParentRunFacet",
                       "job": {"namespace": "airflow", "name": DAG},
                       "run": {"runId": pipeline.dag_run_id},
                       "root": {"job": {"namespace": "airflow", "name": DAG},
                                "run": {"runId": pipeline.dag_run_id}}},
        }},
        "job": {"namespace": "airflow", "name": f"{DAG}.publish", "facets": {
            "jobType": {"_producer": producer, "_schemaURL": "https://openlineage.io/spec/facets/"
                        "2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
                        "processingType": "BATCH", "integration": "AIRFLOW", "jobType": "TASK"}}},
        "inputs": [{"namespace": "file", "name": str(tmp_path / "warehouse" / "fact_orders")}],
        "outputs": [],
    }
    store = MetadataStore("sqlite://")
    for earlier in pipeline.events:
        store.ingest(earlier)
    assert store.ingest(event) is True
    (run,) = store.executions(job=f"{DAG}.publish")
    assert run.state == "COMPLETE"
    assert run.properties["root"]["run_id"] == pipeline.dag_run_id
    in_dag_run = {r.job for r in store.executions(context=pipeline.dag_run_id)}
    assert {f"{DAG}.publish", "warehouse_fact_orders"} <= in_dag_run
    store.close()


def _snapshot(store: MetadataStore) -> dict:
    """Everything the store answers about its runs, datasets and contexts, ids left out."""
    return {
        "runs": sorted((e.job, e.run_id, e.state, e.start_time, e.end_time,
                        json.dumps(e.properties, sort_keys=True)) for e in store.executions()),
        "versions": sorted((a.name, a.version or "", a.state,
                            json.dumps(a.properties, sort_keys=True)) for a in store.artifacts()),
        "contexts": sorted((c.type, c.name) for c in store.contexts()),
        "links": {run.run_id: ([(a.name, a.version) for a in store.run(run.run_id).inputs],
                               [(a.name, a.version) for a in store.run(run.run_id).outputs])
                  for run in store.executions()},
    }


def test_ingest_many_records_a_batch_as_one_by_one_ingestion_would(store, pipeline):
    one_by_one = MetadataStore("sqlite://")
    for event in pipeline.events:
        one_by_one.ingest(event)
    events = list(reversed(pipeline.events))  # out of order, COMPLETE before START
    assert store.ingest_many(events + events[:3]) == len(events)  # repeats count once
    assert store.ingest_many(events) == 0
    assert _snapshot(store) == _snapshot(one_by_one)
    one_by_one.close()


def test_ingest_many_is_all_or_nothing_and_names_the_bad_event(store, pipeline):
    bad = {"eventTime": T0.isoformat(), "dataset": {"namespace": "f", "name": "x"}}
    with pytest.raises(InvalidEventError, match=r"events\[3\]: the metadata store records run "):
        store.ingest_many([*pipeline.events[:3], bad, *pipeline.events[3:]])
    assert store.events() == [] and store.executions() == []
    assert store.ingest_many([]) == 0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_concurrent_writers_record_every_event_once(request, backend, tmp_path):
    """Parallel DAG runs: several processes' jobs write one store at once, sharing the DAG
    context and the datasets (each run writes its own bronze version, and all read the same
    landing folder); every event lands once, every dataset version is one artifact."""
    import threading

    from tests.lineage.conftest import new_store_url

    url = new_store_url(request, backend, tmp_path)
    store = MetadataStore(url)  # creates the schema once, before the writers race
    writers, runs_each = 4, 6
    batches = []
    for writer in range(writers):
        events = []
        for index in range(runs_each):
            version = writer * runs_each + index
            common = {"namespace": "lakehouse", "job_name": "bronze_orders",
                      "run_id": str(uuid.uuid4()),
                      "parent": ParentRun("airflow", DAG, str(uuid.uuid4()))}
            inputs = [DatasetRef(str(tmp_path / "landing"), table="landing.orders")]
            outputs = [DatasetRef(str(tmp_path / "bronze"), table="bronze.orders",
                                  version=version, row_count=version)]
            for kind in ("START", "COMPLETE"):
                events.append(json.loads(to_json(run_event(
                    kind, event_time=T0 + timedelta(minutes=version), inputs=inputs,
                    outputs=outputs if kind == "COMPLETE" else [], **common))))
        batches.append(events)
    errors = []

    def write(events):
        own = MetadataStore(url)  # one store (engine, known rows) per process, as in jobs
        try:
            for event in events:
                own.ingest(event)
        except Exception as err:  # noqa: BLE001 - reported by the assertion below
            errors.append(err)
        finally:
            own.close()

    threads = [threading.Thread(target=write, args=(events,)) for events in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert _count(store, schema.ol_event) == writers * runs_each * 2
    assert {r.state for r in store.executions(job="bronze_orders")} == {"COMPLETE"}
    versions = [a.version for a in store.artifacts() if "bronze.orders" in a.tables]
    assert sorted(versions, key=int) == [str(v) for v in range(writers * runs_each)]
    assert len([a for a in store.artifacts() if "landing.orders" in a.tables]) == 1
    assert {c.name for c in store.contexts("pipeline")} == {DAG}
    store.close()


def test_a_sqlite_store_opened_read_only_still_answers(tmp_path, pipeline):
    """An analyst's read-only connection to a store still in rollback-journal mode (as every
    store made before write-ahead logging was): switching it to WAL is a write, so it is skipped
    there, not an error."""
    import sqlite3

    path = tmp_path / "lineage.db"
    writer = MetadataStore(f"sqlite:///{path}")
    writer.ingest_many(pipeline.events)
    writer.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)
    reader = MetadataStore(f"sqlite:///file:{path}?mode=ro&uri=true")
    assert len(reader.events()) == len(pipeline.events)
    with pytest.raises(StoreUnavailableError, match="readonly database"):
        reader.ingest(json.loads(json.dumps(pipeline.events[0]).replace(
            pipeline.events[0]["run"]["runId"], str(uuid.uuid4()))))
    reader.close()
