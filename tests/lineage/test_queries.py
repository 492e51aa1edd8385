from __future__ import annotations

import json
from datetime import timedelta

import pytest

from lineage.errors import QueryError, UnknownNodeError
from lineage.queries import diff_runs, downstream, render_text, to_dict, upstream
from lineage.store import MetadataStore
from tests.lineage.conftest import T0, build_pipeline


def _labels(graph) -> set[str]:
    return {node.label for node in graph.nodes.values()}


def test_upstream_walks_back_to_the_landing_file(loaded, pipeline):
    graph = upstream(loaded, "warehouse.fact_orders")
    assert _labels(graph) == {
        "warehouse.fact_orders", "warehouse_fact_orders", "silver.orders", "validate_orders",
        "bronze.orders", "bronze_orders", pipeline.landing,
    }
    assert {(e.source.split(":", 1)[0], e.kind, e.target.split(":", 1)[0])
            for e in graph.edges} == {("dataset", "INPUT", "job"), ("job", "OUTPUT", "dataset")}
    assert len(graph.edges) == 6
    fact = graph.nodes[graph.roots[0]]
    assert (fact.kind, fact.latest_version) == ("dataset", "7")
    job = graph.nodes["job:validate_orders"]
    assert job.latest_state == "COMPLETE"


@pytest.mark.parametrize(
    ("depth", "expected"),
    [
        (0, {"warehouse.fact_orders"}),
        (1, {"warehouse.fact_orders", "warehouse_fact_orders", "silver.orders"}),
        (2, {"warehouse.fact_orders", "warehouse_fact_orders", "silver.orders",
             "validate_orders", "bronze.orders"}),
    ],
)
def test_upstream_depth_counts_jobs(loaded, depth, expected):
    assert _labels(upstream(loaded, "warehouse.fact_orders", depth=depth)) == expected


def test_downstream_from_a_landing_path(loaded, pipeline):
    graph = downstream(loaded, pipeline.landing, depth=2)
    assert _labels(graph) == {pipeline.landing, "bronze_orders", "bronze.orders",
                              "validate_orders", "silver.orders", "quarantine.orders"}
    full = downstream(loaded, pipeline.landing)
    assert "warehouse.fact_orders" in _labels(full)


def test_nodes_resolve_from_table_path_uri_and_job(loaded, pipeline):
    silver = pipeline.table("silver", "orders")
    by_table = upstream(loaded, "silver.orders")
    assert upstream(loaded, silver).nodes == by_table.nodes
    assert upstream(loaded, f"file://{silver}/").nodes == by_table.nodes
    by_job = downstream(loaded, "validate_orders", depth=0)
    assert _labels(by_job) == {"validate_orders", "silver.orders", "quarantine.orders"}


def test_render_text_is_an_indented_tree(loaded):
    text = render_text(upstream(loaded, "silver.orders"))
    lines = text.splitlines()
    assert lines[0].startswith("silver.orders  [dataset v2]")
    assert lines[1].startswith("└── <- validate_orders  [job, last run COMPLETE]")
    assert lines[2].startswith("    └── <- bronze.orders  [dataset v4]")
    assert lines[3].startswith("        └── <- bronze_orders  [job")
    assert "orders.csv" in lines[4] and lines[4].startswith("            └── <- ")


def test_to_dict_is_json_ready(loaded):
    data = json.loads(json.dumps(to_dict(downstream(loaded, "bronze.orders", depth=1))))
    assert data["direction"] == "downstream" and data["depth"] == 1
    assert {n["label"] for n in data["nodes"]} == {
        "bronze.orders", "validate_orders", "silver.orders", "quarantine.orders"}
    assert {(e["source"], e["kind"]) for e in data["edges"]} >= {("job:validate_orders", "OUTPUT")}


def test_unknown_node_names_close_matches_and_the_events_command(loaded):
    with pytest.raises(UnknownNodeError) as info:
        upstream(loaded, "silver.order")
    message = str(info.value)
    assert "'silver.order'" in message
    assert "close matches: silver.orders" in message
    assert "`lakehouse lineage events`" in message
    with pytest.raises(UnknownNodeError, match="nothing close; known tables: bronze.orders, "
                                               "quarantine.orders, silver.orders"):
        upstream(loaded, "zzz")


def test_unknown_node_in_an_empty_store(store):
    with pytest.raises(UnknownNodeError, match="has recorded no datasets yet"):
        downstream(store, "bronze.orders")


def test_negative_depth_is_refused(loaded):
    with pytest.raises(QueryError, match="depth must be None"):
        upstream(loaded, "silver.orders", depth=-1)


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


def test_as_of_walks_the_graph_as_it_stood(loaded_on):
    at = T0 + timedelta(minutes=12)  # validate_orders started 06:10, ends 06:15; fact job 06:20
    graph = downstream(loaded_on, "bronze.orders", as_of=at)
    labels = _labels(graph)
    assert {"bronze.orders", "validate_orders", "silver.orders", "quarantine.orders"} <= labels
    assert not labels & {"warehouse_fact_orders", "warehouse.fact_orders"}
    assert graph.nodes["job:validate_orders"].latest_state == "RUNNING"
    nodes = {n.label: n for n in graph.nodes.values()}
    assert nodes["bronze.orders"].latest_version == "4"  # written 06:05
    assert nodes["silver.orders"].latest_version is None  # v2 only at 06:15
    now = downstream(loaded_on, "bronze.orders", as_of=T0 + timedelta(days=1))
    assert now.nodes == downstream(loaded_on, "bronze.orders").nodes
    assert now.edges == downstream(loaded_on, "bronze.orders").edges
    with pytest.raises(QueryError, match="was not in the lineage store as of"):
        upstream(loaded_on, "warehouse.fact_orders", as_of=at)


def test_walks_agree_on_every_backend(loaded_on, pipeline):
    graph = upstream(loaded_on, "warehouse.fact_orders")
    assert _labels(graph) == {
        "warehouse.fact_orders", "warehouse_fact_orders", "silver.orders", "validate_orders",
        "bronze.orders", "bronze_orders", pipeline.landing,
    }
    assert len(graph.edges) == 6
    assert _labels(downstream(loaded_on, pipeline.landing, depth=1)) == {
        pipeline.landing, "bronze_orders", "bronze.orders"}


def test_diff_covers_row_counts_schema_and_quality(store, tmp_path):
    from lineage.events import DatasetRef, QualityResult, run_event, to_json

    def run(rows, schema, passed):
        quality = QualityResult(row_count=rows, metrics={"rows_valid": rows - 1},
                                assertions=(("not_null", passed, "amount"),))
        event = run_event("COMPLETE", namespace="lakehouse", job_name="validate_orders",
                          run_id=str(__import__("uuid").uuid4()), event_time=T0,
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
