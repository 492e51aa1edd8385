"""The shared metadata tables of the lake (database ``meta``), partitioned by source so each
source's jobs write only their own partitions and never conflict with another source's.

==============================  =================================================================
``meta.contract_versions``      every accepted contract version, with its date and reason
``meta.schema_observations``    the columns each landed batch held and how they differ
``meta.batch_counts``           rows in / valid / quarantined per dataset and batch
``meta.anomalies``              the anomaly report and profile of every validated batch
==============================  =================================================================
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from lake.platform.batch_ids import check_batch_id
from lake.platform.concurrent import run_concurrently
from lake.platform.tables import create_table, existing_tables

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

CONTRACT_VERSIONS = "meta.contract_versions"
SCHEMA_OBSERVATIONS = "meta.schema_observations"
BATCH_COUNTS = "meta.batch_counts"
ANOMALIES = "meta.anomalies"

CONTRACT_VERSIONS_DDL = (
    "source STRING NOT NULL, dataset STRING NOT NULL, version INT NOT NULL, "
    "origin STRING NOT NULL, reason STRING NOT NULL, effective_batch STRING NOT NULL, "
    "recorded_at TIMESTAMP NOT NULL, fingerprint STRING NOT NULL, contract STRING NOT NULL")
SCHEMA_OBSERVATIONS_DDL = (
    "source STRING NOT NULL, dataset STRING NOT NULL, _batch_id STRING NOT NULL, "
    "environment STRING NOT NULL, contract_version INT NOT NULL, "
    "columns ARRAY<STRUCT<name: STRING, type: STRING, non_null: BIGINT>> NOT NULL, "
    "changes ARRAY<STRUCT<kind: STRING, column: STRING, contract_type: STRING, "
    "observed_type: STRING, accepted: BOOLEAN>> NOT NULL, observed_at TIMESTAMP NOT NULL")
BATCH_COUNTS_DDL = (
    "source STRING NOT NULL, dataset STRING NOT NULL, _batch_id STRING NOT NULL, "
    "logical_date DATE NOT NULL, rows_in BIGINT NOT NULL, rows_valid BIGINT NOT NULL, "
    "rows_quarantined BIGINT NOT NULL, rule_counts MAP<STRING, BIGINT>, "
    "contract_version INT NOT NULL, validated_at TIMESTAMP NOT NULL")
ANOMALIES_DDL = (
    "source STRING NOT NULL, dataset STRING NOT NULL, _batch_id STRING NOT NULL, "
    "logical_date DATE NOT NULL, environment STRING NOT NULL, contract_version INT NOT NULL, "
    "row_count BIGINT NOT NULL, anomalies ARRAY<STRUCT<type: STRING, column: STRING, "
    "severity: STRING, description: STRING, details: STRING>> NOT NULL, "
    "profile STRING NOT NULL, data_docs STRING, created_at TIMESTAMP NOT NULL")

TABLES = {
    CONTRACT_VERSIONS: (CONTRACT_VERSIONS_DDL, "Every accepted contract version, with its date "
                                               "and reason", {}),
    SCHEMA_OBSERVATIONS: (SCHEMA_OBSERVATIONS_DDL, "The columns each landed batch held and how "
                                                   "they differ from the contract", {}),
    BATCH_COUNTS: (BATCH_COUNTS_DDL, "rows in / valid / quarantined per dataset and batch",
                   {"conservation": "rows_in = rows_valid + rows_quarantined"}),
    ANOMALIES: (ANOMALIES_DDL, "Anomaly report and data profile of every validated batch", {}),
}


def create_meta_tables(spark: SparkSession) -> None:
    """Create every ``meta`` table that does not exist yet."""
    existing = existing_tables(spark, TABLES)
    run_concurrently([partial(create_table, spark, name, ddl, comment=comment, checks=checks,
                              partition_by=("source",))
                      for name, (ddl, comment, checks) in TABLES.items() if name not in existing])


def batch_of(source: str, batch_id: str, datasets) -> str:
    """The replaceWhere predicate of one source's batch of ``datasets`` in a meta table."""
    names = ", ".join("'" + d.replace("'", "") + "'" for d in sorted(datasets))
    return (f"source = '{source}' AND _batch_id = '{check_batch_id(batch_id)}' "
            f"AND dataset IN ({names})")
