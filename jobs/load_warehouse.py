"""Spark job: load the warehouse models (of one DAG, or the ones named) from the batches
they have not loaded yet; column lineage is read from the SQL that ran."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import UTC, datetime

from jobs.run import JobArgs, read_ref, run_job, table_ref
from lineage.events.run_events import DatasetRef


def body(spark, settings, project, args, record) -> None:
    from lake.errors import ConfigError, LakehouseError
    from warehouse.load import load_warehouse
    from warehouse.models.catalog import load_models

    catalog = load_models(project)
    _date_dimension(spark, project, catalog, record)
    if args.models:
        result = load_warehouse(spark, catalog, recorded_at=datetime.now(UTC), models=args.models)
    else:
        dags = catalog.dags()
        if args.dag not in dags:
            raise ConfigError(f"no warehouse DAG {args.dag!r}; the project's: "
                              f"{', '.join(dags) or 'none (no models declared)'}")
        result = load_warehouse(spark, catalog, recorded_at=datetime.now(UTC),
                                models=tuple(dags[args.dag]), with_dependencies=False)
    record.inputs += [read_ref(spark, t, v) for t, v in result.inputs.items()]
    outputs = [table_ref(spark, w) for w in result.writes.values()]
    record.outputs += with_column_lineage(outputs, record.inputs, result.sql)
    record.parameters["models"] = ",".join(result.outcomes) or "none"
    if result.failed:
        raise LakehouseError("warehouse load failed for " + "; ".join(
            f"{name}: {why}" for name, why in result.failed.items()))


def _date_dimension(spark, project, catalog, record) -> None:
    """The generated ``warehouse.dim_date``, unless the project declares its own ``dim_date``."""
    from lake.platform.delta import latest_version, table_location
    from warehouse.date_dimension import DATE_TABLE, ensure_date_dimension

    span = project.date_range
    if span is None or "dim_date" in catalog.order:
        return
    if ensure_date_dimension(spark, *span):
        record.outputs.append(read_ref(spark, DATE_TABLE, latest_version(
            spark, table_location(spark, DATE_TABLE))))


def with_column_lineage(outputs: list[DatasetRef], inputs: list[DatasetRef],
                        sql: dict[str, list[str]]) -> list[DatasetRef]:
    """Each output with the columnLineage read off the statements that wrote it this run."""
    from lineage.events.column_lineage import column_lineage, to_locations

    locations = {ref.table: ref.location for ref in (*inputs, *outputs) if ref.table}
    out = []
    for ref in outputs:
        mapping: dict = {}
        for statement in sql.get(ref.table, []):
            for column, sources in column_lineage(statement).items():
                mapping[column] = sorted({*mapping.get(column, ()), *sources})
        out.append(replace(ref, column_lineage=to_locations(mapping, locations)) if mapping
                   else ref)
    return out


def parse_args(argv: list[str] | None) -> JobArgs:
    parser = argparse.ArgumentParser(prog="jobs/load_warehouse.py", description=__doc__)
    parser.add_argument("--dag", default=None,
                        help="load the models of this warehouse DAG (as the project groups them)")
    parser.add_argument("--model", action="append", default=[], dest="models",
                        help="load this model and what it reads; repeat for several")
    ns = parser.parse_args(argv)
    if not ns.dag and not ns.models:
        parser.error("give --dag NAME or --model NAME")
    return JobArgs("load_warehouse", dag=ns.dag, models=tuple(ns.models))


def main(argv: list[str] | None = None) -> int:
    return run_job(parse_args(argv), body)


if __name__ == "__main__":
    sys.exit(main())
