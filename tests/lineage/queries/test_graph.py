from __future__ import annotations

import json
from datetime import timedelta

import pytest

from lineage.errors import QueryError, UnknownNodeError
from lineage.queries.graph import downstream, upstream
from lineage.views.json_data import to_dict
from lineage.views.text_tree import render_text
from tests.lineage.conftest import T0


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
