"""A tiny lake for contract tests: datasets of their own, batches landed under ``tmp_path``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from lake.contract import Contract, parse_contract
from lake.landing import batch_dir, batch_id_for


@dataclass
class MiniLake:
    """Lands files and runs bronze/validation for one test's own contracts."""

    spark: object
    root: Path

    @property
    def landing_root(self) -> str:
        return str(self.root / "landing")

    def land(self, contract: Contract, day: date, content: str | bytes) -> Path:
        folder = batch_dir(self.landing_root, contract.source, contract.dataset, day,
                           batch_id_for(day))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / contract.file
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def ingest(self, contracts: dict[str, Contract], day: date, environment: str | None = None):
        from lake.ingest import ingest_batch

        return ingest_batch(self.spark, landing_root=self.landing_root,
                            source=_source(contracts), contracts=contracts, logical_date=day,
                            batch_id=batch_id_for(day), ingested_at=_at(day),
                            environment=environment)

    def validate(self, contracts: dict[str, Contract], day: date, environment: str | None = None):
        from lake.quarantine import validate_batch

        results = validate_batch(self.spark, contracts=contracts, logical_date=day,
                                 batch_id=batch_id_for(day), validated_at=_at(day),
                                 gx_root=self.root / "gx", environment=environment)
        return {r.dataset: r for r in results}


def _source(contracts: dict[str, Contract]) -> str:
    return next(iter(contracts.values())).source


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 6, tzinfo=UTC)


def ndjson(*records: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def contract(dataset: str, columns: list[dict], **extra) -> Contract:
    """A contract of its own source (``t_<dataset>``), so the registry is the test's alone."""
    data = {"dataset": dataset, "source": f"t_{dataset}", "format": "ndjson",
            "file": f"{dataset}.ndjson", "columns": columns, **extra}
    return parse_contract(data, f"test contract {dataset}")


@pytest.fixture
def mini_lake(spark, tmp_path):
    lake = MiniLake(spark, tmp_path)
    yield lake


def drop_tables(spark, *datasets: str) -> None:
    for name in datasets:
        for zone in ("bronze", "silver", "quarantine"):
            spark.sql(f"DROP TABLE IF EXISTS {zone}.{name}")
