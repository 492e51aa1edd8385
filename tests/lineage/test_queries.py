from __future__ import annotations

import json

import pytest

from lineage.errors import QueryError, UnknownNodeError
from lineage.queries import diff_runs, downstream, render_text, to_dict, upstream
from lineage.store import MetadataStore
from tests.lineage.conftest import build_pipeline


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
