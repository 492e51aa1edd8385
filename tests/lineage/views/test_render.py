from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from lineage.errors import QueryError
from lineage.events.run_events import DatasetRef, QualityResult, run_event, to_json
from lineage.queries.graph import LineageEdge, LineageGraph, LineageNode, neighbourhood, upstream
from lineage.store.metadata_store import MetadataStore
from lineage.views.layout import layered_layout
from lineage.views.render import (
    COLORS,
    dataset_quality,
    render,
    to_dot,
    to_html,
    to_mermaid,
    to_svg,
)
from tests.lineage.conftest import T0

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def fact_graph(loaded):
    graph = upstream(loaded, "warehouse.fact_orders")
    return graph, dataset_quality(loaded, graph)


def _synthetic(labels: dict[str, str], edges: list[tuple[str, str]]) -> LineageGraph:
    nodes = {
        node_id: LineageNode(kind=node_id.split(":", 1)[0], id=node_id, label=label,
                             name=label, latest_version="1" if node_id.startswith("d") else None,
                             latest_state="COMPLETE" if node_id.startswith("j") else None)
        for node_id, label in labels.items()
    }
    return LineageGraph(direction="upstream", roots=(next(iter(labels)),), depth=None,
                        nodes=nodes,
                        edges=tuple(LineageEdge(s, t, "INPUT") for s, t in edges))


def test_quality_status_comes_from_the_latest_assertions(loaded, pipeline):
    graph = upstream(loaded, "warehouse.fact_orders")
    quality = dataset_quality(loaded, graph)
    bronze = f"dataset:file://{pipeline.table('bronze', 'orders')}"
    assert set(quality) == {bronze}  # the only dataset the pipeline checked
    assert not quality[bronze].passed
    assert quality[bronze].failed == ("not_null(amount)",)
    assert quality[bronze].version == "4"


def test_a_later_passing_check_turns_the_dataset_green(tmp_path):
    store = MetadataStore("sqlite://")
    location = str(tmp_path / "lake" / "silver" / "customers")
    t0 = datetime(2024, 2, 1, tzinfo=UTC)
    for day, (version, ok) in enumerate([(1, False), (2, True)]):
        check = QualityResult(row_count=3, metrics={}, assertions=(("unique_id", ok, "id"),))
        event = run_event("COMPLETE", event_time=t0 + timedelta(days=day), namespace="lakehouse",
                          job_name="validate_customers", run_id=str(uuid.uuid4()),
                          outputs=[DatasetRef(location, table="silver.customers",
                                              version=version, quality=check)])
        store.ingest(json.loads(to_json(event)))
    graph = upstream(store, "silver.customers")
    quality = dataset_quality(store, graph)
    (status,) = quality.values()
    assert (status.passed, status.version) == (True, "2")
    assert 'class="node dataset dataset-passed"' in to_svg(graph, quality)
    store.close()


def test_mermaid_draws_datasets_rounded_and_jobs_square(fact_graph):
    graph, quality = fact_graph
    text = to_mermaid(graph, quality)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    assert any(re.fullmatch(r'\s+n\d+\("warehouse\.fact_orders<br/>v7"\)', line) for line in lines)
    assert any(re.fullmatch(r'\s+n\d+\["validate_orders<br/>job · complete"\]', line)
               for line in lines)
    assert len([line for line in lines if "-->" in line]) == len(graph.edges) == 6
    failed = next(line for line in lines if "bronze.orders" in line).split("(")[0].strip()
    assert f"    class {failed} dataset_failed" in lines


def test_dot_is_a_digraph_with_every_node_and_edge(fact_graph):
    graph, quality = fact_graph
    text = to_dot(graph, quality)
    assert text.startswith("digraph lineage {") and text.rstrip().endswith("}")
    for node_id in graph.nodes:
        assert f'"{node_id}" [label=' in text
    assert text.count(" -> ") == 6
    bronze_line = next(line for line in text.splitlines() if 'label="bronze.orders' in line)
    assert f'fillcolor="{COLORS["dataset-failed"][0]}"' in bronze_line


def test_labels_are_escaped_in_every_format():
    nasty = 'we"ird <b>&</b> #1 </script>'
    graph = _synthetic({"dataset:a": nasty, "job:j": "job\\x"}, [("dataset:a", "job:j")])
    dot = to_dot(graph)
    assert 'label="we\\"ird <b>&</b> #1 </script>\\nv1"' in dot
    assert '"job\\\\x\\njob · complete"' in dot
    mermaid = to_mermaid(graph)
    assert "we#quot;ird #lt;b#gt;&#lt;/b#gt; #35;1 #lt;/script#gt;" in mermaid
    ET.fromstring(to_svg(graph))  # well-formed despite the markup in the label
    page = to_html(graph)
    assert "</script>" not in page.split('id="lineage-data"')[1].split("</script>")[0]
    assert _page_data(page)["nodes"][0]["title"] == nasty


def test_svg_is_well_formed_with_a_group_per_node_and_edge(fact_graph):
    graph, quality = fact_graph
    root = ET.fromstring(to_svg(graph, quality))
    assert root.tag == f"{SVG_NS}svg"
    nodes = root.findall(f".//{SVG_NS}g[@data-id]")
    assert {n.get("data-id") for n in nodes} == set(graph.nodes)
    edges = root.findall(f".//{SVG_NS}g[@data-source]")
    assert {(e.get("data-source"), e.get("data-target")) for e in edges} == {
        (e.source, e.target) for e in graph.edges}
    by_id = {n.get("data-id"): n for n in nodes}
    bronze = next(i for i, n in graph.nodes.items() if n.label == "bronze.orders")
    assert by_id[bronze].find(f"{SVG_NS}rect").get("fill") == COLORS["dataset-failed"][0]
    texts = [t.text for n in nodes for t in n.findall(f"{SVG_NS}text")]
    assert "warehouse.fact_orders" in texts and "v7" in texts
    # data flows left to right: every edge starts left of where it ends
    for edge in edges:
        numbers = [float(x) for x in re.findall(r"-?\d+\.\d", edge.find(f"{SVG_NS}path").get("d"))]
        assert numbers[0] < numbers[-2]


def test_html_page_is_self_contained_and_carries_the_graph(fact_graph):
    graph, quality = fact_graph
    page = to_html(graph, quality, title="Lineage of warehouse.fact_orders")
    assert "<title>Lineage of warehouse.fact_orders</title>" in page
    assert "default-src 'none'" in page  # the browser may fetch nothing
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert re.findall(r"https?://[^\s\"']+", page) == ["http://www.w3.org/2000/svg"]
    data = _page_data(page)
    assert {n["id"] for n in data["nodes"]} == set(graph.nodes)
    assert len(data["edges"]) == 6
    assert {n["title"] for n in data["nodes"]} >= {"bronze.orders", "silver.orders",
                                                    "warehouse.fact_orders", "validate_orders"}
    assert next(n for n in data["nodes"] if n["title"] == "bronze.orders")["style"] == \
        "dataset-failed"


def test_render_dispatches_and_refuses_unknown_formats(fact_graph):
    graph, quality = fact_graph
    assert render(graph, "mermaid", quality) == to_mermaid(graph, quality)
    with pytest.raises(QueryError, match="graph format must be one of mermaid, dot, svg, html"):
        render(graph, "png")


def test_neighbourhood_joins_both_directions(loaded):
    both = neighbourhood(loaded, "silver.orders")
    labels = {n.label for n in both.nodes.values()}
    assert {"bronze.orders", "validate_orders", "silver.orders", "warehouse_fact_orders",
            "warehouse.fact_orders"} <= labels
    assert both.direction == "both"
    up = neighbourhood(loaded, "silver.orders", direction="upstream")
    assert "warehouse.fact_orders" not in {n.label for n in up.nodes.values()}
    with pytest.raises(QueryError, match="direction must be one of"):
        neighbourhood(loaded, "silver.orders", direction="sideways")


def test_as_of_draws_the_graph_as_it_stood(loaded):
    # 06:12: validate_orders had started (06:10) and not finished; the warehouse job not begun.
    then = neighbourhood(loaded, "silver.orders", as_of=T0 + timedelta(minutes=12))
    labels = {n.label for n in then.nodes.values()}
    assert {"bronze.orders", "validate_orders", "silver.orders"} <= labels
    assert "warehouse_fact_orders" not in labels and "warehouse.fact_orders" not in labels
    assert then.nodes["job:validate_orders"].latest_state == "RUNNING"
    now = neighbourhood(loaded, "silver.orders", as_of=datetime(2999, 1, 1, tzinfo=UTC))
    assert now.nodes == neighbourhood(loaded, "silver.orders").nodes

def test_layout_keeps_boxes_apart_and_layers_in_data_order():
    sizes = {f"n{i}": (80.0 + 7 * i, 44.0) for i in range(12)}
    edges = [("n0", "n1"), ("n1", "n2"), ("n2", "n3"), ("n0", "n3"), ("n4", "n1"), ("n5", "n6"),
             ("n6", "n3"), ("n7", "n8"), ("n8", "n9"), ("n9", "n7"), ("n10", "n11"), ("n2", "n11")]
    placed = layered_layout(sizes, edges)
    boxes = list(placed.boxes.values())
    for i, a in enumerate(boxes):
        assert 0 <= a.x and a.x + a.width <= placed.width
        assert 0 <= a.y and a.y + a.height <= placed.height
        for b in boxes[i + 1:]:
            apart = (a.x + a.width <= b.x or b.x + b.width <= a.x
                     or a.y + a.height <= b.y or b.y + b.height <= a.y)
            assert apart, (a, b)
    routes = {(r.source, r.target): r for r in placed.routes}
    assert len(routes) == len(edges)
    for (s, t), route in routes.items():
        if not route.back:
            assert placed.boxes[s].layer < placed.boxes[t].layer
    assert sum(r.back for r in routes.values()) == 1  # the n7 -> n8 -> n9 -> n7 cycle
    # an edge over two layers bends through a waypoint instead of crossing the middle layer
    assert len(routes[("n0", "n3")].points) > 2
    assert layered_layout(sizes, edges) == placed  # deterministic


def _page_data(page: str) -> dict:
    raw = page.split('<script id="lineage-data" type="application/json">')[1].split("</script>")[0]
    return json.loads(raw)


def test_a_job_whose_latest_run_failed_is_drawn_red():
    graph = _synthetic({"dataset:a": "bronze.orders", "job:j": "validate_orders"},
                       [("dataset:a", "job:j")])
    failed = dict(graph.nodes)
    failed["job:j"] = LineageNode(kind="job", id="job:j", label="validate_orders",
                                  name="validate_orders", latest_state="FAILED")
    graph = LineageGraph(direction="upstream", roots=("dataset:a",), depth=None, nodes=failed,
                         edges=graph.edges)
    root = ET.fromstring(to_svg(graph))
    job = root.find(f".//{SVG_NS}g[@data-id='job:j']")
    assert job.get("class") == "node job job-failed"
    assert job.find(f"{SVG_NS}rect").get("stroke") == COLORS["job-failed"][1]
    assert [t.text for t in job.findall(f"{SVG_NS}text")] == ["validate_orders", "job · failed"]
