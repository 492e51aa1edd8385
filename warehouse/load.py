"""A warehouse load: every model (or the ones asked for), in dependency order, each applying the
batches it has not loaded yet (:mod:`warehouse.ledger`), one MERGE per batch.

Dimensions that read no model still to load run side by side, each on its own session (its
idempotent MERGE's transaction id is a session setting). A model that fails stops the models
that read it; the others still load, and the result names each failure (the job fails after
recording what did load). What ran is returned with the SQL of every write, which is what the
job's column lineage is read from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from lake.errors import LakehouseError
from lake.platform.concurrent import run_concurrently
from lake.platform.delta import TableWrite, table_version
from warehouse import dimensions, facts, ledger
from warehouse.models.catalog import ModelCatalog, dependencies
from warehouse.models.dimension import Dimension
from warehouse.models.fact import Fact
from warehouse.views import create_view

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


@dataclass
class WarehouseLoad:
    inputs: dict[str, int | None] = field(default_factory=dict)  # table read -> Delta version
    writes: dict[str, TableWrite] = field(default_factory=dict)
    sql: dict[str, list[str]] = field(default_factory=dict)  # table written -> statements run
    outcomes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # model -> batches
    failed: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)  # table written -> rows its MERGEs wrote
    loaded: list[ledger.Loaded] = field(default_factory=list)  # for meta.model_loads


def load_warehouse(spark: SparkSession, catalog: ModelCatalog, *, recorded_at: datetime,
                   models: tuple[str, ...] | None = None,
                   with_dependencies: bool = True) -> WarehouseLoad:
    """Load ``models`` (default: every model), with the models they read unless told not to, in
    order; failures are in the result's ``failed``."""
    from lake.platform.meta_tables import create_meta_tables
    from lake.platform.tables import create_table, existing_tables

    create_meta_tables(spark)
    if not existing_tables(spark, [ledger.MODEL_LOADS]):
        create_table(spark, ledger.MODEL_LOADS, ledger.MODEL_LOADS_DDL,
                     comment="The batches each warehouse model has loaded")
    wanted = _with_dependencies(catalog, models) if with_dependencies or not models else set(models)
    state = ledger.read_state(spark, {name: catalog.driving_table(name) for name in wanted
                                      if name in catalog.dimensions or name in catalog.facts})
    result = WarehouseLoad()
    try:
        for wave in _waves(catalog, wanted):
            run_concurrently([partial(_load_checked, spark.newSession() if len(wave) > 1
                                      else spark, catalog, state, name, recorded_at, result)
                              for name in wave])
    finally:
        ledger.record(spark, result.loaded, recorded_at)
    return result


def _waves(catalog: ModelCatalog, wanted: set[str]) -> list[list[str]]:
    """``wanted`` in load order, grouped: dimensions whose models are all loaded run side by
    side (each writes only its own table); a fact or view runs alone (a fact also writes its
    dimensions' inferred members)."""
    left = [name for name in catalog.order if name in wanted]
    waves: list[list[str]] = []
    while left:
        done = wanted - set(left)
        ready = [name for name in left if name in catalog.dimensions
                 and dependencies(name, catalog.dimensions, catalog.facts, catalog.selects)
                 & wanted <= done]
        wave = ready if len(ready) > 1 else left[:1]
        waves.append(wave)
        left = [name for name in left if name not in wave]
    return waves


def _load_checked(spark: SparkSession, catalog: ModelCatalog, state: ledger.LedgerState,
                  name: str, recorded_at: datetime, result: WarehouseLoad) -> None:
    """Load one model unless a model it reads failed; its own failure goes to the result."""
    broken = sorted(dependencies(name, catalog.dimensions, catalog.facts, catalog.selects)
                    & set(result.failed))
    if broken:
        result.failed[name] = f"not loaded: it reads {', '.join(broken)}, which failed"
        return
    try:
        _load_model(spark, catalog, state, name, recorded_at, result)
    except LakehouseError as err:
        log.error("warehouse model %s failed: %s", name, err)
        result.failed[name] = str(err)


def _with_dependencies(catalog: ModelCatalog, models: tuple[str, ...] | None) -> set[str]:
    if not models:
        return set(catalog.order)
    for name in models:
        catalog.model(name)  # ConfigError naming the models
    wanted: set[str] = set()

    def add(name: str) -> None:
        if name not in wanted:
            wanted.add(name)
            for dep in dependencies(name, catalog.dimensions, catalog.facts, catalog.selects):
                add(dep)

    for name in models:
        add(name)
    return wanted


def _load_model(spark: SparkSession, catalog: ModelCatalog, state: ledger.LedgerState, name: str,
                recorded_at: datetime, result: WarehouseLoad) -> None:
    model = catalog.model(name)
    info = catalog.selects[name]
    for table in info.tables:
        if table not in result.inputs and not table.startswith("warehouse."):
            result.inputs[table] = table_version(spark, table)
    if not isinstance(model, (Dimension, Fact)):
        if create_view(spark, model):
            result.sql.setdefault(model.table, []).append(model.sql)
        result.outcomes[name] = []
        return
    driving = catalog.driving_table(name)
    if isinstance(model, Dimension):
        dimensions.create_dimension(spark, model, info)
        latest = dimensions.latest_snapshot(spark, model)
    else:
        dims = {lk.dimension: catalog.dimensions[lk.dimension] for lk in model.lookups}
        output = facts.create_fact(spark, model, info, dims)
    done: list[tuple[ledger.PendingBatch, str]] = []
    try:
        for pending in state.pending(name, driving):
            if isinstance(model, Dimension):
                applied = dimensions.apply_batch(spark, model, info, pending,
                                                 recorded_at=recorded_at, latest_snapshot=latest)
                if applied.opened is not None and (latest is None or applied.opened > latest):
                    latest = applied.opened
            else:
                applied, inferred = facts.apply_batch(spark, model, info, output, dims, pending,
                                                      driving, recorded_at=recorded_at)
                for table, dim in inferred.items():
                    result.sql.setdefault(table, []).extend(dim.sql)
                    _written(spark, result, table, dim.rows)
            result.sql.setdefault(model.table, []).extend(applied.sql)
            _written(spark, result, model.table, applied.rows)
            done.append((pending, applied.outcome))
            log.info("%s batch %s: %s", model.table, pending.batch_id, applied.outcome)
    finally:
        result.loaded.extend(ledger.Loaded(name, driving, p, outcome) for p, outcome in done)
        result.outcomes[name] = [(p.batch_id, outcome) for p, outcome in done]
    if model.table not in result.writes:
        _written(spark, result, model.table, 0)


def _written(spark: SparkSession, result: WarehouseLoad, table: str, rows: int) -> None:
    """Record a write to ``table``: its version now and the rows written to it so far this load
    (what OpenLineage's output statistics count; the table's size would cost a scan)."""
    from lake.platform.delta import latest_version, table_location

    result.rows[table] = result.rows.get(table, 0) + rows
    location = table_location(spark, table)
    result.writes[table] = TableWrite(table, latest_version(spark, location), table in result.sql,
                                      location, result.rows[table])
