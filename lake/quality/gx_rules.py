"""A Great Expectations expectation for contract rules GX has no built-in for.

``ExpectRowsToPassRule(column="_failed_rules", rule="unique:order_id")`` succeeds when (at least
``mostly`` of) the rows did not fail the rule. The row-level verdicts come from
:func:`lake.quality.flags.flag_rows` (duplicates, key uniqueness, references, types, custom SQL rules),
so GX reports exactly what quarantine did, with counts and percentages, in the suite, the
validation results and the Data Docs.

The metric is a plain column map condition on the whole batch, like GX's built-in ``between`` and
``in_set``, so GX's Spark engine bundles every expectation of a suite into the same aggregation:
the suite costs a fixed few Spark jobs, whatever its number of rules.

Importing this module imports GX and registers the expectation; import it inside functions.
"""

from __future__ import annotations

from typing import ClassVar

from great_expectations.execution_engine import SparkDFExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

METRIC = "column_values.lakehouse_passes_rule"


class ColumnValuesPassRule(ColumnMapMetricProvider):
    """True for a row whose ``_failed_rules`` array does not name the rule."""

    condition_metric_name = METRIC
    condition_value_keys = ("rule",)
    filter_column_isnull = False

    @column_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column, rule, **kwargs):
        from pyspark.sql import functions as F

        return ~F.coalesce(F.array_contains(column, rule), F.lit(False))


class ExpectRowsToPassRule(ColumnMapExpectation):
    """Expect rows to pass one rule of the dataset's contract (as flagged in ``_failed_rules``)."""

    rule: str

    map_metric: ClassVar[str] = METRIC
    success_keys: ClassVar[tuple[str, ...]] = ("rule", "mostly")
    args_keys: ClassVar[tuple[str, ...]] = ("column", "rule")
