"""Run a Great Expectations suite on a Spark DataFrame and keep the Data Docs site current.

One file-backed GX project lives under ``gx_root`` (in ``gx_root/gx/``), opened once per process
(:mod:`lake.quality.gx_project`). Each call to :func:`validate_dataframe`:

1. on first use of the suite (or when its specs change) gets or adds the Spark data source, a
   dataframe asset named after the suite and the asset's whole-dataframe batch definition, and
   adds or updates the suite, a ValidationDefinition and a Checkpoint named after it (whose
   UpdateDataDocsAction rebuilds the local Data Docs site when the checkpoint is run by hand);
   later calls in the process reuse these objects;
2. runs the ValidationDefinition with ``batch_label`` as the run name, so Data Docs show which
   batch was validated, and stores the result as the checkpoint would;
3. renders the result's Data Docs pages and the index (:mod:`lake.quality.data_docs`), or, with
   ``data_docs=False``, leaves that to one :func:`update_data_docs` call for several results;
4. returns one :class:`ExpectationOutcome` per spec, in spec order.

Results use GX's ``SUMMARY`` format: counts plus a sample of at most 20 values per rule, never
the failing rows themselves. Every kind except ``not_null`` skips nulls, so its
``unexpected_count`` counts non-null offenders only and ``unexpected_percent`` is relative to the
non-null rows. ``unique`` and ``compound_unique`` count every row that shares its value (two rows
with the same key count as 2).

The GX project is not safe for concurrent writers: processes that validate at the same time
should use different ``gx_root`` folders (or be serialised), because adding an asset rewrites
``gx/great_expectations.yml``. A process reopens the project when that file changed since it
last used it.

Great Expectations is imported inside the functions: importing it takes several seconds.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lake.errors import LakehouseError
from lake.quality import gx_project
from lake.quality.gx_project import RESULT_FORMAT, import_gx

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

logger = logging.getLogger(__name__)

# kind -> (GX expectation class, whether it checks one `column` or several `columns`)
_KINDS: dict[str, tuple[str, str]] = {
    "not_null": ("ExpectColumnValuesToNotBeNull", "column"),
    "between": ("ExpectColumnValuesToBeBetween", "column"),
    "in_set": ("ExpectColumnValuesToBeInSet", "column"),
    "not_in_set": ("ExpectColumnValuesToNotBeInSet", "column"),
    "unique": ("ExpectColumnValuesToBeUnique", "column"),
    "compound_unique": ("ExpectCompoundColumnsToBeUnique", "columns"),
    "passes_rule": ("ExpectRowsToPassRule", "column"),  # lake.gx_rules, on _failed_rules
}
KINDS = tuple(_KINDS)


@dataclass(frozen=True)
class ExpectationSpec:
    """One data-quality rule, mapped to one GX expectation.

    ``rule`` is our name for it, carried in the expectation's ``meta``; when left empty it becomes
    ``"<kind>:<column>"`` (``"compound_unique:<col1>,<col2>"`` for several columns).
    """

    kind: str
    column: str | None = None
    columns: tuple[str, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    value_set: tuple = ()
    rule: str = ""
    mostly: float = 1.0
    description: str = ""
    severity: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise LakehouseError(
                f"ExpectationSpec kind={self.kind!r} is not supported; "
                f"use one of {', '.join(KINDS)}"
            )
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "value_set", tuple(self.value_set))
        if _KINDS[self.kind][1] == "column":
            if not self.column:
                raise LakehouseError(f"ExpectationSpec kind={self.kind!r} needs column=...")
            target = self.column
        else:
            if len(self.columns) < 2 or not all(self.columns):
                raise LakehouseError(
                    f"ExpectationSpec kind={self.kind!r} needs columns=(...) naming at least two"
                    " columns; use kind='unique' for one"
                )
            target = ",".join(self.columns)
        if self.kind == "between" and self.min_value is None and self.max_value is None:
            raise LakehouseError(
                f"ExpectationSpec between:{self.column} needs min_value=..., max_value=... or both"
            )
        if self.kind in ("in_set", "not_in_set") and not self.value_set:
            raise LakehouseError(
                f"ExpectationSpec {self.kind}:{self.column} needs a non-empty value_set=(...)"
            )
        if self.kind == "passes_rule" and not self.rule:
            raise LakehouseError("ExpectationSpec kind='passes_rule' needs rule=... (a contract "
                                 "rule name in the _failed_rules column)")
        if not 0 < self.mostly <= 1:
            raise LakehouseError(f"ExpectationSpec {self.rule or self.kind}: mostly must be in "
                                 f"(0, 1], got {self.mostly}")
        if not self.rule:
            object.__setattr__(self, "rule", f"{self.kind}:{target}")


@dataclass(frozen=True)
class ExpectationOutcome:
    """How one rule fared on one batch (GX ``SUMMARY`` counts, no rows)."""

    rule: str
    expectation: str  # GX expectation type, e.g. "expect_column_values_to_not_be_null"
    column: str | None
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_percent: float | None


@dataclass(frozen=True)
class SuiteResult:
    """The suite's verdict on one batch and where its Data Docs site is."""

    suite: str
    success: bool
    outcomes: tuple[ExpectationOutcome, ...]
    data_docs_index: Path | None
    # GX identifiers of the stored result and its suite: what update_data_docs renders
    resources: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    @property
    def failed(self) -> tuple[ExpectationOutcome, ...]:
        """The outcomes that did not succeed."""
        return tuple(o for o in self.outcomes if not o.success)


def validate_dataframe(
    df: DataFrame,
    *,
    suite_name: str,
    specs: Sequence[ExpectationSpec],
    gx_root: Path,
    batch_label: str,
    data_docs: bool = True,
) -> SuiteResult:
    """Validate ``df`` against ``specs`` as suite ``suite_name`` and update the Data Docs.

    ``gx_root`` holds the file-backed GX project (created on first use). ``batch_label``, for
    example ``"orders 2026-01-03"``, is the run name Data Docs show for this validation.
    ``data_docs=False`` leaves the Data Docs to :func:`update_data_docs` (one build for the
    results of several validations); the result's ``data_docs_index`` is then None.

    Raises :class:`LakehouseError` for bad arguments and, chained, for any GX failure.
    """
    _check_arguments(df, suite_name=suite_name, specs=specs, batch_label=batch_label)
    started = time.perf_counter()
    try:
        result = _run_validation(
            df, suite_name=suite_name, specs=specs, gx_root=Path(gx_root),
            batch_label=batch_label, data_docs=data_docs,
        )
    except LakehouseError:
        raise
    except Exception as err:  # GX raises many unrelated types; wrap them all, chained
        raise LakehouseError(f"Great Expectations could not validate {suite_name}: {err}") from err
    logger.info(
        "validated %s (%s): %d expectations in %.1f s, %s",
        suite_name,
        batch_label,
        len(specs),
        time.perf_counter() - started,
        "all passed" if result.success else f"{len(result.failed)} failed",
    )
    return result


def _check_arguments(
    df: Any, *, suite_name: str, specs: Sequence[ExpectationSpec], batch_label: str
) -> None:
    from pyspark.sql import DataFrame

    if not isinstance(df, DataFrame):
        raise LakehouseError(
            f"validate_dataframe needs a Spark DataFrame for {suite_name}, got {type(df).__name__}"
        )
    for name, value in (("suite_name", suite_name), ("batch_label", batch_label)):
        if not isinstance(value, str) or not value.strip():
            raise LakehouseError(f"validate_dataframe needs a non-empty {name}, got {value!r}")
        if "/" in value or "\\" in value:
            raise LakehouseError(
                f"validate_dataframe {name}={value!r} must not contain '/' or '\\': "
                "GX uses it as a folder name"
            )
    if not specs:
        raise LakehouseError(
            f"validate_dataframe needs at least one ExpectationSpec in specs for {suite_name}"
        )
    seen: set[str] = set()
    for spec in specs:
        if not isinstance(spec, ExpectationSpec):
            raise LakehouseError(
                f"validate_dataframe specs must be ExpectationSpec, got {type(spec).__name__}"
            )
        if spec.rule in seen:
            raise LakehouseError(
                f"validate_dataframe specs for {suite_name} name rule {spec.rule!r} twice; "
                "give each spec its own rule=..."
            )
        seen.add(spec.rule)
    columns = set(df.columns)
    for spec in specs:
        names = (spec.column, *spec.columns)
        # nested struct fields ("address.city") are left for GX to resolve
        missing = [c for c in names if c and c not in columns and "." not in c]
        if missing:
            raise LakehouseError(
                f"rule {spec.rule} of {suite_name} names column {missing[0]!r}, which the "
                f"DataFrame does not have; its columns are {', '.join(df.columns)}"
            )


def update_data_docs(gx_root: Path, results: Sequence[SuiteResult]) -> Path | None:
    """Render the Data Docs pages of ``results`` (from ``validate_dataframe(...,
    data_docs=False)`` on ``gx_root``) and the index once; the index page's path."""
    resources = [r for result in results for r in result.resources]
    if not resources:
        return None
    gx = import_gx()
    try:
        with gx_project.LOCK:
            return gx_project.project(gx, Path(gx_root)).docs.update(resources)
    except Exception as err:  # GX raises many unrelated types; wrap them all, chained
        raise LakehouseError(f"Great Expectations could not build the Data Docs under "
                             f"{gx_root}: {err}") from err


def data_docs_index(gx_root: Path) -> Path | None:
    """Where the Data Docs' index page under ``gx_root`` is (built or not)."""
    gx = import_gx()
    with gx_project.LOCK:
        return gx_project.project(gx, Path(gx_root)).docs.index(only_if_exists=False)


def _run_validation(
    df: DataFrame,
    *,
    suite_name: str,
    specs: Sequence[ExpectationSpec],
    gx_root: Path,
    batch_label: str,
    data_docs: bool,
) -> SuiteResult:
    from pyspark import StorageLevel

    gx = import_gx()
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )
    from great_expectations.exceptions.resource_freshness import ResourceFreshnessAggregateError

    run_id = gx.RunIdentifier(run_name=batch_label, run_time=dt.datetime.now(dt.UTC))
    # GX persists the batch and never unpersists it; leave the cache as the caller had it (the
    # storage level asks Spark's cache manager, so a plan cached through another handle counts)
    was_cached = df.storageLevel != StorageLevel.NONE
    with gx_project.LOCK:
        project = gx_project.project(gx, gx_root)
        try:
            for attempt in (1, 2):
                suite = project.suite(gx, suite_name, tuple(specs),
                                      lambda: [_to_gx(gx, spec) for spec in specs])
                try:
                    # what Checkpoint.run does, without its actions: the Data Docs are updated
                    # below (or once for several results by update_data_docs)
                    result = suite.validation.run(
                        checkpoint_id=suite.checkpoint.id, batch_parameters={"dataframe": df},
                        result_format=RESULT_FORMAT, run_id=run_id)
                    break
                except ResourceFreshnessAggregateError:
                    if attempt == 2:
                        raise
                    # the stored suite changed under this process: add it again
                    project.forget(suite_name)
        finally:
            if not was_cached:
                df.unpersist()
        resources = (
            ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
                run_id=run_id, batch_identifier=result.batch_id),
            ExpectationSuiteIdentifier(name=suite_name),
        )
        index = project.docs.update(resources) if data_docs else None
        project.touched()
    return SuiteResult(
        suite=suite_name,
        success=bool(result.success),
        outcomes=_outcomes(result, specs, suite_name=suite_name),
        data_docs_index=index,
        resources=resources,
    )


def _to_gx(gx: Any, spec: ExpectationSpec) -> Any:
    common: dict[str, Any] = {"meta": {"rule": spec.rule, **(
        {"severity": spec.severity} if spec.severity else {})}}
    if spec.description:
        common["description"] = f"{spec.rule}: {spec.description}" + (
            f" (severity {spec.severity})" if spec.severity else "")
    if spec.kind == "passes_rule":
        from lake.quality.gx_rules import ExpectRowsToPassRule

        return ExpectRowsToPassRule(column=spec.column, rule=spec.rule, mostly=spec.mostly,
                                    **common)
    expectation = getattr(gx.expectations, _KINDS[spec.kind][0])
    if spec.kind == "compound_unique":
        return expectation(column_list=list(spec.columns), **common)
    mostly = {"mostly": spec.mostly} if spec.mostly < 1 else {}
    if spec.kind == "between":
        return expectation(column=spec.column, min_value=spec.min_value,
                           max_value=spec.max_value, **mostly, **common)
    if spec.kind in ("in_set", "not_in_set"):
        return expectation(column=spec.column, value_set=list(spec.value_set), **mostly,
                           **common)
    return expectation(column=spec.column, **mostly, **common)


def _outcomes(
    suite_result: Any, specs: Sequence[ExpectationSpec], *, suite_name: str
) -> tuple[ExpectationOutcome, ...]:
    by_rule: dict[str, Any] = {}
    for result in suite_result.results:
        config = result.expectation_config
        rule = (config.meta or {}).get("rule")
        errors = _raised_exceptions(result.exception_info)
        if errors:
            raise LakehouseError(
                f"Great Expectations could not validate {suite_name}: rule {rule} "
                f"({config.type}) could not run: {'; '.join(errors)}"
            )
        by_rule[rule] = result
    outcomes = []
    for spec in specs:
        result = by_rule.get(spec.rule)
        if result is None:
            raise LakehouseError(
                f"Great Expectations could not validate {suite_name}: no result for {spec.rule}"
            )
        summary = result.result or {}
        percent = summary.get("unexpected_percent")
        outcomes.append(
            ExpectationOutcome(
                rule=spec.rule,
                expectation=result.expectation_config.type,
                column=spec.column,
                success=bool(result.success),
                element_count=int(summary.get("element_count") or 0),
                unexpected_count=int(summary.get("unexpected_count") or 0),
                unexpected_percent=None if percent is None else float(percent),
            )
        )
    return tuple(outcomes)


def _raised_exceptions(info: Mapping[str, Any] | None) -> list[str]:
    """The messages in a result's ``exception_info``: flat, or keyed by metric id."""
    if not info:
        return []
    if "raised_exception" in info:
        infos: list[Any] = [info]
    else:
        infos = [value for value in info.values() if isinstance(value, Mapping)]
    messages = [str(i.get("exception_message")) for i in infos if i.get("raised_exception")]
    return list(dict.fromkeys(messages))
