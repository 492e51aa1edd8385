"""Bronze ingestion of one landed batch: structured datasets and unstructured documents."""

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
from lake.landing import DOCUMENTS, batch_dir
from lake.tables import DOCUMENTS as DOCUMENTS_TABLE
from lake.tables import create_lake_tables

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BronzeBatch:
    """What one bronze run read (landing paths) and wrote (tables)."""

    inputs: dict[str, str]
    writes: dict[str, TableWrite]


def ingest_batch(spark: SparkSession, *, landing_root: str, source: str,
                 contracts: dict[str, Contract], logical_date: date, batch_id: str,
                 ingested_at: datetime, force: bool = False) -> BronzeBatch:
    """Append one landed batch of every dataset of ``source`` to its bronze table."""
    create_lake_tables(spark, contracts)
    inputs: dict[str, str] = {}
    writes: dict[str, TableWrite] = {}
    for name, contract in contracts.items():
        folder = batch_dir(landing_root, source, name, logical_date, batch_id)
        path = str(folder / contract.file)
        df = read_raw(spark, contract, path).transform(to_bronze(contract, batch_id, ingested_at))
        inputs[name] = path
        writes[f"bronze.{name}"] = write_batch(df, f"bronze.{name}", batch_id, force=force)
    docs = batch_dir(landing_root, source, DOCUMENTS, logical_date, batch_id)
    if Path(docs).is_dir() and any(Path(docs).iterdir()):
        df = read_documents(spark, str(docs), batch_id, ingested_at)
        inputs[DOCUMENTS] = str(docs)
        writes[DOCUMENTS_TABLE] = write_batch(df, DOCUMENTS_TABLE, batch_id, force=force)
    return BronzeBatch(inputs, writes)


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
