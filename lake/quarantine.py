"""Validation of one bronze batch: valid rows to silver, every failing row to quarantine.

Each quarantined row keeps its bronze columns (raw values and ``_rescued_data``), the list of
rules it failed and the contract version. The batch's counts (in, valid, quarantined, per rule)
go to ``quarantine.batch_counts``; Great Expectations checks the same rules for the Data Docs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lake.contract import Contract, rules
from lake.delta_io import TableWrite, delta_table, write_batch
from lake.expectations import ExpectationSpec, SuiteResult, validate_dataframe
from lake.tables import BATCH_COUNTS, create_lake_tables
from lake.validation import FAILED, BatchCounts, count_batch, flag_rows, rule_names

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

# Referenced keys up to this size are also checked by Great Expectations (as a value set).
GX_MAX_REFERENCE_KEYS = 10_000


@dataclass(frozen=True)
class DatasetValidation:
    dataset: str
    counts: BatchCounts
    silver: TableWrite
    quarantine: TableWrite
    expectations: SuiteResult
    bronze_version: int


def validate_batch(spark: SparkSession, *, contracts: dict[str, Contract], logical_date: date,
                   batch_id: str, validated_at: datetime, gx_root: Path,
                   force: bool = False) -> list[DatasetValidation]:
    """Validate one batch of every dataset, referenced datasets first."""
    create_lake_tables(spark, contracts)
    results = []
    for name in _dependency_order(contracts):
        contract = contracts[name]
        bronze_version = delta_table(spark, f"bronze.{name}").history(1).first()["version"]
        batch = spark.table(f"bronze.{name}").where(f"_batch_id = '{batch_id}'")
        known = {
            ref.dataset: spark.table(f"silver.{ref.dataset}")
            .where(f"_batch_id <= '{batch_id}'").select(ref.key)
            for ref in contract.references
        }
        flagged = batch.transform(flag_rows(contract, known)).persist()
        try:
            counts = count_batch(flagged, rule_names(contract))
            silver_cols = [*contract.column_names, "_source_file", "_ingested_at", "_batch_id"]
            silver = write_batch(
                flagged.where(f"size({FAILED}) = 0").select(*silver_cols),
                f"silver.{name}", batch_id, force=force,
            )
            quarantine = write_batch(
                flagged.where(f"size({FAILED}) > 0").selectExpr(
                    *batch.columns, FAILED, f"{contract.version} AS _contract_version"),
                f"quarantine.{name}", batch_id, force=force,
            )
        finally:
            flagged.unpersist()
        expectations = validate_dataframe(
            batch, suite_name=f"{contract.source}.{name}", specs=expectation_specs(contract, known),
            gx_root=gx_root, batch_label=f"{name} batch {batch_id}",
        )
        log.info("%s batch %s: %s in, %s valid, %s quarantined", name, batch_id,
                 counts.rows_in, counts.rows_valid, counts.rows_quarantined)
        results.append(DatasetValidation(name, counts, silver, quarantine, expectations,
                                         bronze_version))
    _record_counts(spark, results, contracts, logical_date, batch_id, validated_at, force)
    return results


def expectation_specs(contract: Contract, known: dict[str, DataFrame]) -> list[ExpectationSpec]:
    """The contract's rules as Great Expectations expectations."""
    specs = []
    for rule in rules(contract):
        if rule.kind == "not_null":
            specs.append(ExpectationSpec("not_null", column=rule.column, rule=rule.name))
        elif rule.kind == "range":
            specs.append(ExpectationSpec("between", column=rule.column, min_value=rule.min,
                                         max_value=rule.max, rule=rule.name))
        elif rule.kind == "accepted_values":
            specs.append(ExpectationSpec("in_set", column=rule.column, value_set=rule.values,
                                         rule=rule.name))
        elif rule.kind == "unique":
            if len(contract.keys) == 1:
                specs.append(ExpectationSpec("unique", column=contract.keys[0], rule=rule.name))
            else:
                specs.append(ExpectationSpec("compound_unique", columns=contract.keys,
                                             rule=rule.name))
        elif rule.kind == "duplicate":
            specs.append(ExpectationSpec("compound_unique", columns=contract.column_names,
                                         rule=rule.name))
        elif rule.kind == "reference":
            keys_df = known[rule.reference.dataset]
            keys = [r[0] for r in keys_df.distinct().limit(GX_MAX_REFERENCE_KEYS + 1).collect()]
            if len(keys) <= GX_MAX_REFERENCE_KEYS:
                specs.append(ExpectationSpec("in_set", column=rule.column,
                                             value_set=tuple(sorted(keys)), rule=rule.name))
    return specs


def _record_counts(spark: SparkSession, results: list[DatasetValidation],
                   contracts: dict[str, Contract], logical_date: date, batch_id: str,
                   validated_at: datetime, force: bool) -> None:
    """One row per dataset of the batch in ``quarantine.batch_counts``, in one commit."""
    rows = [
        (r.dataset, batch_id, logical_date, r.counts.rows_in, r.counts.rows_valid,
         r.counts.rows_quarantined, {k: v for k, v in r.counts.by_rule.items() if v},
         contracts[r.dataset].version, validated_at)
        for r in results
    ]
    schema = delta_table(spark, BATCH_COUNTS).toDF().schema
    write_batch(spark.createDataFrame(rows, schema=schema), BATCH_COUNTS, batch_id,
                force=force)


def _dependency_order(contracts: dict[str, Contract]) -> list[str]:
    """Datasets ordered so every referenced dataset is validated before its referrers."""
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in path:
            raise ValueError(f"reference cycle among contracts: {' -> '.join((*path, name))}")
        for ref in contracts[name].references:
            if ref.dataset in contracts:
                visit(ref.dataset, (*path, name))
        ordered.append(name)

    for name in sorted(contracts):
        visit(name, ())
    return ordered
