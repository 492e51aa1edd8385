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
SCHEMA_OBSERVATIONS = "meta.schema_observations"
ANOMALIES = "meta.anomalies"

SCHEMA_OBSERVATIONS_DDL = (
    "dataset STRING NOT NULL, _batch_id STRING NOT NULL, environment STRING NOT NULL, "
    "contract_version INT NOT NULL, "
    "columns ARRAY<STRUCT<name: STRING, type: STRING, non_null: BIGINT>> NOT NULL, "
    "changes ARRAY<STRUCT<kind: STRING, column: STRING, contract_type: STRING, "
    "observed_type: STRING, accepted: BOOLEAN>> NOT NULL, observed_at TIMESTAMP NOT NULL"
)
ANOMALIES_DDL = (
    "dataset STRING NOT NULL, _batch_id STRING NOT NULL, logical_date DATE NOT NULL, "
    "environment STRING NOT NULL, contract_version INT NOT NULL, row_count BIGINT NOT NULL, "
    "anomalies ARRAY<STRUCT<type: STRING, column: STRING, severity: STRING, "
    "description: STRING, details: STRING>> NOT NULL, "
    "profile STRING NOT NULL, data_docs STRING, created_at TIMESTAMP NOT NULL"
)

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
SILVER_METADATA = ("_source_file", "_ingested_at", "_batch_id", "_record_id")


def silver_ddl(contract: Contract) -> str:
    """Contract columns (NOT NULL where required in every environment) and load metadata."""
    cols = [
        f"`{c.name}` {c.type}{'' if c.nullable or c.environments is not None else ' NOT NULL'}"
        for c in contract.columns
    ]
    cols += ["_source_file STRING NOT NULL", "_ingested_at TIMESTAMP NOT NULL",
             "_batch_id STRING NOT NULL", "_record_id STRING NOT NULL"]
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
        if not create_table(spark, f"silver.{name}", silver_ddl(contract),
                            comment=contract.description, checks=silver_checks(contract)):
            sync_checks(spark, f"silver.{name}", silver_checks(contract))
        create_table(spark, f"quarantine.{name}", quarantine_ddl(contract),
                     comment=f"Rejected rows of {name}, with the rules each failed")
    create_table(spark, DOCUMENTS, DOCUMENTS_DDL, comment="Unstructured files in landing")
    create_table(spark, BATCH_COUNTS, BATCH_COUNTS_DDL,
                 comment="rows in / valid / quarantined per dataset and batch",
                 checks={"conservation": "rows_in = rows_valid + rows_quarantined"})
    create_meta_tables(spark)


def create_meta_tables(spark: SparkSession) -> None:
    """Contract versions, the schemas batches landed with, and per-batch anomaly reports."""
    from lake.contract_registry import CONTRACT_VERSIONS, CONTRACT_VERSIONS_DDL

    create_table(spark, CONTRACT_VERSIONS, CONTRACT_VERSIONS_DDL,
                 comment="Every accepted contract version, with its date and reason")
    create_table(spark, SCHEMA_OBSERVATIONS, SCHEMA_OBSERVATIONS_DDL,
                 comment="The columns each landed batch held and how they differ from the contract")
    create_table(spark, ANOMALIES, ANOMALIES_DDL,
                 comment="Anomaly report and data profile of every validated batch")


def sync_checks(spark: SparkSession, table: str, wanted: dict[str, str]) -> None:
    """Make ``table``'s CHECK constraints the ``wanted`` ones (a new contract version may relax
    or add rules). A new check that existing rows break is left out, with a warning: it could
    not hold."""
    import logging

    from pyspark.errors import PySparkException

    prefix = "delta.constraints."
    current = {r["key"][len(prefix):]: r["value"]
               for r in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()
               if r["key"].startswith(prefix)}
    for name in current:
        if name.lower() not in {w.lower() for w in wanted}:
            spark.sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for name, expr in wanted.items():
        if name.lower() in {c.lower() for c in current}:
            continue
        try:
            spark.sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({expr})")
        except PySparkException as err:
            logging.getLogger(__name__).warning(
                "%s: CHECK %s (%s) not added, existing rows break it: %s", table, name, expr,
                str(err).splitlines()[0])


def silver_checks(contract: Contract) -> dict[str, str]:
    """CHECK constraints that hold for every silver row: the range, accepted-values and custom
    rules whose failing rows are quarantined (a ``warn`` rule lets its rows through)."""
    from lake.rules import rules

    checks = {}
    for rule in rules(contract):
        if not rule.quarantines:
            continue
        if rule.kind == "range":
            if rule.min is not None:
                checks[f"{rule.column}_min"] = f"`{rule.column}` >= {rule.min}"
            if rule.max is not None:
                checks[f"{rule.column}_max"] = f"`{rule.column}` <= {rule.max}"
        elif rule.kind == "accepted_values":
            values = ", ".join("'" + v.replace("'", "''") + "'" for v in rule.values)
            checks[f"{rule.column}_accepted"] = f"`{rule.column}` IN ({values})"
        elif rule.kind == "custom" and all(
                c.environments is None for c in contract.custom_rules if rule.name == f"custom:{c.name}"):
            checks[rule.name.replace(":", "_")] = rule.expr
    return checks
