"""Recording one OpenLineage run event as MLMD rows, inside the caller's transaction.

Order-tolerant: an execution's state only moves forward (a START after its COMPLETE fills in the
start time, nothing else), an artifact's state only climbs PENDING -> ABANDONED -> LIVE, and
properties merge so that what a later lifecycle event says wins over an earlier one.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, insert, select, update

from lineage import schema as t
from lineage.parse import TERMINAL, DatasetFacts, JobRun, RunFacts

DATASET_TYPE = "Dataset"
PIPELINE = "pipeline"
PIPELINE_RUN = "pipeline_run"
# An artifact's state only moves up this ladder, whatever order its events arrive in.
_STATE_RANK = {"UNKNOWN": 0, "PENDING": 1, "ABANDONED": 2, "LIVE": 3}


def record(conn: Connection, facts: RunFacts, payload: dict[str, Any]) -> bool:
    """Write ``facts`` (parsed from ``payload``) as MLMD rows; False if the event was already in."""
    key = {
        "run_id": facts.run_id,
        "event_type": facts.event_type,
        "job": facts.job.job,
        "repeat_key": facts.repeat_key,
    }
    if _find(conn, t.ol_event, **key) is not None:
        return False
    now = _now()
    conn.execute(
        insert(t.ol_event).values(
            **key,
            job_namespace=facts.job.namespace,
            event_time=facts.event_time,
            ingest_time=now,
            payload=payload,
        )
    )
    execution_id = _upsert_execution(conn, facts, now)
    context_ids = [
        _ensure_context(conn, PIPELINE, facts.pipeline.job, facts.pipeline, now),
        _ensure_context(conn, PIPELINE_RUN, facts.pipeline.run_id, facts.pipeline, now),
    ]
    for context_id in context_ids:
        _ensure(conn, t.association, execution_id=execution_id, context_id=context_id)
    type_id = _ensure_type(conn, t.artifact_type, DATASET_TYPE, {})
    for direction, datasets in (("INPUT", facts.inputs), ("OUTPUT", facts.outputs)):
        for dataset in datasets:
            state = _artifact_state(direction, facts.event_type)
            artifact_id = _upsert_artifact(conn, type_id, dataset, state, now)
            if _find(conn, t.event, artifact_id=artifact_id, execution_id=execution_id,
                     type=direction) is None:
                conn.execute(insert(t.event).values(
                    artifact_id=artifact_id, execution_id=execution_id, type=direction,
                    time=facts.event_time,
                ))
            for context_id in context_ids:
                _ensure(conn, t.attribution, artifact_id=artifact_id, context_id=context_id)
            _ensure_aliases(conn, dataset)
    return True


def _ensure_aliases(conn: Connection, dataset: DatasetFacts) -> None:
    """Every name the dataset answers to, so a query resolves it with one indexed lookup."""
    key = dataset.key
    names = [(key, "key"), (dataset.name, "name")]
    names += [(table, "table") for table in dataset.properties.get("tables") or ()]
    digest = name_digest(key)
    for alias, kind in names:
        alias_digest = name_digest(alias)
        if _find(conn, t.dataset_alias, alias_digest=alias_digest, name_digest=digest) is None:
            conn.execute(insert(t.dataset_alias).values(
                alias_digest=alias_digest, name_digest=digest, alias=alias, name=key, kind=kind))


def _upsert_execution(conn: Connection, facts: RunFacts, now: datetime) -> int:
    type_id = _ensure_type(conn, t.execution_type, facts.job.job, facts.job_properties)
    row = conn.execute(
        select(t.execution).where(
            t.execution.c.type_id == type_id, t.execution.c.name == facts.run_id
        )
    ).mappings().first()
    terminal = TERMINAL.get(facts.event_type)
    start = facts.event_time if facts.event_type == "START" else None
    if row is None:
        result = conn.execute(insert(t.execution).values(
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
        ))
        return int(result.inserted_primary_key[0])
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
    conn.execute(update(t.execution).where(t.execution.c.id == row["id"]).values(**values))
    return int(row["id"])


def _ensure_context(
    conn: Connection, kind: str, name: str, pipeline: JobRun, now: datetime
) -> int:
    type_id = _ensure_type(conn, t.context_type, kind, {})
    found = _find(conn, t.context, type_id=type_id, name=name)
    if found is not None:
        return found
    properties = {"namespace": pipeline.namespace, "job": pipeline.job}
    if kind == PIPELINE_RUN:
        properties["run_id"] = pipeline.run_id
    result = conn.execute(insert(t.context).values(
        type_id=type_id, name=name, properties=properties, create_time=now
    ))
    return int(result.inserted_primary_key[0])


def _now() -> datetime:
    return datetime.now(UTC)


def name_digest(name: str) -> str:
    """SHA-256 of a dataset key: a short, indexable stand-in for names of any length."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def _find(conn: Connection, table: Table, **values: Any) -> int | None:
    """The id (or first key column) of the row matching ``values``, or None."""
    column = table.c.id if "id" in table.c else next(iter(table.primary_key.columns))
    condition = and_(*(table.c[name] == value for name, value in values.items()))
    return conn.execute(select(column).where(condition).limit(1)).scalar()


def _ensure(conn: Connection, table: Table, **values: Any) -> None:
    if _find(conn, table, **values) is None:
        conn.execute(insert(table).values(**values))


def _ensure_type(conn: Connection, table: Table, name: str, properties: dict[str, Any]) -> int:
    row = conn.execute(select(table).where(table.c.name == name)).mappings().first()
    if row is None:
        result = conn.execute(insert(table).values(name=name, properties=properties))
        return int(result.inserted_primary_key[0])
    merged = merge(row["properties"], properties)
    if merged != row["properties"]:
        conn.execute(update(table).where(table.c.id == row["id"]).values(properties=merged))
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
    row = conn.execute(
        select(t.artifact).where(
            t.artifact.c.name_digest == name_digest(key), t.artifact.c.version == dataset.version
        )
    ).mappings().first()
    if row is None:
        result = conn.execute(insert(t.artifact).values(
            type_id=type_id, uri=key, name=key, name_digest=name_digest(key),
            version=dataset.version, properties=dataset.properties, state=state,
            create_time=now, update_time=now,
            version_number=int(dataset.version) if dataset.version.isdigit() else None,
        ))
        return int(result.inserted_primary_key[0])
    properties = merge(row["properties"], dataset.properties)
    old_tables = set(row["properties"].get("tables") or ())
    tables = sorted(old_tables | set(properties.get("tables") or ()))
    if tables:
        properties["tables"] = tables
    if _STATE_RANK.get(state, 0) <= _STATE_RANK.get(row["state"], 0):
        state = row["state"]
    if properties != row["properties"] or state != row["state"]:
        conn.execute(update(t.artifact).where(t.artifact.c.id == row["id"]).values(
            properties=properties, state=state, update_time=now
        ))
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
