"""Bronze ingestion of one landed batch of a source: structured datasets and unstructured files.

Per structured dataset with files in the batch: the contract version in effect
(:mod:`lake.contracts.versions`), the columns the landed files hold
(:mod:`lake.ingest.observed_schema`), the differences and what the evolution policy does with
them (:mod:`lake.contracts.evolution`), then one idempotent batch write to
``<source>_bronze.<dataset>``. What each batch held is kept in ``meta.schema_observations`` for
its anomaly report. A ``fail`` policy stops the batch *after* bronze is written: raw data is
never lost. Unstructured datasets become one row per file (:mod:`lake.ingest.documents`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from lake.config.sources import Source
from lake.contracts.evolution import (
    ColumnChange,
    ObservedColumn,
    accepted,
    apply_to_tables,
    compare,
    evolve,
    fail_report,
)
from lake.contracts.model import Contract
from lake.contracts.tables import create_zone_tables
from lake.errors import ConfigError, SchemaEvolutionError
from lake.ingest.documents import DOCUMENTS_DDL, read_documents
from lake.ingest.formats.registry import read_raw, type_formats
from lake.ingest.landing import Batch
from lake.ingest.records import to_bronze
from lake.platform.catalog import table
from lake.platform.concurrent import run_concurrently
from lake.platform.delta import TableWrite, write_batch
from lake.platform.meta_tables import SCHEMA_OBSERVATIONS, batch_of, create_meta_tables
from lake.platform.tables import create_table

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

_REGISTERING = threading.Lock()


@dataclass(frozen=True)
class BronzeBatch:
    """What one bronze run read (dataset -> landed files) and wrote (tables), with the contract
    versions used and the schema changes each dataset's batch showed."""

    batch_id: str
    inputs: dict[str, list[str]]
    writes: dict[str, TableWrite]
    contracts: dict[str, Contract]
    changes: dict[str, tuple[ColumnChange, ...]]


def environment_for(contract: Contract, requested: str | None) -> str:
    """The requested environment where the contract declares it, else the contract's default."""
    return requested if requested in contract.environments else contract.environment


def check_environment(contracts: dict[str, Contract], requested: str | None) -> None:
    """A requested environment must be declared by at least one contract of the source."""
    if requested is None:
        return
    declared = sorted({e for c in contracts.values() for e in c.environments})
    if requested not in declared:
        raise ConfigError(f"environment {requested!r} is not declared by any contract of this "
                          f"source; declared environments: {', '.join(declared)}")


def ingest_batch(spark: SparkSession, source: Source, batch: Batch, *, ingested_at: datetime,
                 environment: str | None = None, force: bool = False) -> BronzeBatch:
    """Append landed ``batch`` of every dataset of ``source`` to its bronze table; the datasets
    (each its own table) side by side.

    Raises :class:`SchemaEvolutionError` after writing, when a ``fail``-policy dataset changed.
    """
    from lake.contracts.versions import in_effect

    check_environment(source.contracts, environment)
    batch_id = batch.batch_id
    effective = in_effect(spark, source.contracts, batch_id, ingested_at)
    create_meta_tables(spark)
    create_zone_tables(spark, effective)
    structured = {name: paths for name in effective if (paths := batch.files_of(name))}
    documents = {name: paths for name in source.unstructured if (paths := batch.files_of(name))}
    calls = [partial(_ingest_dataset, spark, source.datasets[name], effective[name],
                     environment_for(effective[name], environment), paths,
                     table(source.name, "bronze", name), batch, ingested_at, force)
             for name, paths in structured.items()]
    calls += [partial(_ingest_documents, spark, source.name, name, paths, batch_id, ingested_at,
                      force) for name, paths in documents.items()]
    done = run_concurrently(calls)
    writes: dict[str, TableWrite] = {}
    changes: dict[str, tuple[ColumnChange, ...]] = {}
    observations = []
    failures: list[SchemaEvolutionError] = []
    for name, (contract, observed, found, taken, written) in zip(structured, done, strict=False):
        target = table(source.name, "bronze", name)
        writes[target] = written
        effective[name] = contract
        changes[name] = found
        observations.append(_observation(source.name, name, batch_id,
                                         environment_for(contract, environment), contract,
                                         observed, found, taken, ingested_at))
        if contract.evolution == "fail" and found:
            failures.append(fail_report(contract, found, table=target, batch_id=batch_id,
                                        logical_date=batch.logical_date))
    for name, written in zip(documents, done[len(structured):], strict=True):
        writes[table(source.name, "bronze", name)] = written
    if observations:
        _record_observations(spark, source.name, observations, batch_id, effective, force)
    if failures:
        raise SchemaEvolutionError("\n".join(str(f) for f in failures))
    return BronzeBatch(batch_id, {**structured, **documents}, writes, effective, changes)


def _ingest_documents(spark: SparkSession, source: str, name: str, paths: list[str],
                      batch_id: str, ingested_at: datetime, force: bool) -> TableWrite:
    """One row per unstructured file of the batch (metadata and extracted text)."""
    target = table(source, "bronze", name)
    create_table(spark, target, DOCUMENTS_DDL,
                 comment=f"Unstructured files of {source}.{name}: metadata and text")
    return write_batch(read_documents(spark, paths, batch_id, ingested_at), target, batch_id,
                       force=force)


def _ingest_dataset(spark: SparkSession, dataset, contract: Contract, env: str, paths: list[str],
                    target: str, batch: Batch, ingested_at: datetime, force: bool):
    """Observe, evolve and write one dataset's files (see :mod:`lake.ingest.observed_schema`:
    the shape is observed on a sample and checked on every record by the write); the contract
    written with, the observed columns, the changes found and taken, and the write."""
    from lake.ingest.observed_schema import SAMPLE_ROWS, BatchCheck, observe_every_record

    raw, observed = read_raw(spark, dataset, contract, paths)
    typed = dataset.format in ("parquet", "avro")
    declared = contract
    found = compare(contract, observed, env, typed_source=typed)
    taken = accepted(contract, found)
    if taken:
        contract = _evolve(spark, contract, taken, batch, ingested_at)
    check = None if typed else BatchCheck(frozenset(c.name for c in observed))
    written = _write(raw, contract, found, taken, check, target, batch.batch_id, ingested_at,
                     dataset, force)
    if check is None or not written.committed or check.holds(observed, found, contract):
        return contract, observed, found, taken, written
    log.info("%s batch %s: records past the first %s do not match their schema; observing "
             "every record", target, batch.batch_id, SAMPLE_ROWS)
    observed = observe_every_record(raw)
    # what every record shows against the declared contract, and what the sample's changes
    # already took (the contract evolved before the write)
    found = tuple(dict.fromkeys((*compare(declared, observed, env, typed_source=False), *taken)))
    also = accepted(contract, compare(contract, observed, env, typed_source=False))
    if also:
        contract = _evolve(spark, contract, also, batch, ingested_at)
        taken += also
        written = _write(raw, contract, found, taken, None, target, batch.batch_id, ingested_at,
                         dataset, force)
    return contract, observed, found, taken, written


def _write(raw, contract: Contract, found: tuple[ColumnChange, ...],
           taken: tuple[ColumnChange, ...], check, target: str, batch_id: str,
           ingested_at: datetime, dataset, force: bool) -> TableWrite:
    """The batch's bronze rows written; a column whose type changed without the policy taking
    the change (its values mostly misfit) is typed without exceptions."""
    guarded = frozenset(c.column for c in found
                        if c.kind in ("widened", "incompatible") and c not in taken)
    df = raw.transform(to_bronze(contract, batch_id, ingested_at, type_formats(dataset),
                                 guarded=guarded, check=check))
    return write_batch(df, target, batch_id, force=force, txn_version=contract.version)


def _evolve(spark: SparkSession, contract: Contract, taken: tuple[ColumnChange, ...],
            batch: Batch, now: datetime) -> Contract:
    from lake.contracts.versions import register_evolution

    new = evolve(contract, taken, batch_id=batch.batch_id, logical_date=batch.logical_date)
    with _REGISTERING:  # datasets ingest side by side; their versions share one table
        register_evolution(spark, new, new.changelog[-1].reason, batch.batch_id, now)
    apply_to_tables(spark, [table(contract.source, zone, contract.dataset)
                            for zone in ("bronze", "silver", "quarantine")], taken)
    log.info("%s.%s evolved to contract v%s: %s", contract.source, contract.dataset,
             new.version, new.changelog[-1].reason)
    return new


def _observation(source: str, name: str, batch_id: str, env: str, contract: Contract,
                 observed: tuple[ObservedColumn, ...], found: tuple[ColumnChange, ...],
                 taken: tuple[ColumnChange, ...], at: datetime) -> tuple:
    columns = [(c.name, c.type, c.non_null) for c in observed]
    rows = [(c.kind, c.column, c.contract_type, c.observed_type, c in taken) for c in found]
    return (source, name, batch_id, env, contract.version, columns, rows, at)


def _record_observations(spark: SparkSession, source: str, rows: list[tuple], batch_id: str,
                         contracts: dict[str, Contract], force: bool) -> None:
    """One row per dataset of the batch in ``meta.schema_observations``, in one commit."""
    from lake.platform.delta import delta_table

    schema = delta_table(spark, SCHEMA_OBSERVATIONS).toDF().schema
    write_batch(spark.createDataFrame(rows, schema=schema), SCHEMA_OBSERVATIONS, batch_id,
                where=batch_of(source, batch_id, [r[1] for r in rows]), force=force,
                txn_version=sum(c.version for c in contracts.values()))


def ingested_batches(spark: SparkSession, source: str, batch_ids: list[str]) -> set[str]:
    """Which of ``batch_ids`` of ``source`` bronze has already taken (their schema is recorded)."""
    from pyspark.sql import functions as F

    if not batch_ids:
        return set()
    create_meta_tables(spark)
    rows = (spark.table(SCHEMA_OBSERVATIONS)
            .where((F.col("source") == source) & F.col("_batch_id").isin(batch_ids))
            .select("_batch_id").distinct().collect())
    return {r[0] for r in rows}
