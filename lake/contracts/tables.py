"""The tables a contract implies in its source's lake zones, created once with their schema.

- ``<source>_bronze.<dataset>``: the contract's columns (a value that did not fit is NULL and its
  text kept in ``_rescued_data``) and the load metadata;
- ``<source>_silver.<dataset>``: the contract's columns (NOT NULL where every environment requires
  them), CHECK constraints of the quarantining rules, and the load metadata;
- ``<source>_quarantine.<dataset>``: bronze's columns, the rules each row failed and the contract
  version it failed under.

Every zone table keeps file statistics on ``_batch_id``, so reading one batch skips the files of
the others.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from lake.contracts.model import Contract
from lake.contracts.rules.registry import silver_checks
from lake.platform.catalog import table
from lake.platform.concurrent import run_concurrently
from lake.platform.tables import create_table, existing_tables, sync_checks

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

BRONZE_METADATA_DDL = ("_rescued_data STRING, _source_file STRING, _ingested_at TIMESTAMP, "
                       "_batch_id STRING, _record_id STRING")
SILVER_METADATA = ("_source_file", "_ingested_at", "_batch_id", "_record_id")
MAX_STATS_COLUMNS = 32


def bronze_ddl(contract: Contract) -> str:
    """Contract columns then load metadata. ``_record_id`` identifies a landed record for good
    (silver and quarantine keep it), so a quarantined record can be replayed exactly once."""
    return ", ".join([*(f"`{c.name}` {c.type}" for c in contract.columns), BRONZE_METADATA_DDL])


def silver_ddl(contract: Contract) -> str:
    cols = [f"`{c.name}` {c.type}{'' if c.nullable or c.environments is not None else ' NOT NULL'}"
            for c in contract.columns]
    cols += ["_source_file STRING NOT NULL", "_ingested_at TIMESTAMP NOT NULL",
             "_batch_id STRING NOT NULL", "_record_id STRING NOT NULL"]
    return ", ".join(cols)


def quarantine_ddl(contract: Contract) -> str:
    return (bronze_ddl(contract) + ", _failed_rules ARRAY<STRING> NOT NULL, "
            "_contract_version INT NOT NULL")


def stats_properties(contract: Contract) -> dict[str, str]:
    """Keep Delta file statistics on ``_batch_id`` (and the first contract columns of types
    Delta keeps statistics for)."""
    with_stats = [c.name for c in contract.columns
                  if c.type in ("string", "int", "bigint", "double", "date", "timestamp")
                  or c.type.startswith("decimal")]
    names = ["_batch_id", *with_stats][:MAX_STATS_COLUMNS]
    return {"delta.dataSkippingStatsColumns": ",".join(f"`{n}`" for n in names)}


def create_zone_tables(spark: SparkSession, contracts: dict[str, Contract]) -> None:
    """Bronze, silver and quarantine tables of every contract (of one source), side by side,
    and the silver tables' CHECK constraints kept to the contract's."""
    names = {(name, zone): table(c.source, zone, name)
             for name, c in contracts.items() for zone in ("bronze", "silver", "quarantine")}
    existing = existing_tables(spark, names.values())
    calls = []
    for name, contract in contracts.items():
        props = stats_properties(contract)
        bronze, silver, quarantine = (names[name, z] for z in ("bronze", "silver", "quarantine"))
        if bronze not in existing:
            calls.append(partial(create_table, spark, bronze, bronze_ddl(contract),
                                 comment=contract.description, properties=props))
        calls.append(partial(_silver, spark, silver, contract, silver in existing))
        if quarantine not in existing:
            calls.append(partial(
                create_table, spark, quarantine, quarantine_ddl(contract),
                comment=f"Rejected rows of {contract.source}.{name}, with the rules each failed",
                properties=props))
    run_concurrently(calls)


def _silver(spark: SparkSession, silver: str, contract: Contract, exists: bool) -> None:
    checks = silver_checks(contract)
    if exists or not create_table(spark, silver, silver_ddl(contract),
                                  comment=contract.description, checks=checks,
                                  properties=stats_properties(contract)):
        sync_checks(spark, silver, checks)
