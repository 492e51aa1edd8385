"""Small warehouse scenarios: a project with one source's contracts and a few models, and its
validated batches written as the validate job leaves them (silver, quarantine, meta.batch_counts),
so the warehouse load reads exactly what it reads in production."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from lake.config.project import load_project
from lake.contracts.reading import parse_contract
from lake.contracts.tables import create_zone_tables
from lake.platform.catalog import ensure_databases, table
from lake.platform.meta_tables import BATCH_COUNTS, create_meta_tables

AT = datetime(2026, 6, 1, 12, tzinfo=UTC)


@dataclass
class Scenario:
    """A tmp project with source ``source`` whose datasets have the given contracts."""

    spark: Any
    settings: Any
    root: Path
    source: str

    @property
    def project(self):
        return load_project(self.root)

    def catalog(self):
        from warehouse.models.catalog import load_models

        return load_models(self.project)

    def model(self, file_name: str, text: str) -> None:
        path = self.root / "warehouse" / file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def batch(self, dataset: str, batch_id: str, day: date, rows: list[dict],
              quarantined: list[dict] = ()) -> None:
        """Write a validated batch: ``rows`` to silver, ``quarantined`` to quarantine, and its
        counts to meta.batch_counts."""
        from lake.platform.delta import delta_table, table_location

        def write(zone: str, records: list[dict], extra: dict) -> None:
            name = table(self.source, zone, dataset)
            schema = delta_table(self.spark, name).toDF().schema
            data = [{**{f.name: None for f in schema}, **r, **extra,
                     "_source_file": f"/landing/{dataset}.csv", "_ingested_at": AT,
                     "_batch_id": batch_id, "_record_id": str(uuid.uuid4())} for r in records]
            if data:
                (self.spark.createDataFrame([tuple(d[f.name] for f in schema) for d in data],
                                            schema).write.format("delta").mode("append")
                 .save(table_location(self.spark, name)))

        write("silver", rows, {})
        write("quarantine", list(quarantined), {"_failed_rules": ["not_null:x"],
                                                "_contract_version": 1})
        counts = self.spark.createDataFrame(
            [(self.source, dataset, batch_id, day, len(rows) + len(quarantined), len(rows),
              len(quarantined), {}, 1, AT)],
            self.spark.table(BATCH_COUNTS).schema)
        counts.write.format("delta").mode("append").save(table_location(self.spark,
                                                                        BATCH_COUNTS))


def scenario(spark, settings, root: Path, source: str, contracts: dict[str, dict]) -> Scenario:
    """Declare ``source`` with ``contracts`` (dataset -> contract mapping) in a project at
    ``root`` and create its zone tables (dropping any left by an earlier run)."""
    folder = root / "sources" / source
    (folder / "contracts").mkdir(parents=True, exist_ok=True)
    (root / "lakehouse.yaml").write_text(f"name: {source}-test\n")
    (folder / "source.yaml").write_text(yaml.safe_dump({
        "source": source,
        "deliveries": {"connector": "files", "root": "{source_root}/" + source},
        "datasets": {d: {"files": f"{d}*.ndjson"} for d in contracts}}))
    parsed = {}
    for dataset, data in contracts.items():
        (folder / "contracts" / f"{dataset}.yaml").write_text(yaml.safe_dump(
            {"dataset": dataset, **data}))
        parsed[dataset] = parse_contract({"dataset": dataset, **data}, dataset, source)
    ensure_databases(spark, settings, [source])
    create_meta_tables(spark)
    for dataset in contracts:
        for zone in ("bronze", "silver", "quarantine"):
            spark.sql(f"DROP TABLE IF EXISTS {table(source, zone, dataset)}")
    spark.sql(f"DELETE FROM {BATCH_COUNTS} WHERE source = '{source}'")
    create_zone_tables(spark, parsed)
    return Scenario(spark, settings, root, source)


def drop_models(spark, *names: str) -> None:
    """Drop warehouse tables and forget their loads (a test's models start empty)."""
    from warehouse.ledger import MODEL_LOADS

    for name in names:
        spark.sql(f"DROP TABLE IF EXISTS warehouse.{name}")
        spark.sql(f"DROP VIEW IF EXISTS warehouse.{name}")
    if spark.catalog.tableExists(MODEL_LOADS):
        listed = ", ".join(f"'{n}'" for n in names)
        spark.sql(f"DELETE FROM {MODEL_LOADS} WHERE model IN ({listed})")
