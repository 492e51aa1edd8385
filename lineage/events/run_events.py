"""OpenLineage run events for our jobs, built from small typed descriptions of what a run touched.

A job describes its datasets with :class:`DatasetRef` (where, which catalog table, which Delta
version, schema, row count, quality, column lineage) and calls :func:`run_event` for START, then
COMPLETE or FAIL. The result is an ``openlineage.client.event_v2.RunEvent`` that any OpenLineage
client can emit; :func:`to_json` gives its one-line wire form.

Facets, all from the official spec (openlineage-python's ``facet_v2``):

* every dataset: ``schema``, ``symlinks`` (the catalog table, type ``TABLE``), ``datasetVersion``
  (the Delta version as a string);
* outputs: ``outputStatistics`` (row count), ``columnLineage``; inputs: ``inputStatistics``;
* with quality: ``dataQualityMetrics`` and ``dataQualityAssertions`` — in ``inputFacets`` on an
  input, in ``facets`` on an output (see :mod:`lineage.events.quality_facets`);
* run: ``parent`` (with ``root``), ``nominalTime``, ``errorMessage``, ``executionParameters``;
* job: ``jobType`` (processing type BATCH).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lineage.errors import InvalidEventError
from lineage.events.naming import dataset_id
from lineage.events.quality_facets import quality_facets

if TYPE_CHECKING:
    from openlineage.client.event_v2 import InputDataset, OutputDataset, RunEvent

PRODUCER = "urn:lakehouse:lineage"
"""The ``producer`` URI on every event and facet we build."""

EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
_JOB_TYPES = {"SPARK": "JOB", "AIRFLOW": "TASK"}


@dataclass(frozen=True)
class QualityResult:
    """What a quality check found on one dataset.

    ``metrics`` keys are ``"<column>.<metric>"`` for per-column metrics, where metric is one of
    ``null_count``, ``distinct_count``, ``sum``, ``count``, ``min``, ``max`` (camelCase works too);
    any other key (``rows_valid``, ``rows_quarantined``) is a dataset-level metric.
    ``assertions`` are ``(assertion, success, column or None)``.
    """

    row_count: int
    metrics: dict[str, float]
    assertions: tuple[tuple[str, bool, str | None], ...]


@dataclass(frozen=True)
class DatasetRef:
    """One dataset a run read or wrote.

    ``location`` is a path or URI (named by :func:`lineage.events.naming.dataset_id`); ``table`` the
    catalog name (``bronze.orders``); ``version`` the Delta version read or written (or a
    batch id for a landing folder); ``schema``
    ``(column, type)`` pairs; ``column_lineage`` maps an output column to the
    ``(input dataset location, input column)`` pairs it was computed from, each optionally
    followed by how (``subtype``: IDENTITY, TRANSFORMATION or AGGREGATION, and ``masking``), as
    :class:`lineage.events.column_lineage.Source` gives them; the facet then carries them as DIRECT
    transformations.
    """

    location: str
    table: str | None = None
    version: int | str | None = None
    schema: tuple[tuple[str, str], ...] = ()
    row_count: int | None = None
    quality: QualityResult | None = None
    column_lineage: dict[str, Sequence[tuple[Any, ...]]] | None = None


@dataclass(frozen=True)
class ParentRun:
    """The run that started this one (the Airflow task run), and the root of the tree (DAG run).

    ``root_namespace`` defaults to ``namespace`` when only the root job and run are given.
    """

    namespace: str
    job_name: str
    run_id: str
    root_namespace: str | None = None
    root_job_name: str | None = None
    root_run_id: str | None = None


def run_event(
    event_type: str,
    *,
    namespace: str,
    job_name: str,
    run_id: str,
    event_time: datetime,
    inputs: Sequence[DatasetRef] = (),
    outputs: Sequence[DatasetRef] = (),
    parent: ParentRun | None = None,
    nominal_time: datetime | None = None,
    error: str | None = None,
    job_type: str = "SPARK",
    parameters: dict[str, str] | None = None,
) -> RunEvent:
    """An OpenLineage ``RunEvent`` for one state change of one run of a job.

    ``event_type`` is START, RUNNING, COMPLETE, ABORT, FAIL or OTHER; ``run_id`` a UUID (the same
    for every event of the run); times must be timezone-aware. ``error`` adds an ``errorMessage``
    run facet; ``job_type`` is ``"SPARK"`` (a spark-submit job) or ``"AIRFLOW"`` (a task).
    Raises :class:`InvalidEventError` naming the bad argument.
    """
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

    kind = _check_event_type(event_type)
    _check_uuid("run_id", run_id)
    if job_type not in _JOB_TYPES:
        raise InvalidEventError(
            f"job_type {job_type!r} is not supported: use one of {', '.join(_JOB_TYPES)}"
        )
    if not namespace or not job_name:
        raise InvalidEventError("namespace and job_name must both be non-empty strings")
    return RunEvent(
        eventType=RunState(kind),
        eventTime=_iso("event_time", event_time),
        run=Run(runId=run_id, facets=_run_facets(parent, nominal_time, error, parameters)),
        job=Job(namespace=namespace, name=job_name, facets=_job_facets(job_type)),
        inputs=[_input(ref) for ref in inputs],
        outputs=[_output(ref) for ref in outputs],
        producer=PRODUCER,
    )


def to_json(event: Any) -> str:
    """The event as one line of JSON (openlineage's ``Serde``: nulls dropped, keys sorted)."""
    from openlineage.client.serde import Serde

    return Serde.to_json(event)


def _check_event_type(event_type: str) -> str:
    kind = str(event_type).upper()
    if kind not in EVENT_TYPES:
        raise InvalidEventError(
            f"event_type {event_type!r} is not an OpenLineage run state: use one of "
            f"{', '.join(EVENT_TYPES)}"
        )
    return kind


def _check_uuid(argument: str, value: str) -> None:
    try:
        uuid.UUID(str(value))
    except ValueError as err:
        raise InvalidEventError(
            f"{argument} {value!r} is not a UUID: OpenLineage run ids are UUIDs; create one per "
            "run attempt with openlineage.client.uuid.generate_new_uuid()"
        ) from err


def _iso(argument: str, value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidEventError(
            f"{argument} {value!r} has no timezone: pass an aware datetime, e.g. "
            "datetime.now(timezone.utc)"
        )
    return value.astimezone(UTC).isoformat()


def _run_facets(
    parent: ParentRun | None,
    nominal_time: datetime | None,
    error: str | None,
    parameters: dict[str, str] | None,
) -> dict[str, Any]:
    from openlineage.client.facet_v2 import (
        error_message_run,
        execution_parameters_run,
        nominal_time_run,
    )

    facets: dict[str, Any] = {}
    if parent is not None:
        facets["parent"] = _parent_facet(parent)
    if nominal_time is not None:
        facets["nominalTime"] = nominal_time_run.NominalTimeRunFacet(
            nominalStartTime=_iso("nominal_time", nominal_time), producer=PRODUCER
        )
    if error is not None:
        facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=error, programmingLanguage="python", producer=PRODUCER
        )
    if parameters:
        facets["executionParameters"] = execution_parameters_run.ExecutionParametersRunFacet(
            parameters=[
                execution_parameters_run.ExecutionParameter(key=str(key), value=str(value))
                for key, value in sorted(parameters.items())
            ],
            producer=PRODUCER,
        )
    return facets


def _parent_facet(parent: ParentRun) -> Any:
    from openlineage.client.facet_v2 import parent_run

    _check_uuid("parent.run_id", parent.run_id)
    root = None
    if parent.root_job_name or parent.root_run_id:
        if not (parent.root_job_name and parent.root_run_id):
            raise InvalidEventError(
                "parent names only half of its root: give both root_job_name and root_run_id "
                "(the DAG and the DAG run), or neither"
            )
        _check_uuid("parent.root_run_id", parent.root_run_id)
        root = parent_run.Root(
            run=parent_run.RootRun(runId=parent.root_run_id),
            job=parent_run.RootJob(
                namespace=parent.root_namespace or parent.namespace, name=parent.root_job_name
            ),
        )
    return parent_run.ParentRunFacet(
        run=parent_run.Run(runId=parent.run_id),
        job=parent_run.Job(namespace=parent.namespace, name=parent.job_name),
        root=root,
        producer=PRODUCER,
    )


def _job_facets(job_type: str) -> dict[str, Any]:
    from openlineage.client.facet_v2 import job_type_job

    return {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH",
            integration=job_type,
            jobType=_JOB_TYPES[job_type],
            producer=PRODUCER,
        )
    }


def _dataset_facets(ref: DatasetRef, namespace: str) -> dict[str, Any]:
    from openlineage.client.facet_v2 import (
        dataset_version_dataset,
        schema_dataset,
        symlinks_dataset,
    )

    facets: dict[str, Any] = {}
    if ref.schema:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[
                schema_dataset.SchemaDatasetFacetFields(name=name, type=type_)
                for name, type_ in ref.schema
            ],
            producer=PRODUCER,
        )
    if ref.table:
        facets["symlinks"] = symlinks_dataset.SymlinksDatasetFacet(
            identifiers=[
                symlinks_dataset.Identifier(namespace=namespace, name=ref.table, type="TABLE")
            ],
            producer=PRODUCER,
        )
    if ref.version is not None:
        facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
            datasetVersion=str(ref.version), producer=PRODUCER
        )
    return facets


def _input(ref: DatasetRef) -> InputDataset:
    from openlineage.client.event_v2 import InputDataset
    from openlineage.client.facet_v2 import input_statistics_input_dataset

    namespace, name = dataset_id(ref.location)
    input_facets: dict[str, Any] = {}
    if ref.row_count is not None:
        input_facets["inputStatistics"] = (
            input_statistics_input_dataset.InputStatisticsInputDatasetFacet(
                rowCount=ref.row_count, producer=PRODUCER
            )
        )
    if ref.quality is not None:
        input_facets.update(_quality(ref.quality, for_input=True))
    return InputDataset(
        namespace=namespace,
        name=name,
        facets=_dataset_facets(ref, namespace),
        inputFacets=input_facets,
    )


def _output(ref: DatasetRef) -> OutputDataset:
    from openlineage.client.event_v2 import OutputDataset
    from openlineage.client.facet_v2 import output_statistics_output_dataset

    namespace, name = dataset_id(ref.location)
    facets = _dataset_facets(ref, namespace)
    if ref.quality is not None:
        facets.update(_quality(ref.quality, for_input=False))
    if ref.column_lineage:
        facets["columnLineage"] = _column_lineage(ref.column_lineage)
    output_facets: dict[str, Any] = {}
    if ref.row_count is not None:
        output_facets["outputStatistics"] = (
            output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=ref.row_count, producer=PRODUCER
            )
        )
    return OutputDataset(
        namespace=namespace, name=name, facets=facets, outputFacets=output_facets
    )


def _quality(result: QualityResult, *, for_input: bool) -> dict[str, Any]:
    return quality_facets(result.row_count, result.metrics, result.assertions,
                          for_input=for_input, producer=PRODUCER)


def _column_lineage(mapping: dict[str, list[tuple[str, str]]]) -> Any:
    from openlineage.client.facet_v2 import column_lineage_dataset as cl

    fields = {}
    for column, sources in sorted(mapping.items()):
        # One input field per source column, with every way this output derives from it.
        ways: dict[tuple[str, str], list[Any]] = {}
        for location, input_column, *how in sources:
            transformations = ways.setdefault((location, input_column), [])
            if how:
                subtype, masking = how[0], bool(how[1]) if len(how) > 1 else False
                transformation = cl.Transformation(type="DIRECT", subtype=subtype,
                                                   masking=masking)
                if transformation not in transformations:
                    transformations.append(transformation)
        input_fields = []
        for (location, input_column), transformations in ways.items():
            namespace, name = dataset_id(location)
            input_fields.append(cl.InputField(namespace=namespace, name=name, field=input_column,
                                              transformations=transformations))
        fields[column] = cl.Fields(inputFields=input_fields)
    return cl.ColumnLineageDatasetFacet(fields=fields, producer=PRODUCER)
