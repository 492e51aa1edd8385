"""Recording one OpenLineage run event as MLMD rows, inside the caller's transaction.

Order-tolerant: an execution's state only moves forward (a START after its COMPLETE fills in the
start time, nothing else), an artifact's state only climbs PENDING -> ABANDONED -> LIVE, and
properties merge so that what a later lifecycle event says wins over an earlier one.

Fast enough for a real event stream: types, contexts and dataset aliases are looked up once per
store and remembered (:mod:`lineage.store.known_rows`), link rows (events, attributions,
associations) go in with one insert per table that skips rows already there, and every statement
is built once (:mod:`lineage.store.statements`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table

from lineage.events.parse import TERMINAL, DatasetFacts, JobRun, RunFacts
from lineage.store import schema as t
from lineage.store.known_rows import KnownRows, Pending
from lineage.store.schema import name_digest
from lineage.store.statements import find, find_row, insert_missing, insert_row, update_row

DATASET_TYPE = "Dataset"
PIPELINE = "pipeline"
PIPELINE_RUN = "pipeline_run"
# An artifact's state only moves up this ladder, whatever order its events arrive in.
_STATE_RANK = {"UNKNOWN": 0, "PENDING": 1, "ABANDONED": 2, "LIVE": 3}


def record(
    conn: Connection, facts: RunFacts, payload: dict[str, Any], known: Pending | None = None
) -> bool:
    """Write ``facts`` (parsed from ``payload``) as MLMD rows; False if the event was already in.

    ``known`` remembers type, context and alias rows across events; commit it after the
    transaction (without one, every lookup goes to the database).
    """
    known = known if known is not None else KnownRows().begin()
    key = {
        "run_id": facts.run_id,
        "event_type": facts.event_type,
        "job": facts.job.job,
        "repeat_key": facts.repeat_key,
    }
    if find(conn, t.ol_event, **key) is not None:
        return False
    now = _now()
    insert_row(conn, t.ol_event, **key, job_namespace=facts.job.namespace,
               event_time=facts.event_time, ingest_time=now, payload=payload)
    execution_id = _upsert_execution(conn, facts, now, known)
    context_ids = [
        _ensure_context(conn, PIPELINE, facts.pipeline.job, facts.pipeline, now, known),
        _ensure_context(conn, PIPELINE_RUN, facts.pipeline.run_id, facts.pipeline, now, known),
    ]
    associations = [{"execution_id": execution_id, "context_id": c} for c in context_ids]
    events: list[dict[str, Any]] = []
    attributions: list[dict[str, Any]] = []
    type_id = _ensure_type(conn, t.artifact_type, DATASET_TYPE, {}, known)
    for direction, datasets in (("INPUT", facts.inputs), ("OUTPUT", facts.outputs)):
        for dataset in datasets:
            state = _artifact_state(direction, facts.event_type)
            artifact_id = _upsert_artifact(conn, type_id, dataset, state, now)
            events.append({"artifact_id": artifact_id, "execution_id": execution_id,
                           "type": direction, "time": facts.event_time})
            attributions += [{"artifact_id": artifact_id, "context_id": c} for c in context_ids]
            _ensure_aliases(conn, dataset, known)
    insert_missing(conn, t.association, associations)
    insert_missing(conn, t.event, events)
    insert_missing(conn, t.attribution, attributions)
    return True


def _ensure_aliases(conn: Connection, dataset: DatasetFacts, known: Pending) -> None:
    """Every name the dataset answers to, so a query resolves it with one indexed lookup."""
    key = dataset.key
    names = [(key, "key"), (dataset.name, "name")]
    names += [(table, "table") for table in dataset.properties.get("tables") or ()]
    digest = name_digest(key)
    missing = []
    for alias, kind in names:
        alias_digest = name_digest(alias)
        if known.get(("alias", alias_digest, digest)) is None:
            missing.append({"alias_digest": alias_digest, "name_digest": digest,
                            "alias": alias, "name": key, "kind": kind})
    insert_missing(conn, t.dataset_alias, missing)
    for row in missing:
        known.put(("alias", row["alias_digest"], digest), True)


def _upsert_execution(conn: Connection, facts: RunFacts, now: datetime, known: Pending) -> int:
    type_id = _ensure_type(conn, t.execution_type, facts.job.job, facts.job_properties, known)
    row = find_row(conn, t.execution, type_id=type_id, name=facts.run_id)
    terminal = TERMINAL.get(facts.event_type)
    start = facts.event_time if facts.event_type == "START" else None
    if row is None:
        return insert_row(
            conn, t.execution,
            type_id=type_id,
            name=facts.run_id,
            properties=facts.execution_properties,
            state=terminal or "RUNNING",
            start_time=start or (None if terminal else facts.event_time),
            end_time=facts.event_time if terminal else None,
            error=facts.error if terminal else None,
            create_time=now,
            update_time=now,
            first_event_time=facts.event_time,
        )
    values: dict[str, Any] = {"update_time": now}
    if row["first_event_time"] is None or facts.event_time < row["first_event_time"]:
        values["first_event_time"] = facts.event_time
    newer_end = row["end_time"] is None or facts.event_time >= row["end_time"]
    if terminal and newer_end:
        values.update(state=terminal, end_time=facts.event_time, error=facts.error)
        values["properties"] = merge(row["properties"], facts.execution_properties)
    else:
        # An earlier state (or an older terminal event) fills gaps, never overwrites.
        values["properties"] = merge(facts.execution_properties, row["properties"])
    if start is not None or row["start_time"] is None and not terminal:
        values["start_time"] = start or facts.event_time
    update_row(conn, t.execution, row["id"], **values)
    return int(row["id"])


def _ensure_context(
    conn: Connection, kind: str, name: str, pipeline: JobRun, now: datetime, known: Pending
) -> int:
    type_id = _ensure_type(conn, t.context_type, kind, {}, known)
    cache_key = ("context", type_id, name)
    found = known.get(cache_key)
    if found is None:
        found = find(conn, t.context, type_id=type_id, name=name)
    if found is None:
        properties = {"namespace": pipeline.namespace, "job": pipeline.job}
        if kind == PIPELINE_RUN:
            properties["run_id"] = pipeline.run_id
        found = insert_row(conn, t.context, type_id=type_id, name=name,
                           properties=properties, create_time=now)
    known.put(cache_key, found)
    return int(found)


def _now() -> datetime:
    return datetime.now(UTC)


def _ensure_type(
    conn: Connection, table: Table, name: str, properties: dict[str, Any], known: Pending
) -> int:
    cache_key = (table.name, name)
    cached = known.get(cache_key)
    if cached is not None and merge(cached[1], properties) == cached[1]:
        return int(cached[0])  # known, and this event adds nothing to its properties
    row = find_row(conn, table, name=name)
    if row is None:
        type_id = insert_row(conn, table, name=name, properties=properties)
        known.put(cache_key, (type_id, properties))
        return type_id
    merged = merge(row["properties"], properties)
    if merged != row["properties"]:
        update_row(conn, table, row["id"], properties=merged)
    known.put(cache_key, (int(row["id"]), merged))
    return int(row["id"])


def _artifact_state(direction: str, event_type: str) -> str:
    if direction == "INPUT" or event_type == "COMPLETE":
        return "LIVE"  # read by a run, or written by a finished one
    if event_type in ("FAIL", "ABORT"):
        return "ABANDONED"  # a failed run leaves tables at their previous version
    return "PENDING"


def _upsert_artifact(
    conn: Connection, type_id: int, dataset: DatasetFacts, state: str, now: datetime
) -> int:
    key = dataset.key
    digest = name_digest(key)
    row = find_row(conn, t.artifact, name_digest=digest, version=dataset.version)
    if row is None:
        return insert_row(
            conn, t.artifact,
            type_id=type_id, uri=key, name=key, name_digest=digest,
            version=dataset.version, properties=dataset.properties, state=state,
            create_time=now, update_time=now,
            version_number=int(dataset.version) if dataset.version.isdigit() else None,
        )
    properties = merge(row["properties"], dataset.properties)
    old_tables = set(row["properties"].get("tables") or ())
    tables = sorted(old_tables | set(properties.get("tables") or ()))
    if tables:
        properties["tables"] = tables
    if _STATE_RANK.get(state, 0) <= _STATE_RANK.get(row["state"], 0):
        state = row["state"]
    if properties != row["properties"] or state != row["state"]:
        update_row(conn, t.artifact, row["id"], properties=properties, state=state, update_time=now)
    return int(row["id"])


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``override``'s non-empty values; nested dicts merge key by key."""
    merged = dict(base)
    for name, value in override.items():
        if value is None or value == {} or value == []:
            continue
        if isinstance(value, dict) and isinstance(merged.get(name), dict):
            merged[name] = merge(merged[name], value)
        else:
            merged[name] = value
    return merged
