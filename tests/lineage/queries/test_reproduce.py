"""reproduce: a run's inputs read back at the Delta versions it used, with real Spark + Delta."""

from __future__ import annotations

import json
import uuid

import pytest

from lineage.errors import QueryError
from lineage.events.run_events import DatasetRef, run_event, to_json
from lineage.queries.reproduce import input_reads, read_inputs
from lineage.store.metadata_store import MetadataStore
from tests.lineage.conftest import T0


def test_read_inputs_time_travels_to_the_versions_a_run_read(spark, tmp_path):
    table = str(tmp_path / "silver_orders")
    spark.range(3).selectExpr("id", "'first' AS batch").write.format("delta").save(table)
    spark.range(5).selectExpr("id", "'second' AS batch").write.format("delta") \
        .mode("overwrite").save(table)  # version 1: what the table holds now
    store = MetadataStore("sqlite://")
    run_id = str(uuid.uuid4())
    store.ingest(json.loads(to_json(run_event(
        "COMPLETE", namespace="lakehouse", job_name="load_warehouse", run_id=run_id,
        event_time=T0, inputs=[DatasetRef(table, table="silver.orders", version=0)]))))
    (read,) = input_reads(store, run_id)
    assert read.sql == "SELECT * FROM silver.orders VERSION AS OF 0"
    (frame,) = read_inputs(spark, store, run_id).values()
    assert sorted((r.id, r.batch) for r in frame.collect()) == [
        (0, "first"), (1, "first"), (2, "first")]

    landing = str(tmp_path / "landing")
    other = str(uuid.uuid4())
    store.ingest(json.loads(to_json(run_event(
        "COMPLETE", namespace="lakehouse", job_name="bronze", run_id=other, event_time=T0,
        inputs=[DatasetRef(landing), DatasetRef(table, table="silver.orders", version=1)]))))
    with pytest.raises(QueryError, match="without a Delta version.*skip_unversioned=True"):
        read_inputs(spark, store, other)
    frames = read_inputs(spark, store, other, skip_unversioned=True)
    assert [f.count() for f in frames.values()] == [5]
    store.close()
