"""Replay of quarantined rows after a contract or data fix: passing rows move to silver, once.

:func:`replay_quarantine` re-types every quarantined row of a dataset (or of one batch) from its
kept raw values under the contract version now in effect, and re-validates it in the environment
its batch was validated in, against the silver rows of its batch (so a replayed copy of a valid
row is still a ``duplicate``) and against every key now in silver (a late-arriving customer makes
its orders valid). Rows that pass move:

1. MERGE into silver on ``_record_id``, inserting rows not already there;
2. DELETE them from quarantine by ``_record_id``;
3. ``meta.batch_counts`` of the touched batches recounted from the tables.

Each step is idempotent, so the whole is exactly-once: replaying twice, or again after a crash
between steps, moves nothing more and leaves every count right. Rows that still fail stay in
quarantine with their original reasons.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce
from typing import TYPE_CHECKING

from lake.contracts.model import Contract
from lake.contracts.tables import SILVER_METADATA
from lake.ingest.records import raw_of, typed_columns
from lake.platform.catalog import table
from lake.platform.delta import delta_table
from lake.platform.meta_tables import ANOMALIES, BATCH_COUNTS
from lake.quality.flags import FAILED, flag_rows, is_quarantined

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

_CONTEXT, _CANDIDATE = 0, 1


@dataclass(frozen=True)
class ReplayResult:
    dataset: str
    contract_version: int
    candidates: int
    moved: int
    moved_by_batch: dict[str, int] = field(default_factory=dict)
    still_failing: dict[str, int] = field(default_factory=dict)  # rule -> rows still quarantined
    silver_version: int | None = None
    quarantine_version: int | None = None


def replay_quarantine(spark: SparkSession, *, contracts: dict[str, Contract], dataset: str,
                      replayed_at: datetime, batch_id: str | None = None) -> ReplayResult:
    """Move the quarantined rows of ``dataset`` (``batch_id``: one batch) that now pass;
    ``contracts``: every contract of the dataset's source."""
    from pyspark.sql import functions as F

    from lake.contracts.rules.registry import silver_checks
    from lake.contracts.versions import in_effect
    from lake.platform.tables import sync_checks

    # the version in effect now: one the project declares and no batch has used yet starts here,
    # so the batches after the replay are validated with it too
    contract = in_effect(spark, contracts, f"{replayed_at:%Y%m%d}-000", replayed_at)[dataset]
    source = contract.source
    sync_checks(spark, table(source, "silver", dataset), silver_checks(contract))
    # Both tables are read at the version they have now: the rows that pass stay the same rows
    # while silver and quarantine change under the MERGEs below.
    quarantine = _pinned(spark, table(source, "quarantine", dataset))
    if batch_id is not None:
        quarantine = quarantine.where(F.col("_batch_id") == batch_id)
    rows = quarantine.drop(FAILED, "_contract_version").persist()
    try:
        batches = sorted(r[0] for r in rows.select("_batch_id").distinct().collect())
        if not batches:
            return ReplayResult(dataset, contract.version, 0, 0)
        candidates = rows.count()
        flagged, still = _revalidate(spark, contract, rows, batches)
        try:
            passing = (flagged.where(~F.col("_bad"))
                       .select(*contract.column_names, *SILVER_METADATA))
            moved_by_batch = {r["_batch_id"]: r["count"]
                              for r in passing.groupBy("_batch_id").count().collect()}
            if moved_by_batch:  # nothing to move: no commit anywhere
                _move(spark, source, dataset, passing)
                _recount(spark, source, dataset, sorted(moved_by_batch))
        finally:
            flagged.unpersist()
    finally:
        rows.unpersist()
    result = ReplayResult(
        dataset, contract.version, candidates, sum(moved_by_batch.values()), moved_by_batch,
        still, delta_table(spark, table(source, "silver", dataset)).history(1).first()["version"],
        delta_table(spark, table(source, "quarantine", dataset)).history(1).first()["version"])
    log.info("replayed %s under contract v%s: %s of %s rows moved to silver",
             table(source, "quarantine", dataset), contract.version, result.moved, candidates)
    return result


def _revalidate(spark: SparkSession, contract: Contract, rows: DataFrame,
                batches: list[str]) -> tuple[DataFrame, dict[str, int]]:
    """(the candidates with ``_failed_rules`` and ``_bad``, persisted; rule -> rows still
    failing). Flags are computed once: the counts, the MERGE and the delete read the cache."""
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    from lake.contracts.rules.registry import rules

    meta = ["_source_file", "_ingested_at", "_batch_id", "_record_id"]
    stored = {c.name: c.type for c in contract.columns if c.name in rows.columns}
    candidates = (rows.select(*raw_of(stored),
                              *meta)
                  .select(*typed_columns(contract), *meta)
                  .withColumn("_priority", F.lit(_CANDIDATE)))
    silver = _pinned(spark, table(contract.source, "silver", contract.dataset)).where(
        F.col("_batch_id").isin(batches))
    context = silver.select(*contract.column_names, F.lit(None).cast("string").alias(
        "_rescued_data"), *meta).withColumn("_priority", F.lit(_CONTEXT))
    known = {ref.dataset: spark.table(table(contract.source, "silver", ref.dataset)).select(ref.key)
             for ref in contract.references}
    parts = [
        candidates.where(F.col("_batch_id").isin(env_batches))
        .unionByName(context.where(F.col("_batch_id").isin(env_batches)))
        .transform(flag_rows(contract, known, environment=env, priority="_priority"))
        .where(F.col("_priority") == _CANDIDATE)
        .withColumn("_bad", is_quarantined(rules(contract, env)))
        for env, env_batches in _environments(spark, contract, batches).items()]
    flagged = reduce(DataFrame.unionByName, parts).persist()
    still = {r["rule"]: r["count"] for r in flagged.where("_bad").select(
        F.explode(FAILED).alias("rule")).groupBy("rule").count().collect()}
    return flagged, still


def _pinned(spark: SparkSession, table: str) -> DataFrame:
    """``table`` as of its current Delta version."""
    from lake.platform.delta import table_location

    version = delta_table(spark, table).history(1).first()["version"]
    return (spark.read.format("delta").option("versionAsOf", version)
            .load(table_location(spark, table)))


def _environments(spark: SparkSession, contract: Contract, batches: list[str]
                  ) -> dict[str, list[str]]:
    """The environment each batch was validated in (the contract's default if unknown)."""
    from pyspark.sql import functions as F

    seen = {r["_batch_id"]: r["environment"] for r in spark.table(ANOMALIES).where(
        (F.col("source") == contract.source) & (F.col("dataset") == contract.dataset)
        & F.col("_batch_id").isin(batches)).collect()}
    out: dict[str, list[str]] = {}
    for batch in batches:
        env = seen.get(batch, contract.environment)
        out.setdefault(env if env in contract.environments else contract.environment,
                       []).append(batch)
    return out


def _move(spark: SparkSession, source: str, name: str, passing: DataFrame) -> None:
    """MERGE the passing rows into silver (new ``_record_id`` only), then drop them from
    quarantine; both idempotent."""
    (delta_table(spark, table(source, "silver", name)).alias("t")
     .merge(passing.alias("s"), "t._record_id = s._record_id")
     .whenNotMatchedInsertAll().execute())
    (delta_table(spark, table(source, "quarantine", name)).alias("t")
     .merge(passing.select("_record_id").alias("s"), "t._record_id = s._record_id")
     .whenMatchedDelete().execute())


def _recount(spark: SparkSession, source: str, dataset: str, batches: list[str]) -> None:
    """Set rows_valid / rows_quarantined of ``batches`` to what silver and quarantine hold."""
    from pyspark.sql import functions as F

    def per_batch(name: str, alias: str) -> DataFrame:
        return (spark.table(name).where(F.col("_batch_id").isin(batches))
                .groupBy("_batch_id").agg(F.count(F.lit(1)).alias(alias)))

    counts = (per_batch(table(source, "silver", dataset), "valid")
              .join(per_batch(table(source, "quarantine", dataset), "quarantined"), "_batch_id",
                    "full")
              .select("_batch_id", F.coalesce("valid", F.lit(0)).alias("valid"),
                      F.coalesce("quarantined", F.lit(0)).alias("quarantined"))
              .withColumn("dataset", F.lit(dataset)).withColumn("source", F.lit(source)))
    (delta_table(spark, BATCH_COUNTS).alias("t")
     .merge(counts.alias("s"), f"t.source = '{source}' AND t.source = s.source AND "
                               "t.dataset = s.dataset AND t._batch_id = s._batch_id")
     .whenMatchedUpdate(set={"rows_valid": "s.valid", "rows_quarantined": "s.quarantined"})
     .execute())
