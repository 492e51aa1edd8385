"""Running an example project in-process with the platform's Python API, as the jobs do: land
(each source's connector), bronze, validate, then the warehouse; and keeping modules that do so
apart in the shared test session.

The test session has one catalog, shared by every module: zone tables, ``warehouse`` and the
``meta`` tables (partitioned by source). A batch's meta rows are written at most once per
(source, batch id, datasets) by Delta transaction ids that outlive a DELETE, so two modules must
not run sources of the same name: :func:`claim` fails loudly when a source's name was used, and
:func:`copy_example` can rename an example's sources. Warehouse models may share names across
modules: :func:`claim` and :func:`release` drop their tables and forget their loads.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from lake.config.project import Project, load_project
from lake.config.sources import source_of
from lake.ingest.landing import Batch, Ledger
from lake.platform.catalog import ZONES, ensure_databases
from lake.platform.delta import table_version
from lake.platform.meta_tables import TABLES as META_TABLES

EXAMPLES = Path(__file__).parents[2] / "examples"
MODEL_LOADS = "meta.model_loads"


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def copy_example(example: str, project: Path, rename: dict[str, str] | None = None) -> None:
    """Copy ``examples/<example>``'s sources and warehouse models into the project folder
    ``project`` (given a lakehouse.yaml when it has none), source ``s`` named ``rename[s]``: its
    folder, ``source:``, delivery root and every ``s.<dataset>``/``s_silver.`` in the models."""
    root = EXAMPLES / example
    rename = rename or {}
    project.mkdir(parents=True, exist_ok=True)
    if not (project / "lakehouse.yaml").exists():
        shutil.copy(root / "lakehouse.yaml", project / "lakehouse.yaml")
    for folder in sorted((root / "sources").iterdir()):
        target = project / "sources" / rename.get(folder.name, folder.name)
        shutil.copytree(folder, target)
        if folder.name in rename:
            declared = target / "source.yaml"
            declared.write_text(_renamed(declared.read_text(), folder.name, rename[folder.name],
                                         (r"^source: {}$", r"\{{source_root\}}/{}\b")))
    for path in sorted((root / "warehouse").rglob("*.*")):
        text = path.read_text()
        for old, new in rename.items():
            text = _renamed(text, old, new, (r"\b{}(?=\.\w)", r"\b{}(?=_silver\.)"))
        target = project / "warehouse" / path.relative_to(root / "warehouse")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def _renamed(text: str, old: str, new: str, patterns: tuple[str, ...]) -> str:
    """``text`` with ``old`` replaced by ``new`` where a pattern (``{}``: the name) matches."""
    for pattern in patterns:
        text = re.sub(pattern.format(re.escape(old)),
                      lambda m: m.group(0).replace(old, new), text, flags=re.M)
    return text


def claim(spark, sources: tuple[str, ...], models: tuple[str, ...]) -> None:
    """Start a module's run: fail if another module ran ``sources`` in this session (their meta
    rows are there: see the module doc), drop the warehouse ``models`` and forget their loads."""
    import pytest

    names = ", ".join(f"'{s}'" for s in sources)
    for meta in META_TABLES:
        if spark.catalog.tableExists(meta):
            used = spark.sql(f"SELECT DISTINCT source FROM {meta} WHERE source IN ({names})")
            if used.count():
                pytest.fail(f"{meta} holds rows of sources {sorted(r[0] for r in used.collect())}"
                            ": another test module of this session ran sources of those names; "
                            "name this module's sources apart (copy_example(rename=...))")
    release(spark, sources, models)


def release(spark, sources: tuple[str, ...], models: tuple[str, ...]) -> None:
    """End a module's run: drop the sources' zone tables and the warehouse models, and forget
    the models' loads (``meta.model_loads``), so a later module may use the model names."""
    databases = {row[0] for row in spark.sql("SHOW DATABASES").collect()}
    for source in sources:
        for zone in ZONES:
            if f"{source}_{zone}" in databases:
                for t in spark.catalog.listTables(f"{source}_{zone}"):
                    _drop(spark, f"{source}_{zone}.{t.name}")
    for model in models:
        _drop(spark, f"warehouse.{model}")
    if models and spark.catalog.tableExists(MODEL_LOADS):
        spark.sql(f"DELETE FROM {MODEL_LOADS} WHERE model IN "
                  f"({', '.join(repr(m) for m in models)})")


def _drop(spark, name: str) -> None:
    if spark.catalog.tableExists(name):
        kind = spark.catalog.getTable(name).tableType
        spark.sql(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {name}")


@dataclass
class ExampleLake:
    """A project of declarations run in the shared session with its own source, landing and GX
    folders (``settings``)."""

    spark: object
    settings: object
    project: Project
    gx_root: Path

    @classmethod
    def create(cls, spark, session_settings, project: Path, folder: Path,
               connections: dict[str, str] | None = None) -> ExampleLake:
        settings = session_settings.model_copy(update={
            "source_root": str(folder / "source"), "landing_root": str(folder / "landing"),
            "connections": connections or {}})
        lake = cls(spark, settings, load_project(project), folder / "gx")
        ensure_databases(spark, settings, lake.project.source_names())
        return lake

    def source_root(self, source: str) -> Path:
        return Path(self.settings.source_root) / source

    def run_source(self, name: str, day: date) -> list[Batch]:
        """Land ``name``'s delivery of ``day``, then bronze and validate the batches of that
        date not done yet, as the jobs do (``jobs/land.py``, ``bronze.py``, ``validate.py``);
        the date's batches."""
        from lake.ingest.bronze import ingest_batch, ingested_batches
        from lake.ingest.connectors import files, jdbc
        from lake.quality.validate import pending_batches, validate_batch

        source = source_of(self.project, name)
        if source.connector == "jdbc":
            batches = jdbc.land(self.spark, self.settings, source, day, landed_at=at(day, 5))
        else:
            batches = files.land(self.settings, source, day, landed_at=at(day, 5))
        ids = [b.batch_id for b in batches]
        done = ingested_batches(self.spark, name, ids)
        for batch in batches:
            if batch.batch_id not in done:
                ingest_batch(self.spark, source, batch, ingested_at=at(day, 6))
        for batch_id in pending_batches(self.spark, name, ids):
            validate_batch(self.spark, source, logical_date=day, batch_id=batch_id,
                           validated_at=at(day, 6), gx_root=self.gx_root)
        return batches

    def load_warehouse(self, day: date, models: tuple[str, ...] | None = None):
        from warehouse.load import load_warehouse
        from warehouse.models.catalog import load_models

        result = load_warehouse(self.spark, load_models(self.project), recorded_at=at(day, 7),
                                models=models)
        assert not result.failed, result.failed
        return result

    def batches(self, source: str) -> list[Batch]:
        return Ledger(self.settings.landing_root, source).batches()

    def tables(self, sources: tuple[str, ...]) -> list[str]:
        """Every zone table of ``sources``."""
        return sorted(f"{s}_{z}.{t.name}" for s in sources for z in ZONES
                      for t in self.spark.catalog.listTables(f"{s}_{z}"))

    def versions(self, tables: list[str]) -> dict[str, int | None]:
        return {t: table_version(self.spark, t) for t in tables}


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]
