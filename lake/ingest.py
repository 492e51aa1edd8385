"""Bronze ingestion of one landed batch: structured datasets and unstructured documents.

Per dataset: the contract version in effect (:mod:`lake.contract_registry`), the columns the
landed files hold (:mod:`lake.landed_schema`), the differences and what the evolution policy does
with them (:mod:`lake.evolution`), then one idempotent batch write. What each batch held is kept in
``meta.schema_observations`` for its anomaly report. A ``fail`` policy stops the batch *after*
bronze is written: raw data is never lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lake.bronze import read_raw, to_bronze
from lake.contract import Contract
from lake.delta_io import TableWrite, write_batch
from lake.documents import DOCUMENT_INFO_DDL, DocumentInfo, describe
from lake.errors import ConfigError, SchemaEvolutionError
from lake.evolution import ColumnChange, accepted, apply_to_tables, compare, evolve, fail_report
from lake.landed_schema import ObservedColumn
from lake.landing import DOCUMENTS, batch_dir
from lake.tables import DOCUMENTS as DOCUMENTS_TABLE
from lake.tables import SCHEMA_OBSERVATIONS, create_lake_tables

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BronzeBatch:
    """What one bronze run read (landing paths) and wrote (tables), with the contract versions
    used and the schema changes each dataset's batch showed."""

    inputs: dict[str, str]
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


def ingest_batch(spark: SparkSession, *, landing_root: str, source: str,
                 contracts: dict[str, Contract], logical_date: date, batch_id: str,
                 ingested_at: datetime, environment: str | None = None,
                 force: bool = False) -> BronzeBatch:
    """Append one landed batch of every dataset of ``source`` to its bronze table.

    Raises :class:`SchemaEvolutionError` after writing, when a ``fail``-policy dataset changed.
    """
    from lake.contract_registry import in_effect

    check_environment(contracts, environment)
    effective = in_effect(spark, contracts, batch_id, ingested_at)
    create_lake_tables(spark, effective)
    inputs: dict[str, str] = {}
    writes: dict[str, TableWrite] = {}
    changes: dict[str, tuple[ColumnChange, ...]] = {}
    observations = []
    failures: list[SchemaEvolutionError] = []
    for name, contract in effective.items():
        env = environment_for(contract, environment)
        folder = batch_dir(landing_root, source, name, logical_date, batch_id)
        path = str(folder / contract.file)
        raw, observed = read_raw(spark, contract, path)
        found = compare(contract, observed, env, typed_source=contract.format == "parquet")
        taken = accepted(contract, found)
        if taken:
            contract = _evolve(spark, contract, taken, batch_id, logical_date, ingested_at)
            effective[name] = contract
        df = raw.transform(to_bronze(contract, batch_id, ingested_at))
        inputs[name] = path
        writes[f"bronze.{name}"] = write_batch(df, f"bronze.{name}", batch_id, force=force,
                                               txn_version=contract.version)
        changes[name] = found
        observations.append(_observation(name, batch_id, env, contract, observed, found, taken,
                                         ingested_at))
        if contract.evolution == "fail" and found:
            failures.append(fail_report(contract, found, table=f"bronze.{name}",
                                        batch_id=batch_id, logical_date=logical_date))
    _record_observations(spark, observations, batch_id, effective, force)
    docs = batch_dir(landing_root, source, DOCUMENTS, logical_date, batch_id)
    if Path(docs).is_dir() and any(Path(docs).iterdir()):
        df = read_documents(spark, str(docs), batch_id, ingested_at)
        inputs[DOCUMENTS] = str(docs)
        writes[DOCUMENTS_TABLE] = write_batch(df, DOCUMENTS_TABLE, batch_id, force=force)
    if failures:
        raise SchemaEvolutionError("\n".join(str(f) for f in failures))
    return BronzeBatch(inputs, writes, effective, changes)


def _evolve(spark: SparkSession, contract: Contract, taken: tuple[ColumnChange, ...],
            batch_id: str, logical_date: date, now: datetime) -> Contract:
    from lake.contract_registry import register_evolution

    new = evolve(contract, taken, batch_id=batch_id, logical_date=logical_date)
    register_evolution(spark, new, new.changelog[-1].reason, batch_id, now)
    apply_to_tables(spark, [f"{zone}.{contract.dataset}" for zone in
                            ("bronze", "silver", "quarantine")], taken)
    log.info("%s.%s evolved to contract v%s: %s", contract.source, contract.dataset,
             new.version, new.changelog[-1].reason)
    return new


def _observation(name: str, batch_id: str, env: str, contract: Contract,
                 observed: tuple[ObservedColumn, ...], found: tuple[ColumnChange, ...],
                 taken: tuple[ColumnChange, ...], at: datetime) -> tuple:
    columns = [(c.name, c.type, c.non_null) for c in observed]
    rows = [(c.kind, c.column, c.contract_type, c.observed_type, c in taken) for c in found]
    return (name, batch_id, env, contract.version, columns, rows, at)


def _record_observations(spark: SparkSession, rows: list[tuple], batch_id: str,
                         contracts: dict[str, Contract], force: bool) -> None:
    """One row per dataset of the batch in ``meta.schema_observations``, in one commit."""
    from lake.delta_io import batch_of, delta_table

    schema = delta_table(spark, SCHEMA_OBSERVATIONS).toDF().schema
    write_batch(spark.createDataFrame(rows, schema=schema), SCHEMA_OBSERVATIONS, batch_id,
                where=batch_of(batch_id, [r[0] for r in rows]), force=force,
                txn_version=sum(c.version for c in contracts.values()))


def read_documents(spark: SparkSession, folder: str, batch_id: str,
                   ingested_at: datetime) -> DataFrame:
    """Landed unstructured files with their metadata and extracted text (one row per file).

    Extraction needs Python libraries (Pillow, pypdf), so it runs in ``mapInPandas`` batches.
    """
    from pyspark.sql import functions as F

    files = spark.read.format("binaryFile").load(folder)
    info_schema = f"path STRING, modified_at TIMESTAMP, {DOCUMENT_INFO_DDL}"
    columns = ["path", "modified_at", *DocumentInfo.__dataclass_fields__]

    def extract(batches):
        import pandas as pd

        for pdf in batches:
            rows = [
                {"path": path, "modified_at": modified,
                 **describe(path.rsplit("/", 1)[-1], bytes(content)).__dict__}
                for path, modified, content in zip(
                    pdf["path"], pdf["modificationTime"], pdf["content"], strict=True)
            ]
            yield pd.DataFrame(rows, columns=columns)

    described = files.select("path", "modificationTime", "content").mapInPandas(extract, info_schema)
    return described.select(
        F.col("path"),
        F.element_at(F.split("path", "/"), -1).alias("file_name"),
        F.col("size_bytes").cast("bigint"),
        "modified_at", "sha256", "mime_type",
        F.col("width").cast("int"), F.col("height").cast("int"),
        F.col("page_count").cast("int"), "text",
        F.col("error").alias("extraction_error"),
        F.col("path").alias("_source_file"),
        F.lit(ingested_at).cast("timestamp").alias("_ingested_at"),
        F.lit(batch_id).alias("_batch_id"),
    )
