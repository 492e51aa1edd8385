"""Read an OpenLineage run event (its JSON dict) into the typed facts the metadata store records.

Tolerant of what real producers send (Airflow's provider, Spark's listener, ours): unknown facets
are ignored, optional facets may be missing; only what the store cannot do without (run id, job,
event time) raises :class:`InvalidEventError`, naming the field.

The ``MAX_*`` limits are the longest fields the store keeps: :mod:`lineage.store.schema` sizes
its columns by them, so an event that parses always fits, on every backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lineage.errors import InvalidEventError
from lineage.events.naming import dataset_key
from lineage.events.run_events import EVENT_TYPES

MAX_NAME = 512
"""The longest namespace, job or parent name an event may carry (job, context and type names)."""
MAX_RUN_ID = 128
"""The longest run id: run ids are UUIDs (36), with room for producers that add a prefix."""
MAX_VERSION = 255
"""The longest dataset version: Delta versions, batch ids, hashes."""
MAX_DATASET_NAME = 4096
"""The longest dataset name (stored as text, indexed by a digest)."""

TERMINAL = {"COMPLETE": "COMPLETE", "FAIL": "FAILED", "ABORT": "CANCELED"}
"""OpenLineage terminal event type -> execution state."""
_REPEATABLE = frozenset({"RUNNING", "OTHER"})


@dataclass(frozen=True)
class JobRun:
    """A job and one of its runs, as a parent facet names them."""

    namespace: str
    job: str
    run_id: str


@dataclass(frozen=True)
class DatasetFacts:
    """One input or output dataset of an event."""

    namespace: str
    name: str
    version: str  # "" when the event carries no version facet
    properties: dict[str, Any]

    @property
    def key(self) -> str:
        return dataset_key(self.namespace, self.name)


@dataclass(frozen=True)
class RunFacts:
    """What one run event says about its run, job, contexts and datasets."""

    event_type: str
    event_time: datetime
    run_id: str
    job: JobRun
    parent: JobRun | None
    root: JobRun | None
    error: str | None
    execution_properties: dict[str, Any]
    job_properties: dict[str, Any]
    inputs: tuple[DatasetFacts, ...] = field(default=())
    outputs: tuple[DatasetFacts, ...] = field(default=())

    @property
    def repeat_key(self) -> str:
        """'' for lifecycle events (once per run); the event time for RUNNING/OTHER."""
        return self.event_time.isoformat() if self.event_type in _REPEATABLE else ""

    @property
    def pipeline(self) -> JobRun:
        """The root of the run tree: the DAG run (root, else parent, else this run itself)."""
        return self.root or self.parent or self.job


def parse_run_event(event: dict[str, Any]) -> RunFacts:
    """The facts of an OpenLineage ``RunEvent`` dict; :class:`InvalidEventError` if not one."""
    try:
        return _parse(event)
    except (AttributeError, TypeError, KeyError, ValueError) as err:
        # A facet of the wrong shape somewhere deep: as unfixable by retrying as a missing field.
        raise InvalidEventError(
            f"malformed OpenLineage run event ({type(err).__name__}: {err}): check the event "
            "against the spec, e.g. with validate_openlineage.py"
        ) from err


def _parse(event: dict[str, Any]) -> RunFacts:
    if not isinstance(event, dict):
        raise InvalidEventError(f"event must be a JSON object (dict), got {type(event).__name__}")
    if "run" not in event or "job" not in event:
        kind = "DatasetEvent" if "dataset" in event else "JobEvent" if "job" in event else "event"
        raise InvalidEventError(
            f"the metadata store records run events only, this is a {kind} without "
            "'run'/'job': send RunEvents (START, COMPLETE, FAIL) for each run"
        )
    run, job = _obj(event, "run"), _obj(event, "job")
    run_id = _text(run, "runId", "run.runId", MAX_RUN_ID)
    job_ref = JobRun(
        namespace=_text(job, "namespace", "job.namespace", MAX_NAME),
        job=_text(job, "name", "job.name", MAX_NAME),
        run_id=run_id,
    )
    event_type = str(event.get("eventType") or "OTHER").upper()
    if event_type not in EVENT_TYPES:
        raise InvalidEventError(
            f"event field eventType {event.get('eventType')!r} is not an OpenLineage run state: "
            f"use one of {', '.join(EVENT_TYPES)}"
        )
    run_facets = _facets(run, "run.facets")
    parent, root = _parent(run_facets.get("parent"))
    error_facet = run_facets.get("errorMessage") or {}
    return RunFacts(
        event_type=event_type,
        event_time=parse_time(event.get("eventTime"), "eventTime"),
        run_id=run_id,
        job=job_ref,
        parent=parent,
        root=root,
        error=error_facet.get("message") if isinstance(error_facet, dict) else None,
        execution_properties=_execution_properties(run_facets, parent, root, job_ref),
        job_properties=_job_properties(_facets(job, "job.facets"), job_ref),
        inputs=tuple(_dataset(d, "inputs", i) for i, d in enumerate(event.get("inputs") or ())),
        outputs=tuple(
            _dataset(d, "outputs", i) for i, d in enumerate(event.get("outputs") or ())
        ),
    )


def parse_time(value: Any, where: str) -> datetime:
    """An ISO-8601 timestamp as an aware UTC datetime (naive means UTC)."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError as err:
            raise InvalidEventError(
                f"{where} {value!r} is not an ISO-8601 timestamp: write it like "
                "2024-01-31T06:00:00+00:00"
            ) from err
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _obj(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise InvalidEventError(f"event field {key!r} must be an object, got {value!r}")
    return value


def _text(obj: dict[str, Any], key: str, where: str, max_length: int) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidEventError(
            f"event field {where} is missing or empty: every run event needs it"
        )
    if len(value) > max_length:
        raise InvalidEventError(
            f"event field {where} is {len(value)} characters, the store keeps at most "
            f"{max_length}: shorten it"
        )
    return value


def _facets(obj: dict[str, Any], where: str) -> dict[str, Any]:
    facets = obj.get("facets") or {}
    if not isinstance(facets, dict):
        raise InvalidEventError(f"event field {where} must be an object of facets")
    return facets


def _parent(facet: Any) -> tuple[JobRun | None, JobRun | None]:
    if not isinstance(facet, dict):
        return None, None
    parent = _job_run(facet.get("job"), facet.get("run"), "run.facets.parent")
    root_facet = facet.get("root")
    root = (
        _job_run(root_facet.get("job"), root_facet.get("run"), "run.facets.parent.root")
        if isinstance(root_facet, dict)
        else None
    )
    return parent, root


def _job_run(job: Any, run: Any, where: str) -> JobRun | None:
    if not (isinstance(job, dict) and isinstance(run, dict)):
        return None
    namespace, name, run_id = job.get("namespace"), job.get("name"), run.get("runId")
    if not (namespace and name and run_id):
        return None
    # The parent names a context (the DAG, the DAG run): it must fit where contexts are kept.
    for field_name, value in (("job.namespace", namespace), ("job.name", name),
                              ("run.runId", run_id)):
        if len(str(value)) > MAX_NAME:
            raise InvalidEventError(
                f"event field {where}.{field_name} is {len(str(value))} characters, the store "
                f"keeps at most {MAX_NAME}: shorten it"
            )
    return JobRun(namespace=str(namespace), job=str(name), run_id=str(run_id))


def _execution_properties(
    facets: dict[str, Any], parent: JobRun | None, root: JobRun | None, job: JobRun
) -> dict[str, Any]:
    props: dict[str, Any] = {"namespace": job.namespace}
    params = (facets.get("executionParameters") or {}).get("parameters") or []
    parameters = {
        str(p["key"]): p.get("value") for p in params if isinstance(p, dict) and "key" in p
    }
    if parameters:
        props["parameters"] = parameters
    nominal = facets.get("nominalTime") or {}
    if nominal.get("nominalStartTime"):
        props["nominal_start_time"] = nominal["nominalStartTime"]
    if nominal.get("nominalEndTime"):
        props["nominal_end_time"] = nominal["nominalEndTime"]
    for label, ref in (("parent", parent), ("root", root)):
        if ref is not None:
            props[label] = {"namespace": ref.namespace, "job": ref.job, "run_id": ref.run_id}
    return props


def _job_properties(facets: dict[str, Any], job: JobRun) -> dict[str, Any]:
    props: dict[str, Any] = {"namespace": job.namespace}
    job_type = facets.get("jobType") or {}
    for source, target in (
        ("integration", "integration"),
        ("jobType", "job_type"),
        ("processingType", "processing_type"),
    ):
        if job_type.get(source):
            props[target] = job_type[source]
    return props


def _dataset(data: Any, kind: str, index: int) -> DatasetFacts:
    where = f"{kind}[{index}]"
    if not isinstance(data, dict):
        raise InvalidEventError(f"event field {where} must be an object with namespace and name")
    namespace = _text(data, "namespace", f"{where}.namespace", MAX_NAME)
    name = _text(data, "name", f"{where}.name", MAX_DATASET_NAME)
    facets = data.get("facets") or {}
    extra = data.get("inputFacets" if kind == "inputs" else "outputFacets") or {}
    version = str((facets.get("version") or {}).get("datasetVersion") or "")
    if len(version) > MAX_VERSION:
        raise InvalidEventError(
            f"event field {where}.facets.version.datasetVersion is {len(version)} characters, "
            f"the store keeps at most {MAX_VERSION}: shorten it (e.g. a hash of it)"
        )
    props: dict[str, Any] = {"namespace": namespace, "name": name}
    if version:
        props["version"] = version
    tables = [
        i["name"]
        for i in (facets.get("symlinks") or {}).get("identifiers") or []
        if isinstance(i, dict) and i.get("name")
    ]
    if tables:
        props["tables"] = tables
    fields = (facets.get("schema") or {}).get("fields") or []
    if fields:
        props["schema"] = [[f.get("name"), f.get("type")] for f in fields if isinstance(f, dict)]
    statistics = extra.get("outputStatistics") or extra.get("inputStatistics") or {}
    if statistics.get("rowCount") is not None:
        props["row_count"] = statistics["rowCount"]
    quality = _quality(facets, extra)
    if quality:
        props["quality"] = quality
    return DatasetFacts(namespace=namespace, name=name, version=version, properties=props)


def _quality(facets: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    metrics = extra.get("dataQualityMetrics") or facets.get("dataQualityMetrics") or {}
    assertions = extra.get("dataQualityAssertions") or facets.get("dataQualityAssertions") or {}
    quality: dict[str, Any] = {}
    if metrics.get("rowCount") is not None:
        quality["row_count"] = metrics["rowCount"]
    if metrics.get("datasetMetrics"):
        quality["metrics"] = metrics["datasetMetrics"]
    if assertions.get("assertions"):
        quality["assertions"] = [
            {key: a.get(key) for key in ("assertion", "success", "column")}
            for a in assertions["assertions"]
            if isinstance(a, dict)
        ]
    return quality
