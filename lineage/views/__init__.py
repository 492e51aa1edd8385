"""Views of lineage: pictures, JSON, and the HTTP server that serves them.

* :mod:`lineage.views.render` — Mermaid, Graphviz DOT, SVG and a self-contained HTML page
  (its template: ``graph.html``), coloured by data quality.
* :mod:`lineage.views.layout` — the layered layout that places SVG and HTML boxes.
* :mod:`lineage.views.text_tree` — a graph as an indented text tree.
* :mod:`lineage.views.json_data` — the JSON shapes of graphs and store records.
* :mod:`lineage.views.app` — the web app (Starlette): events in, queries and graph pages out.
* :mod:`lineage.views.server` — the app served by uvicorn on loopback, stopped by Ctrl-C.
"""
