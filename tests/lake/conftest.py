"""A tiny lake for contract tests: sources of their own, declared in a project under ``tmp_path``,
delivered, landed, ingested and validated by the platform's own code."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from lake.config.project import load_project
from lake.config.sources import Source, load_source
from lake.contracts.model import Contract
from lake.contracts.reading import parse_contract
from lake.ingest.connectors.files import land as land_files
from lake.platform.catalog import ensure_databases


@dataclass
class MiniLake:
    """Declares, delivers, lands and runs bronze/validation for one test's own contracts."""

    spark: object
    root: Path
    session_settings: object
    formats: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def settings(self):
        """The shared session's lake, with this test's own source and landing folders."""
        return self.session_settings.model_copy(update={
            "source_root": str(self.root / "source"), "landing_root": str(self.root / "landing")})

    @property
    def landing_root(self) -> str:
        return self.settings.landing_root

    def delivery(self, source: str, day: date) -> Path:
        return Path(self.settings.source_root) / source / f"ds={day.isoformat()}"

    def land(self, contract: Contract, day: date, content: str | bytes,
             fmt: str | None = None) -> Path:
        """Deliver ``content`` as the dataset's file of ``day`` (the format: ``fmt``, Parquet
        for Parquet bytes, else NDJSON)."""
        if fmt is None:
            fmt = "parquet" if isinstance(content, bytes) and content[:4] == b"PAR1" else "ndjson"
        self.formats[(contract.source, contract.dataset)] = fmt
        path = self.delivery(contract.source, day) / f"{contract.dataset}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def source(self, contracts: dict[str, Contract]) -> Source:
        """The contracts' source declared in the project (source.yaml and contract files)."""
        name = _source(contracts)
        folder = self.root / "project" / "sources" / name
        (folder / "contracts").mkdir(parents=True, exist_ok=True)
        (self.root / "project" / "lakehouse.yaml").write_text("name: tests\n")
        datasets = {d: {"files": f"{d}.{self.formats.get((name, d), 'ndjson')}",
                        "format": self.formats.get((name, d), "ndjson"), "optional": True}
                    for d in contracts}
        (folder / "source.yaml").write_text(yaml.safe_dump({
            "source": name, "deliveries": {"connector": "files", "root": "{source_root}/" + name,
                                           "layout": "ds={ds}/"},
            "datasets": datasets}))
        for dataset, c in contracts.items():
            (folder / "contracts" / f"{dataset}.yaml").write_text(c.to_yaml())
        ensure_databases(self.spark, self.settings, [name])
        return load_source(load_project(self.root / "project"), name)

    def ingest(self, contracts: dict[str, Contract], day: date, environment: str | None = None):
        """Land the day's delivery and run bronze on its newest batch."""
        from lake.ingest.bronze import ingest_batch

        source = self.source(contracts)
        batch = land_files(self.settings, source, day)[-1]
        return ingest_batch(self.spark, source, batch, ingested_at=_at(day),
                            environment=environment)

    def validate(self, contracts: dict[str, Contract], day: date,
                 environment: str | None = None):
        """Validate the day's newest batch; the results by dataset."""
        from lake.ingest.landing import Ledger
        from lake.quality.validate import validate_batch

        source = self.source(contracts)
        batch = Ledger(self.landing_root, source.name).of_date(day)[-1]
        results = validate_batch(self.spark, source, logical_date=day, batch_id=batch.batch_id,
                                 validated_at=_at(day), gx_root=self.root / "gx",
                                 environment=environment)
        return {r.dataset: r for r in results}

    def batch_id(self, contract: Contract, day: date) -> str:
        from lake.ingest.landing import Ledger

        return Ledger(self.landing_root, contract.source).of_date(day)[-1].batch_id


def _source(contracts: dict[str, Contract]) -> str:
    return next(iter(contracts.values())).source


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 6, tzinfo=UTC)


def ndjson(*records: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def contract(dataset: str, columns: list[dict], *, source: str | None = None,
             **extra) -> Contract:
    """A contract of its own source (``t_<dataset>``, or ``source`` for datasets that share one,
    e.g. to reference each other), so the registry is the test's alone."""
    data = {"dataset": dataset, "columns": columns, **extra}
    return parse_contract(data, f"test contract {dataset}", source=source or f"t_{dataset}")


def zone(dataset: str, name: str = "", *, source: str | None = None) -> str:
    """A test dataset's table in a zone: ``zone("orders", "silver")`` -> ``t_orders_silver.orders``
    (its source without a zone)."""
    source = source or f"t_{dataset}"
    return f"{source}_{name}.{dataset}" if name else source


@pytest.fixture
def mini_lake(spark, tmp_path, session_settings):
    return MiniLake(spark, tmp_path, session_settings)


def drop_tables(spark, *datasets: str, source: str | None = None) -> None:
    for name in datasets:
        for zone_name in ("bronze", "silver", "quarantine"):
            spark.sql(f"DROP TABLE IF EXISTS {zone(name, zone_name, source=source)}")
