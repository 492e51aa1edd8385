"""Contract versions: every accepted contract change is a new version with its date and reason.

Versions live in the Delta table ``meta.contract_versions`` (one row per version, the contract as
YAML), written two ways:

- ``origin = repo``: the contract file in the project (``sources/<source>/contracts/``) declares
  a version the registry has not seen; it is registered when a batch first uses it. Changing a
  file without bumping its ``version`` is refused, as a code bug would be.
- ``origin = evolution``: a batch's schema was accepted under ``evolution: add_columns``
  (see :mod:`lake.contracts.evolution`); the project's file is behind until someone copies the
  new version in (``lakehouse contract show SOURCE.DATASET``).

The version in effect for a batch is the newest one registered at or before that batch
(``effective_batch``), so re-running an old batch validates it as it was validated then.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import yaml

from lake.contracts.model import Contract
from lake.contracts.reading import parse_contract
from lake.errors import ConfigError
from lake.platform.meta_tables import CONTRACT_VERSIONS, create_meta_tables

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class ContractVersion:
    version: int
    origin: str  # "repo" or "evolution"
    reason: str
    effective_batch: str
    recorded_at: datetime
    contract: Contract


def history(spark: SparkSession, source: str, dataset: str | None = None
            ) -> dict[str, list[ContractVersion]]:
    """Registered versions per dataset of ``source``, oldest first (one small Delta read)."""
    from pyspark.sql import functions as F

    create_meta_tables(spark)
    rows = spark.table(CONTRACT_VERSIONS).where(F.col("source") == source)
    if dataset is not None:
        rows = rows.where(F.col("dataset") == dataset)
    out: dict[str, list[ContractVersion]] = {}
    # sorted here, not by Spark: a sort is a shuffle, two more Spark jobs for a few rows
    for row in sorted(rows.collect(), key=lambda r: (r["dataset"], r["version"])):
        contract = parse_contract(yaml.safe_load(row["contract"]),
                                  f"{CONTRACT_VERSIONS} {source}.{row['dataset']} v{row['version']}",
                                  source)
        out.setdefault(row["dataset"], []).append(ContractVersion(
            row["version"], row["origin"], row["reason"], row["effective_batch"],
            row["recorded_at"], contract))
    return out


def in_effect(spark: SparkSession, repo: dict[str, Contract], batch_id: str,
              now: datetime) -> dict[str, Contract]:
    """The contract version each dataset's batch ``batch_id`` is processed with, registering
    repo versions the registry has not seen. ConfigError if a repo file changed in place."""
    if not repo:
        return {}
    source = next(iter(repo.values())).source
    known = history(spark, source)
    new_rows = []
    result = {}
    for name, contract in repo.items():
        versions = known.get(name, [])
        _check_repo_version(contract, versions)
        if contract.version > max((v.version for v in versions), default=0):
            entry = next((e for e in contract.changelog if e.version == contract.version), None)
            reason = entry.reason if entry else f"declared in sources/{source}/contracts/{name}.yaml"
            version = ContractVersion(contract.version, "repo", reason, batch_id, now, contract)
            versions = [*versions, version]
            new_rows.append((name, version))
        result[name] = _for_batch(versions, batch_id)
    if new_rows:
        _append(spark, source, new_rows)
    return result


def register_evolution(spark: SparkSession, contract: Contract, reason: str, batch_id: str,
                       now: datetime) -> None:
    """Record ``contract`` (the next version, from schema evolution) unless already recorded."""
    versions = history(spark, contract.source, contract.dataset).get(contract.dataset, [])
    same = [v for v in versions if v.version == contract.version]
    if same:
        if same[0].contract.fingerprint() != contract.fingerprint():
            raise ConfigError(
                f"{contract.source}.{contract.dataset} v{contract.version} is already registered "
                f"with other content (from batch {same[0].effective_batch}); re-run batches in "
                "date order, or review the versions with `lakehouse contract history "
                f"{contract.dataset}`")
        return
    _append(spark, contract.source, [(contract.dataset, ContractVersion(
        contract.version, "evolution", reason, batch_id, now, contract))])
    log.info("contract %s.%s v%s registered: %s", contract.source, contract.dataset,
             contract.version, reason)


def _check_repo_version(contract: Contract, versions: list[ContractVersion]) -> None:
    same = next((v for v in versions if v.version == contract.version), None)
    if same is None or same.contract.fingerprint() == contract.fingerprint():
        return
    latest = max(v.version for v in versions)
    file = f"sources/{contract.source}/contracts/{contract.dataset}.yaml"
    if same.origin == "repo":
        raise ConfigError(
            f"{file} changed but still says version {contract.version}, which batches were "
            f"already validated against; a contract change needs a new version: set version: "
            f"{latest + 1} and add a changelog entry saying why")
    raise ConfigError(
        f"{file} says version {contract.version}, but version {contract.version} of "
        f"{contract.dataset} was written by schema evolution from batch {same.effective_batch} "
        f"with other content; start from `lakehouse contract show {contract.source}."
        f"{contract.dataset}` and set "
        f"version: {latest + 1}")


def _for_batch(versions: list[ContractVersion], batch_id: str) -> Contract:
    usable = [v for v in versions if v.effective_batch <= batch_id] or versions[:1]
    return max(usable, key=lambda v: v.version).contract


def _append(spark: SparkSession, source: str,
            rows: list[tuple[str, ContractVersion]]) -> None:
    from lake.platform.delta import delta_table, table_location

    schema = delta_table(spark, CONTRACT_VERSIONS).toDF().schema
    data = [(source, name, v.version, v.origin, v.reason, v.effective_batch, v.recorded_at,
             v.contract.fingerprint(), v.contract.to_yaml()) for name, v in rows]
    (spark.createDataFrame(data, schema=schema).write.format("delta").mode("append")
     .save(table_location(spark, CONTRACT_VERSIONS)))
