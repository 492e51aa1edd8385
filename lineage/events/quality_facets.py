"""Data-quality facets (``dataQualityMetrics``, ``dataQualityAssertions``) of one dataset.

Where they go: on an input they are input facets (the spec's ``DataQualityMetricsInputDatasetFacet``
and ``DataQualityAssertionsDatasetFacet``, which extends ``InputDatasetFacet``); on an output they
are dataset facets (``DataQualityMetricsDatasetFacet``; the assertions facet's fields are valid
there too, since a dataset facet is a base facet plus an optional ``_deleted``).

Metrics: ``"<column>.<metric>"`` keys fill ``columnMetrics``; every other key (``rows_valid``,
``rows_quarantined``) is a dataset-level count, kept in the facet's ``datasetMetrics`` property.
The spec lets facets carry properties beyond its own (no ``additionalProperties: false``), so the
event stays valid and the counts stay next to ``rowCount``, where a reader looks for them.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

_COLUMN_METRICS = {
    "null_count": "nullCount",
    "nullcount": "nullCount",
    "distinct_count": "distinctCount",
    "distinctcount": "distinctCount",
    "sum": "sum",
    "count": "count",
    "min": "min",
    "max": "max",
}
_INTEGER_METRICS = frozenset({"nullCount", "distinctCount"})


def split_metrics(
    metrics: dict[str, float],
) -> tuple[dict[str, dict[str, float | int]], dict[str, float | int]]:
    """``(per column {column: {specMetric: value}}, dataset-level {key: value})``.

    A key is per-column when its last dot-separated part is a spec column metric (``amount.max``,
    ``customer.address.null_count``); integral values become ints so counts read as counts. NaN
    and infinite values (a ``min`` over no rows) are left out: JSON cannot carry them.
    """
    columns: dict[str, dict[str, float | int]] = {}
    dataset: dict[str, float | int] = {}
    for key, value in metrics.items():
        if not math.isfinite(float(value)):
            log.debug("dropping quality metric %s=%s: JSON has no NaN or infinity", key, value)
            continue
        column, _, metric = key.rpartition(".")
        spec_name = _COLUMN_METRICS.get(metric.lower()) if column else None
        if spec_name is None:
            dataset[key] = _number(value, integer=False)
            continue
        number = _number(value, integer=spec_name in _INTEGER_METRICS)
        columns.setdefault(column, {})[spec_name] = number
    return columns, dataset


def quality_facets(
    row_count: int,
    metrics: dict[str, float],
    assertions: Iterable[tuple[str, bool, str | None]],
    *,
    for_input: bool,
    producer: str,
) -> dict[str, Any]:
    """The ``dataQualityMetrics`` and ``dataQualityAssertions`` facets of one dataset, from what
    :class:`lineage.events.run_events.QualityResult` holds: its row count, metrics (see
    :func:`split_metrics`) and ``(assertion, success, column or None)`` outcomes."""
    from openlineage.client.facet_v2 import data_quality_assertions_dataset as dqa

    columns, dataset_metrics = split_metrics(metrics)
    assertions = tuple(assertions)
    metrics_class = _metrics_class(for_input)
    module = _metrics_module(for_input)
    facets: dict[str, Any] = {
        "dataQualityMetrics": metrics_class(
            columnMetrics={
                name: module.ColumnMetrics(**values) for name, values in sorted(columns.items())
            },
            rowCount=int(row_count),
            datasetMetrics=dict(sorted(dataset_metrics.items())),
            producer=producer,
        )
    }
    if assertions:
        facets["dataQualityAssertions"] = dqa.DataQualityAssertionsDatasetFacet(
            assertions=[
                dqa.Assertion(assertion=name, success=bool(success), column=column)
                for name, success, column in assertions
            ],
            producer=producer,
        )
    return facets


def _number(value: float, *, integer: bool) -> float | int:
    number = float(value)
    if integer or number.is_integer():
        return int(number)
    return number


def _metrics_module(for_input: bool) -> Any:
    from openlineage.client.facet_v2 import (
        data_quality_metrics_dataset,
        data_quality_metrics_input_dataset,
    )

    return data_quality_metrics_input_dataset if for_input else data_quality_metrics_dataset


def _metrics_class(for_input: bool) -> type:
    return __getattr__("InputQualityMetricsFacet" if for_input else "OutputQualityMetricsFacet")


@functools.cache
def __getattr__(name: str) -> type:
    """``InputQualityMetricsFacet`` / ``OutputQualityMetricsFacet``, built on first use.

    Each is the spec's metrics facet class plus a ``datasetMetrics`` field: a real subclass keeps
    the spec ``_schemaURL`` and serializes through ``Serde``. Built lazily because importing
    openlineage-python takes seconds; resolved through this module ``__getattr__`` so instances
    pickle by name.
    """
    if name not in ("InputQualityMetricsFacet", "OutputQualityMetricsFacet"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import attr

    for_input = name.startswith("Input")
    module = _metrics_module(for_input)
    base = (
        module.DataQualityMetricsInputDatasetFacet
        if for_input
        else module.DataQualityMetricsDatasetFacet
    )
    cls = attr.define(
        type(
            name,
            (base,),
            {
                "__module__": __name__,
                "__qualname__": name,
                "__annotations__": {"datasetMetrics": "dict[str, float | int]"},
                "datasetMetrics": attr.field(factory=dict),
            },
        )
    )
    return cls
