"""Row-level validation on Spark: every rule becomes a column expression, evaluated in one pass.

:func:`flag_rows` adds ``_failed_rules`` (array of rule names, empty when the row is valid) to bronze
rows. Great Expectations (``lake.expectations``) checks the same rules for the Data Docs and the
lineage facets, but it returns only a sample of failing rows, so the row-level split that decides
silver vs quarantine is done here, for every row.

Cost: one scan of the batch, plus one shuffle for the duplicate/uniqueness windows and one
broadcast join per reference (the referenced keys are small dimension keys).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lake.contract import Contract, Rule, rules

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

FAILED = "_failed_rules"
MALFORMED = "malformed_record"


@dataclass(frozen=True)
class BatchCounts:
    """The conservation law of a batch: ``rows_in == rows_valid + rows_quarantined``."""

    rows_in: int
    rows_valid: int
    rows_quarantined: int
    by_rule: dict[str, int]

    def __post_init__(self) -> None:
        if self.rows_in != self.rows_valid + self.rows_quarantined:
            raise AssertionError(f"rows lost in validation: {self}")


def rule_names(contract: Contract) -> tuple[str, ...]:
    return (MALFORMED, *(r.name for r in rules(contract)))


def flag_rows(contract: Contract, known_keys: Mapping[str, DataFrame]):
    """A transform adding ``_failed_rules`` to bronze rows of ``contract``'s dataset.

    ``known_keys`` maps a referenced dataset name to a one-column DataFrame of its known keys.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    def transform(df: DataFrame) -> DataFrame:
        rescued = F.from_json("_rescued_data", "map<string,string>")
        df = df.withColumn("_rescued_map", rescued)
        data_cols = [*contract.column_names, "_rescued_data"]
        dup_window = Window.partitionBy(*data_cols).orderBy(F.lit(1))
        df = df.withColumn("_dup_rank", F.row_number().over(dup_window))
        if contract.keys:
            key_window = Window.partitionBy(*contract.keys)
            first = F.when(F.col("_dup_rank") == 1, 1).otherwise(0)
            df = df.withColumn("_key_count", F.sum(first).over(key_window))
        ref_flags = []
        for i, rule in enumerate(r for r in rules(contract) if r.kind == "reference"):
            ref = rule.reference
            keys = known_keys[ref.dataset]
            ok = f"_ref_ok_{i}"
            matches = keys.select(F.col(keys.columns[0]).alias(f"_ref_key_{i}")).distinct()
            df = df.join(
                F.broadcast(matches.withColumn(ok, F.lit(True))),
                F.col(ref.column) == F.col(f"_ref_key_{i}"),
                "left",
            ).drop(f"_ref_key_{i}")
            ref_flags.append((rule, ok))
        checks = [F.when(F.col("_rescued_map")[F.lit("_corrupt_record")].isNotNull(), F.lit(MALFORMED))]
        for rule in rules(contract):
            cond = _condition(rule, contract, dict((r.name, ok) for r, ok in ref_flags))
            checks.append(F.when(cond, F.lit(rule.name)))
        failed = F.filter(F.array(*checks), lambda x: x.isNotNull())
        helpers = ["_rescued_map", "_dup_rank", *(["_key_count"] if contract.keys else []),
                   *(ok for _, ok in ref_flags)]
        return df.withColumn(FAILED, failed).drop(*helpers)

    return transform


def _condition(rule: Rule, contract: Contract, ref_ok: dict[str, str]) -> Column:
    from pyspark.sql import functions as F

    col = F.col(rule.column) if rule.column else None
    misfit = F.col("_rescued_map")[F.lit(rule.column)].isNotNull() if rule.column else None
    if rule.kind == "type":
        return F.coalesce(misfit, F.lit(False))
    if rule.kind == "not_null":
        return col.isNull() & ~F.coalesce(misfit, F.lit(False))
    if rule.kind == "range":
        low = col < F.lit(rule.min) if rule.min is not None else F.lit(False)
        high = col > F.lit(rule.max) if rule.max is not None else F.lit(False)
        return F.coalesce(low | high, F.lit(False))
    if rule.kind == "accepted_values":
        return F.coalesce(~col.isin(list(rule.values)), F.lit(False))
    if rule.kind == "duplicate":
        return F.col("_dup_rank") > 1
    if rule.kind == "unique":
        keys_present = F.lit(True)
        for key in contract.keys:
            keys_present = keys_present & F.col(key).isNotNull()
        return keys_present & (F.col("_dup_rank") == 1) & (F.col("_key_count") > 1)
    if rule.kind == "reference":
        return col.isNotNull() & F.col(ref_ok[rule.name]).isNull()
    raise ValueError(f"unknown rule kind {rule.kind!r}")


def count_batch(flagged: DataFrame, names: tuple[str, ...]) -> BatchCounts:
    """rows in / valid / quarantined and failures per rule, in one aggregation."""
    from pyspark.sql import functions as F

    aggs = [
        F.count(F.lit(1)).alias("rows_in"),
        F.sum(F.when(F.size(FAILED) == 0, 1).otherwise(0)).alias("rows_valid"),
    ]
    aggs += [
        F.sum(F.when(F.array_contains(FAILED, name), 1).otherwise(0)).alias(f"r{i}")
        for i, name in enumerate(names)
    ]
    row = flagged.agg(*aggs).first()
    rows_in = row["rows_in"]
    rows_valid = row["rows_valid"] or 0
    by_rule = {name: row[f"r{i}"] or 0 for i, name in enumerate(names)}
    return BatchCounts(rows_in, rows_valid, rows_in - rows_valid, by_rule)
