"""Names as producers send them, on every backend: non-ASCII (accents, CJK, 4-byte emoji), the
longest names the store takes, and names that differ only by case, accent or a trailing space.

MySQL/MariaDB compare strings by collation (a default database is case- and accent-insensitive,
and even ``utf8mb4_bin`` ignores trailing spaces), so each identity column must still tell such
names apart; PostgreSQL and SQLite compare bytes.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest

from lineage.errors import InvalidEventError
from lineage.events.naming import location_key
from lineage.events.parse import MAX_DATASET_NAME, MAX_NAME, MAX_VERSION
from lineage.events.run_events import DatasetRef, run_event, to_json
from lineage.queries.graph import downstream, upstream
from lineage.store.metadata_store import MetadataStore
from tests.lineage.conftest import T0

_WORD = "données_東京_🚀_"  # 2-, 3- and 4-byte UTF-8 characters


def _fill(prefix: str, length: int) -> str:
    text = prefix + _WORD * (length // len(_WORD) + 1)
    return text[:length]


def _event(job: str, inputs=(), outputs=(), namespace: str = "lakehouse",
           event_type: str = "COMPLETE") -> dict:
    return json.loads(to_json(run_event(
        event_type, namespace=namespace, job_name=job, run_id=str(uuid.uuid4()),
        event_time=T0, inputs=list(inputs), outputs=list(outputs),
        parameters={"ville": "Zürich 🏔"})))


def test_longest_non_ascii_names_round_trip(store):
    job = _fill("ingest_", MAX_NAME)
    namespace = _fill("ns_", MAX_NAME)
    location = _fill("/lake/bronze/", MAX_DATASET_NAME)
    table = "bronze.commandes_été_注文"
    version = _fill("v", MAX_VERSION)
    source = "/lake/landing/ファイル 🚀.csv"
    event = _event(job, namespace=namespace, inputs=[DatasetRef(source)],
                   outputs=[DatasetRef(location, table=table, version=version)])
    assert len(event["outputs"][0]["name"]) == MAX_DATASET_NAME

    assert store.ingest(event) is True
    assert store.ingest(event) is False  # found again by its (long, non-ASCII) key
    assert store.events() == [event]  # byte for byte, every character intact
    (run,) = store.executions(job=job)
    assert run.parameters == {"ville": "Zürich 🏔"}
    (written,) = store.run(run.run_id).outputs
    assert (written.name, written.version, written.tables) == (
        location_key(location), version, (table,))
    graph = downstream(store, source)
    assert {n.label for n in graph.nodes.values()} == {source, job, table}
    by_table = upstream(store, table)
    assert by_table.roots == (f"dataset:{location_key(location)}",)
    assert by_table.nodes[by_table.roots[0]].latest_version == version
    assert upstream(store, location).roots == by_table.roots


def test_names_differing_only_by_case_accent_or_trailing_space_stay_apart(store):
    _check_names_stay_apart(store)


def test_a_mariadb_database_created_with_default_collation_keeps_names_apart(mariadb):
    """``CREATE DATABASE lineage`` on Debian's MariaDB: utf8mb4_general_ci, which folds case and
    accents. The store's identity columns must not depend on it."""
    store = MetadataStore(mariadb.create_database(f"lineage_{uuid.uuid4().hex[:12]}",
                                                  collation="utf8mb4_general_ci"))
    try:
        _check_names_stay_apart(store)
    finally:
        store.close()


def _check_names_stay_apart(store: MetadataStore) -> None:
    jobs = ["commandes", "Commandes", "commandés", "commandes "]
    tables = ["silver.café", "silver.cafe", "silver.CAFÉ", "silver.café "]
    for index, (job, table) in enumerate(zip(jobs, tables, strict=True)):
        store.ingest(_event(job, outputs=[DatasetRef(f"/lake/{index}", table=table, version=1)]))
    for job, table in zip(jobs, tables, strict=True):
        (run,) = store.executions(job=job)
        assert run.job == job
        (written,) = store.run(run.run_id).outputs
        assert written.tables == (table,)
        graph = upstream(store, table)
        assert {n.label for n in graph.nodes.values()} == {table, job}
    assert {a.tables[0] for a in store.artifacts()} == set(tables)


def test_names_longer_than_the_store_keeps_are_refused_by_field(store):
    too_long = {
        "job.name": _event(_fill("j", MAX_NAME + 1)),
        "outputs[0].facets.version.datasetVersion": _event("j", outputs=[
            DatasetRef("/lake/x", version=_fill("v", MAX_VERSION + 1))]),
    }
    for field, event in too_long.items():
        pattern = re.escape(field) + r" is \d+ characters, the store keeps at most"
        with pytest.raises(InvalidEventError, match=pattern):
            store.ingest(event)
    assert store.events() == []
