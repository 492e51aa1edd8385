"""What changed between two runs: parameters, versions, row counts, schema and quality."""

from __future__ import annotations

import json
import uuid

from lineage.events.run_events import DatasetRef, QualityResult, run_event, to_json
from lineage.queries.diff import diff_runs
from lineage.store.metadata_store import MetadataStore
from tests.lineage.conftest import T0, build_pipeline


def test_diff_of_two_runs_shows_changed_versions_and_parameters(store: MetadataStore, tmp_path):
    first = build_pipeline(tmp_path)
    second = build_pipeline(tmp_path, silver_version=3, logical_date="2024-02-01")
    for event in first.events + second.events:
        store.ingest(event)
    run_a, run_b = store.executions(job="warehouse_fact_orders")
    diff = diff_runs(store, run_a.run_id, run_b.run_id)
    assert diff.parameters == {"logical_date": ("2024-01-31", "2024-02-01")}
    silver = first.table("silver", "orders")
    assert diff.inputs == {f"file://{silver}": ("2", "3")}
    assert diff.outputs == {}  # the fact table version is the same in both fixtures


def test_diff_covers_row_counts_schema_and_quality(store, tmp_path):
    def run(rows, schema, passed):
        quality = QualityResult(row_count=rows, metrics={"rows_valid": rows - 1},
                                assertions=(("not_null", passed, "amount"),))
        event = run_event("COMPLETE", namespace="lakehouse", job_name="validate_orders",
                          run_id=str(uuid.uuid4()), event_time=T0,
                          parameters={"ds": f"day{rows}"},
                          inputs=[DatasetRef(str(tmp_path / "bronze"), table="bronze.orders",
                                             version=rows, quality=quality)],
                          outputs=[DatasetRef(str(tmp_path / "silver"), table="silver.orders",
                                              version=rows, row_count=rows - 1, schema=schema)])
        payload = json.loads(to_json(event))
        store.ingest(payload)
        return payload["run"]["runId"]

    a = run(10, (("id", "bigint"), ("amount", "string")), True)
    b = run(12, (("id", "bigint"), ("amount", "decimal(12,2)"), ("city", "string")), False)
    diff = diff_runs(store, a, b)
    silver, bronze = f"file://{tmp_path / 'silver'}", f"file://{tmp_path / 'bronze'}"
    assert diff.parameters == {"ds": ("day10", "day12")}
    assert diff.inputs == {bronze: ("10", "12")}
    assert diff.output_rows == {silver: (9, 11)}
    change = diff.schema[silver]
    assert change.added == (("city", "string"),)
    assert change.retyped == (("amount", "string", "decimal(12,2)"),)
    assert change.removed == ()
    quality = diff.quality[bronze]
    assert quality.assertions == {"not_null(amount)": (True, False)}
    assert quality.metrics["rows_valid"] == (9, 11)
    assert diff_runs(store, a, a).same
