"""Table definitions of the lake zones, created once with their schema and constraints.

Tables are created explicitly (``CREATE TABLE IF NOT EXISTS … USING DELTA``) so Delta enforces the
schema, NOT NULL columns and CHECK constraints on every later write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lake.bronze import bronze_ddl
from lake.contract import Contract

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

BATCH_COUNTS = "quarantine.batch_counts"
DOCUMENTS = "bronze.documents"

BATCH_COUNTS_DDL = (
    "dataset STRING NOT NULL, _batch_id STRING NOT NULL, logical_date DATE NOT NULL, "
    "rows_in BIGINT NOT NULL, rows_valid BIGINT NOT NULL, rows_quarantined BIGINT NOT NULL, "
    "rule_counts MAP<STRING, BIGINT>, contract_version INT NOT NULL, validated_at TIMESTAMP NOT NULL"
)
DOCUMENTS_DDL = (
    "path STRING NOT NULL, file_name STRING NOT NULL, size_bytes BIGINT NOT NULL, "
    "modified_at TIMESTAMP, sha256 STRING NOT NULL, mime_type STRING, width INT, height INT, "
    "page_count INT, text STRING, extraction_error STRING, "
    "_source_file STRING NOT NULL, _ingested_at TIMESTAMP NOT NULL, _batch_id STRING NOT NULL"
)


def silver_ddl(contract: Contract) -> str:
    cols = [
        f"`{c.name}` {c.type}{'' if c.nullable else ' NOT NULL'}" for c in contract.columns
    ]
    cols += ["_source_file STRING NOT NULL", "_ingested_at TIMESTAMP NOT NULL",
             "_batch_id STRING NOT NULL"]
    return ", ".join(cols)


def quarantine_ddl(contract: Contract) -> str:
    return (bronze_ddl(contract) + ", _failed_rules ARRAY<STRING> NOT NULL, "
            "_contract_version INT NOT NULL")


def create_table(spark: SparkSession, table: str, ddl: str, *, comment: str = "",
                 checks: dict[str, str] | None = None, partition_by: tuple[str, ...] = ()) -> bool:
    """Create ``table`` with ``ddl`` and its CHECK constraints unless it exists; True if created."""
    if spark.catalog.tableExists(table):
        return False
    partition = f" PARTITIONED BY ({', '.join(partition_by)})" if partition_by else ""
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {table} ({ddl}) USING DELTA{partition}"
        + (f" COMMENT '{comment.replace(chr(39), '')}'" if comment else "")
    )
    for name, expr in (checks or {}).items():
        spark.sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({expr})")
    return True


def create_lake_tables(spark: SparkSession, contracts: dict[str, Contract]) -> None:
    """Bronze, silver and quarantine tables for every contract, and the shared audit tables."""
    for name, contract in contracts.items():
        create_table(spark, f"bronze.{name}", bronze_ddl(contract), comment=contract.description)
        create_table(spark, f"silver.{name}", silver_ddl(contract), comment=contract.description,
                     checks=_range_checks(contract))
        create_table(spark, f"quarantine.{name}", quarantine_ddl(contract),
                     comment=f"Rejected rows of {name}, with the rules each failed")
    create_table(spark, DOCUMENTS, DOCUMENTS_DDL, comment="Unstructured files in landing")
    create_table(spark, BATCH_COUNTS, BATCH_COUNTS_DDL,
                 comment="rows in / valid / quarantined per dataset and batch",
                 checks={"conservation": "rows_in = rows_valid + rows_quarantined"})


def _range_checks(contract: Contract) -> dict[str, str]:
    checks = {}
    for col in contract.columns:
        if col.min is not None:
            checks[f"{col.name}_min"] = f"{col.name} >= {col.min}"
        if col.max is not None:
            checks[f"{col.name}_max"] = f"{col.name} <= {col.max}"
        if col.accepted_values:
            values = ", ".join(f"'{v}'" for v in col.accepted_values)
            checks[f"{col.name}_accepted"] = f"{col.name} IN ({values})"
    return checks
