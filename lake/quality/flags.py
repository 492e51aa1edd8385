"""Row-level validation on Spark: every rule becomes a column expression, evaluated in one pass.

:func:`flag_rows` adds ``_failed_rules`` (array of rule names, empty when the row is valid) to bronze
rows. Great Expectations (``lake.quality.expectations``) reports the same rules for the Data Docs and the
lineage facets, but it returns only a sample of failing rows, so the row-level split that decides
silver vs quarantine is done here, for every row.

Cost, whatever the number of rules K: one scan of the batch with one shuffle (duplicates and key
uniqueness share one window partitioned by the keys), plus one broadcast join per reference (the
referenced keys are small dimension keys). :func:`count_batch` is one aggregation; with the flagged
rows persisted, counting, Great Expectations and the silver/quarantine writes read the cache
(see :mod:`lake.quarantine` for the job count of a whole batch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import and_
from typing import TYPE_CHECKING, Any

from lake.contracts.model import Contract
from lake.contracts.rules.registry import failed as rule_failed
from lake.contracts.rules.registry import rules
from lake.contracts.rules.rule import MALFORMED, RowContext, Rule
from lake.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

FAILED = "_failed_rules"
__all__ = ["FAILED", "MALFORMED", "BatchCounts", "count_batch", "flag_rows", "is_quarantined"]


@dataclass(frozen=True)
class BatchCounts:
    """The conservation law of a batch: ``rows_in == rows_valid + rows_quarantined``.

    ``rows_valid`` rows go to silver (rows failing only ``warn`` rules included); ``by_rule`` counts
    the rows failing each rule, whatever its severity.
    """

    rows_in: int
    rows_valid: int
    rows_quarantined: int
    by_rule: dict[str, int]

    def __post_init__(self) -> None:
        if self.rows_in != self.rows_valid + self.rows_quarantined:
            raise AssertionError(f"rows lost in validation: {self}")


def flag_rows(contract: Contract, known_keys: Mapping[str, DataFrame], *,
              environment: str | None = None, priority: str | None = None):
    """A transform adding ``_failed_rules`` to bronze rows of ``contract``'s dataset.

    ``known_keys`` maps a referenced dataset name to a one-column DataFrame of its known keys.
    ``environment`` picks the rules (default: the contract's). Among exact copies the row with the
    lowest ``priority`` column value, then ``_record_id``, is the original.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    active = rules(contract, environment)

    def transform(df: DataFrame) -> DataFrame:
        data_cols = [*(c for c in contract.column_names if c in df.columns), "_rescued_data"]
        # _record_id last: re-computing the flags (a retried task, a second write) picks the same
        # copy as the original
        tiebreak = [*([F.col(priority)] if priority else []),
                    *([F.col("_record_id")] if "_record_id" in df.columns else [])]
        if contract.keys:
            # One shuffle by key: exact copies sort next to each other (same hash), and the key's
            # distinct records are counted over the same partitions.
            by_key = Window.partitionBy(*contract.keys)
            ordered = by_key.orderBy(F.xxhash64(*data_cols), *tiebreak)
            # column by column, not lag(struct): a struct would be built before the shuffle and
            # move every value twice
            same = [F.lag(c).over(ordered).eqNullSafe(F.col(c)) for c in data_cols]
            df = df.withColumn("_dup", reduce(and_, same, F.row_number().over(ordered) > 1))
            df = df.withColumn("_key_count",
                               F.sum(F.when(F.col("_dup"), 0).otherwise(1)).over(by_key))
        else:
            copies = Window.partitionBy(*data_cols).orderBy(*(tiebreak or [F.lit(1)]))
            df = df.withColumn("_dup", F.row_number().over(copies) > 1)
        # parsed after the shuffle, which then carries the string only
        df = df.withColumn("_rescued_map", F.from_json("_rescued_data", "map<string,string>"))
        ref_ok: dict[str, str] = {}
        for i, rule in enumerate(r for r in active if r.kind == "reference"):
            ref = rule.reference
            keys = known_keys[ref.dataset]
            ok = f"_ref_ok_{i}"
            matches = keys.select(F.col(keys.columns[0]).alias(f"_ref_key_{i}")).distinct()
            df = df.join(F.broadcast(matches.withColumn(ok, F.lit(True))),
                         F.col(ref.column) == F.col(f"_ref_key_{i}"), "left").drop(f"_ref_key_{i}")
            ref_ok[rule.name] = ok
        ctx = RowContext(keys=tuple(contract.keys), references=ref_ok)
        # concatenated one-name arrays, not filter(array(...)): a higher-order function is
        # evaluated row by row outside generated code, and took every check with it (1.6x the
        # flagging's CPU on a million rows)
        none = F.array().cast("array<string>")
        failed = F.concat(none, *(F.when(rule_failed(rule, ctx), F.array(F.lit(rule.name)))
                                  .otherwise(none) for rule in active))
        helpers = ["_rescued_map", "_dup", *(["_key_count"] if contract.keys else []),
                   *ref_ok.values()]
        return df.withColumn(FAILED, failed).drop(*helpers)

    return transform


def check_custom_rules(contract: Contract, df: DataFrame) -> None:
    """Resolve every custom rule's expression against ``df`` (no Spark job); ConfigError if bad."""
    from pyspark.errors import PySparkException
    from pyspark.sql import functions as F

    for custom in contract.custom_rules:
        try:
            df.select(F.expr(custom.expr)).schema  # noqa: B018 - analysis only
        except PySparkException as err:
            first = str(err).strip().splitlines()[0]
            raise ConfigError(
                f"contract {contract.source}.{contract.dataset} v{contract.version}: custom rule "
                f"{custom.name!r} ({custom.expr}) cannot run: {first}; fix its expr in the contract"
            ) from err


def is_quarantined(active: Sequence[Rule]) -> Column:
    """True for a flagged row that failed a rule whose severity is not ``warn``."""
    from pyspark.sql import functions as F

    names = [r.name for r in active if r.quarantines]
    # arrays_overlap, not exists(...): generated code (see flag_rows); never null, as
    # _failed_rules and the names hold no nulls
    return F.arrays_overlap(F.col(FAILED), F.array(*map(F.lit, names))) if names else F.lit(False)


def count_batch(flagged: DataFrame, active: Sequence[Rule],
                extra: Sequence[Column] = ()) -> tuple[BatchCounts, dict[str, Any]]:
    """Rows in / valid / quarantined, failures per rule, and the ``extra`` aggregates (aliased)
    of the same rows, in one aggregation (one Spark job)."""
    from pyspark.sql import functions as F

    aggs = [
        F.count(F.lit(1)).alias("_rows_in"),
        F.sum(F.when(is_quarantined(active), 1).otherwise(0)).alias("_rows_quarantined"),
        *(F.sum(F.when(F.array_contains(FAILED, rule.name), 1).otherwise(0)).alias(f"_r{i}")
          for i, rule in enumerate(active)),
        *extra,
    ]
    row = flagged.agg(*aggs).first().asDict()
    rows_in = row.pop("_rows_in")
    quarantined = row.pop("_rows_quarantined") or 0
    by_rule = {rule.name: row.pop(f"_r{i}") or 0 for i, rule in enumerate(active)}
    return BatchCounts(rows_in, rows_in - quarantined, quarantined, by_rule), row
