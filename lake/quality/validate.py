"""Validation of one bronze batch: valid rows to silver, every failing row to quarantine.

Per dataset, every dataset of the batch side by side, with the contract version in effect for the
batch and the batch's environment (a reference check reads the referenced dataset's rows of
earlier batches in silver, and its rows of this batch that pass, flagged beside it):

1. flag every row (:func:`lake.quality.flags.flag_rows`) and persist the result;
2. one aggregation counts rows in / valid / quarantined, failures per rule and the profile
   statistics (:mod:`lake.quality.profile`); a group-by adds value frequencies where needed;
3. Great Expectations runs the suite generated from the contract on the persisted rows
   (:func:`expectation_specs`), beside step 2's group-by;
4. the anomaly report is computed (:mod:`lake.quality.anomalies`).

The Data Docs are updated once for the batch (every dataset's result pages and the index), beside
the writes below, or before the batch stops.

Only when every dataset passed its ``fail``-severity rules are rows written: silver, quarantine
(each row with the rules it failed and the contract version; a dataset with no failing rows
writes quarantine only to replace rows an earlier run of the batch left there) and
``meta.anomalies``, side by side, then ``meta.batch_counts``, which marks the batch validated.
Otherwise :class:`ContractViolation` stops the batch and nothing is written past bronze.

Passes over the data, whatever the number of rules K: the bronze batch is read once (step 1,
materialised by step 2's aggregation); everything after reads the persisted flagged rows: one
group-by (step 2's value counts), GX's bundled metrics (:mod:`lake.quality.gx_rules`) and the two writes.
In Spark jobs that is 13 before the writes for a dataset with a reference (adaptive execution runs
each shuffle and broadcast as a job of its own); ``tests/lake/test_validation_passes.py`` checks
the count does not change with K.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from lake.config.sources import Source
from lake.contracts.model import Contract
from lake.contracts.rules.registry import expectation, rules
from lake.contracts.rules.rule import Rule
from lake.contracts.tables import SILVER_METADATA, create_zone_tables
from lake.errors import ContractViolation, SchemaEvolutionError
from lake.ingest.bronze import check_environment, environment_for
from lake.platform.catalog import table
from lake.platform.concurrent import MAX_THREADS, run_concurrently
from lake.platform.delta import (
    TableWrite,
    delta_table,
    latest_version,
    table_location,
    write_batch,
)
from lake.platform.meta_tables import (
    ANOMALIES,
    BATCH_COUNTS,
    SCHEMA_OBSERVATIONS,
    batch_of,
    create_meta_tables,
)
from lake.quality.anomalies import Anomaly, detect
from lake.quality.expectations import (
    ExpectationSpec,
    SuiteResult,
    data_docs_index,
    update_data_docs,
    validate_dataframe,
)
from lake.quality.flags import FAILED, BatchCounts, check_custom_rules, count_batch, flag_rows
from lake.quality.flags import is_quarantined as quarantined
from lake.quality.profile import Profile, aggregates, from_aggregates, value_counts

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatasetValidation:
    dataset: str
    environment: str
    contract: Contract
    counts: BatchCounts
    expectations: SuiteResult
    anomalies: tuple[Anomaly, ...]
    profile: Profile
    bronze_version: int
    silver: TableWrite | None = None
    quarantine: TableWrite | None = None


@dataclass
class _Checked:
    result: DatasetValidation
    flagged: DataFrame
    active: tuple[Rule, ...]


def validate_batch(spark: SparkSession, source: Source, *, logical_date: date, batch_id: str,
                   validated_at: datetime, gx_root: Path, environment: str | None = None,
                   force: bool = False) -> list[DatasetValidation]:
    """Validate one bronze batch of every dataset of ``source`` that has rows in it (see the
    module doc); the per-dataset results."""
    from lake.contracts.versions import in_effect
    from lake.quality.gx_project import import_in_background

    import_in_background()
    check_environment(source.contracts, environment)
    create_meta_tables(spark)
    effective, changes, previous = run_concurrently([
        partial(in_effect, spark, source.contracts, batch_id, validated_at),
        partial(_schema_changes, spark, source.name, batch_id),
        partial(_previous_profiles, spark, source.name, batch_id)])
    create_zone_tables(spark, effective)
    flagged: dict[str, _Flagged] = {}
    checked: dict[str, _Checked] = {}
    try:
        def check_one(name: str, f: _Flagged) -> _Checked:
            c = check(f.contract, f.environment, f.rows, f.columns, gx_root=gx_root,
                      label=f"{source.name}.{name} batch {batch_id}", changes=changes[name],
                      previous=previous.get(name), data_docs=False)
            c.result = replace(c.result, bronze_version=f.bronze_version)
            return c

        checked.update(_flag_and_check(spark, effective,
                                       [name for name in effective if name in changes],
                                       environment, batch_id, flagged, check_one))
        if not checked:
            return []
        docs = partial(update_data_docs, gx_root, [c.result.expectations
                                                   for c in checked.values()])
        index = data_docs_index(gx_root)
        for c in checked.values():
            c.result = replace(c.result, expectations=replace(c.result.expectations,
                                                              data_docs_index=index))
        try:
            _stop_on_failed_rules([c.result for c in checked.values()], batch_id)
        except ContractViolation:
            docs()  # the pages that show why
            raise
        # the Data Docs and the anomaly report beside the writes; the batch's counts after
        # them, as they mark the batch validated (pending_batches)
        txn = sum(c.result.contract.version for c in checked.values())
        _, _, *results = run_concurrently(
            [docs, partial(_record, spark, ANOMALIES, _anomaly_rows(
                source.name, checked, logical_date, batch_id, validated_at), source.name,
                batch_id, force=force, txn=txn)]
            + [partial(_write, c, batch_id, force) for c in checked.values()])
    finally:
        # referrers first: uncaching rows another cached plan still reads (a referenced
        # dataset's) makes Spark re-check that plan, 0.4-0.5 s each on a warm day
        for f in reversed(flagged.values()):
            f.rows.unpersist()
    _record(spark, BATCH_COUNTS, _count_rows(source.name, results, logical_date, batch_id,
                                             validated_at), source.name, batch_id, force=force,
            txn=txn)
    return results


@dataclass(frozen=True)
class _Flagged:
    contract: Contract
    environment: str
    rows: DataFrame  # persisted
    columns: tuple[str, ...]  # the bronze batch's
    active: tuple[Rule, ...]
    bronze_version: int


def _flag_and_check(spark: SparkSession, effective: dict[str, Contract], names: list[str],
                    environment: str | None, batch_id: str, flagged: dict[str, _Flagged],
                    check_one: Callable[[str, _Flagged], _Checked]) -> dict[str, _Checked]:
    """Add each dataset of ``names`` to ``flagged`` as a plan, referenced datasets first (a
    reference check reads the flagged rows of this batch that pass), and check each
    (``check_one``): a level's datasets side by side with each other and with the flagging of
    the next level. Spark computes a referenced dataset's flagged rows once, for its own check
    and its referrers'. Every check started runs to its end before an error is raised."""
    with ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="lakehouse-check") as pool:
        checks = {}
        for level in _dependency_levels(effective):
            wanted = [name for name in level if name in names]
            flagged.update(zip(wanted, run_concurrently([partial(
                _flag, spark, effective[name], environment_for(effective[name], environment),
                batch_id, dict(flagged)) for name in wanted]), strict=True))
            checks.update({name: pool.submit(check_one, name, flagged[name]) for name in wanted})
    return {name: future.result() for name, future in checks.items()}


def _flag(spark: SparkSession, contract: Contract, env: str, batch_id: str,
          flagged: dict[str, _Flagged]) -> _Flagged:
    """The batch's bronze rows of ``contract``'s dataset, flagged and persisted (a plan: no
    Spark job runs here)."""
    name = contract.dataset
    bronze_table = table(contract.source, "bronze", name)
    bronze = delta_table(spark, bronze_table)
    bronze_version = latest_version(spark, table_location(spark, bronze_table))
    batch = bronze.toDF().where(f"_batch_id = '{batch_id}'")
    missing = [c for c in contract.column_names if c not in batch.columns]
    if missing:
        raise SchemaEvolutionError(
            f"{bronze_table} has no columns {missing} of contract v{contract.version}; re-run the "
            f"bronze task for batch {batch_id} so it is ingested with that contract version")
    known = _known_keys(spark, contract, batch_id, flagged)
    return _Flagged(contract, env, flag(contract, env, batch, known), tuple(batch.columns),
                    rules(contract, env), bronze_version)


def flag(contract: Contract, env: str, batch: DataFrame,
         known: dict[str, DataFrame]) -> DataFrame:
    """Step 1 of the module doc: ``batch`` (bronze rows) with ``_failed_rules``, persisted (the
    caller unpersists); ConfigError for a custom rule that cannot run."""
    check_custom_rules(contract, batch)
    return batch.transform(flag_rows(contract, known, environment=env)).persist()


def evaluate(contract: Contract, env: str, batch: DataFrame, known: dict[str, DataFrame], *,
             gx_root: Path, label: str, changes: list[dict] = (),
             previous: Profile | None = None, data_docs: bool = True) -> _Checked:
    """Steps 1-4 of the module doc on ``batch`` (bronze rows); the flagged rows stay persisted
    for the writes (the caller unpersists them). ``data_docs=False`` leaves the Data Docs to
    the caller (:func:`update_data_docs`, once for several datasets)."""
    return check(contract, env, flag(contract, env, batch, known), batch.columns,
                 gx_root=gx_root, label=label, changes=changes, previous=previous,
                 data_docs=data_docs)


def check(contract: Contract, env: str, flagged: DataFrame, columns: Sequence[str], *,
          gx_root: Path, label: str, changes: list[dict] = (), previous: Profile | None = None,
          data_docs: bool = True) -> _Checked:
    """Steps 2-4 of the module doc on ``flagged`` rows (persisted) whose bronze columns are
    ``columns``."""
    active = rules(contract, env)
    counts, stats = count_batch(flagged, active, aggregates(contract, env, columns, previous))
    profile = from_aggregates(contract, env, columns, counts.rows_in, stats)
    # side by side: both only read the persisted rows, and GX's own Python work leaves the
    # cores to the value counts' jobs
    _, expectations = run_concurrently([
        partial(value_counts, flagged, contract, profile),
        partial(validate_dataframe, flagged, suite_name=f"{contract.source}.{contract.dataset}",
                specs=expectation_specs(active), gx_root=gx_root,
                batch_label=f"{label} ({env}, contract v{contract.version})",
                data_docs=data_docs)])
    anomalies = tuple(detect(contract, env, active, counts.by_rule, profile, previous, changes))
    log.info("%s (%s, contract v%s): %s in, %s valid, %s quarantined, %s anomalies", label, env,
             contract.version, counts.rows_in, counts.rows_valid, counts.rows_quarantined,
             len(anomalies))
    result = DatasetValidation(contract.dataset, env, contract, counts, expectations, anomalies,
                               profile, bronze_version=-1)
    return _Checked(result, flagged, active)


def _known_keys(spark: SparkSession, contract: Contract, batch_id: str,
                flagged: dict[str, _Flagged]) -> dict[str, DataFrame]:
    """Keys of each referenced dataset: silver rows of earlier batches plus this batch's rows of
    that dataset that pass (flagged beside this one, not yet written)."""
    from pyspark.sql import functions as F

    known = {}
    for ref in contract.references:
        earlier = spark.table(table(contract.source, "silver", ref.dataset)).where(
            F.col("_batch_id") < batch_id)
        keys = earlier.select(ref.key)
        if ref.dataset in flagged:
            f = flagged[ref.dataset]
            keys = keys.unionByName(f.rows.where(~quarantined(f.active)).select(ref.key))
        known[ref.dataset] = keys
    return known


def expectation_specs(active: tuple[Rule, ...]) -> list[ExpectationSpec]:
    """The rules as a Great Expectations suite: GX's own ``between`` and ``in_set`` for ranges
    and accepted values, :class:`lake.gx_rules.ExpectRowsToPassRule` for every other rule."""
    specs = []
    for rule in active:
        spec = {"column": FAILED, **expectation(rule)}
        specs.append(ExpectationSpec(rule=rule.name, mostly=rule.mostly,
                                     description=rule.description, severity=rule.severity, **spec))
    return specs


def _stop_on_failed_rules(results: list[DatasetValidation], batch_id: str) -> None:
    """ContractViolation naming every ``fail`` rule whose failures exceed its ``mostly``."""
    problems = []
    for r in results:
        for rule in rules(r.contract, r.environment):
            failed = r.counts.by_rule.get(rule.name, 0)
            if rule.severity == "fail" and failed > (1 - rule.mostly) * r.counts.rows_in:
                share = failed / max(r.counts.rows_in, 1)
                problems.append(f"{r.dataset}: {rule.name} failed on {failed} of "
                                f"{r.counts.rows_in} rows ({share:.1%}; mostly {rule.mostly} "
                                f"allows {1 - rule.mostly:.1%})")
    if problems:
        raise ContractViolation(
            f"batch {batch_id} stopped by rules of severity fail: " + "; ".join(problems)
            + ". Nothing was written past bronze; fix the data at the source and re-land it, "
            "or change the rule's severity or mostly in its contract (with a new version)")


def _write(c: _Checked, batch_id: str, force: bool) -> DatasetValidation:
    r = c.result
    txn = r.contract.version
    bad = quarantined(c.active)
    source = r.contract.source
    silver_rows = c.flagged.where(~bad).select(*r.contract.column_names, *SILVER_METADATA)
    bronze_cols = [col for col in c.flagged.columns if col != FAILED]
    quarantine_rows = c.flagged.where(bad).selectExpr(
        *(f"`{col}`" for col in bronze_cols), FAILED, f"{r.contract.version} AS _contract_version")
    silver, quarantine = run_concurrently([
        partial(write_batch, silver_rows, table(source, "silver", r.dataset), batch_id,
                force=force, txn_version=txn, rows=r.counts.rows_valid),
        partial(write_batch, quarantine_rows, table(source, "quarantine", r.dataset), batch_id,
                force=force, txn_version=txn, rows=r.counts.rows_quarantined)])
    return replace(r, silver=silver, quarantine=quarantine)


def _record(spark: SparkSession, meta: str, rows: list[tuple], source: str, batch_id: str, *,
            force: bool, txn: int) -> None:
    """The batch's rows of meta table ``meta`` (one per dataset, its name second), in one
    commit."""
    datasets = [row[1] for row in rows]
    write_batch(spark.createDataFrame(rows, schema=delta_table(spark, meta).toDF().schema), meta,
                batch_id, where=batch_of(source, batch_id, datasets), force=force,
                txn_version=txn, rows=len(rows))


def _count_rows(source: str, results: list[DatasetValidation], logical_date: date,
                batch_id: str, validated_at: datetime) -> list[tuple]:
    """``meta.batch_counts`` rows of the batch."""
    return [(source, r.dataset, batch_id, logical_date, r.counts.rows_in, r.counts.rows_valid,
             r.counts.rows_quarantined, {k: v for k, v in r.counts.by_rule.items() if v},
             r.contract.version, validated_at) for r in results]


def _anomaly_rows(source: str, checked: dict[str, _Checked], logical_date: date,
                  batch_id: str, validated_at: datetime) -> list[tuple]:
    """``meta.anomalies`` rows of the batch: each dataset's report and profile."""
    results = [c.result for c in checked.values()]
    return [(source, r.dataset, batch_id, logical_date, r.environment, r.contract.version,
             r.counts.rows_in, [_anomaly_row(a) for a in r.anomalies], r.profile.to_json(),
             str(r.expectations.data_docs_index) if r.expectations.data_docs_index else None,
             validated_at) for r in results]


def _anomaly_row(a: Anomaly) -> tuple:
    import json

    return (a.type, a.column, a.severity, a.description, json.dumps(a.details, default=str))


def _schema_changes(spark: SparkSession, source: str, batch_id: str) -> dict[str, list[dict]]:
    """The schema changes bronze recorded for each dataset of the batch (the datasets with rows
    in it)."""
    from pyspark.sql import functions as F

    rows = spark.table(SCHEMA_OBSERVATIONS).where(
        (F.col("source") == source) & (F.col("_batch_id") == batch_id)).collect()
    return {r["dataset"]: [c.asDict() for c in r["changes"]] for r in rows}


def _previous_profiles(spark: SparkSession, source: str, batch_id: str) -> dict[str, Profile]:
    """Each dataset's profile of its latest batch before ``batch_id``."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    latest = Window.partitionBy("dataset").orderBy(F.desc("_batch_id"))
    rows = (spark.table(ANOMALIES).where((F.col("source") == source)
                                         & (F.col("_batch_id") < batch_id))
            .withColumn("_n", F.row_number().over(latest)).where("_n = 1")
            .select("dataset", "profile").collect())
    return {r["dataset"]: Profile.from_json(r["profile"]) for r in rows}


def _dependency_levels(contracts: dict[str, Contract]) -> list[list[str]]:
    """Datasets grouped so every referenced dataset is in an earlier group than its referrers;
    the datasets of one group are checked side by side."""
    levels: dict[str, int] = {}

    def level(name: str, path: tuple[str, ...]) -> int:
        if name in path:
            raise ValueError(f"reference cycle among contracts: {' -> '.join((*path, name))}")
        if name not in levels:
            refs = [r.dataset for r in contracts[name].references if r.dataset in contracts]
            levels[name] = 1 + max((level(r, (*path, name)) for r in refs), default=-1)
        return levels[name]

    for name in sorted(contracts):
        level(name, ())
    return [sorted(n for n, lv in levels.items() if lv == i)
            for i in range(max(levels.values(), default=-1) + 1)]


def pending_batches(spark: SparkSession, source: str, batch_ids: list[str]) -> list[str]:
    """Of ``batch_ids``, those bronze has taken and validation has not counted yet, in order."""
    from pyspark.sql import functions as F

    if not batch_ids:
        return []
    create_meta_tables(spark)
    of_source = (F.col("source") == source) & F.col("_batch_id").isin(batch_ids)

    def batches(meta: str) -> set[str]:
        return {r[0] for r in spark.table(meta).where(of_source).select("_batch_id")
                .distinct().collect()}

    ingested, counted = run_concurrently([partial(batches, SCHEMA_OBSERVATIONS),
                                          partial(batches, BATCH_COUNTS)])
    return [b for b in batch_ids if b in ingested and b not in counted]
