"""Spark job: keep the project's Delta tables fast and small. Compact (and cluster or Z-order,
as each warehouse model's layout declares) the files daily appends leave, and VACUUM files
older than the time-travel window of ``lakehouse.yaml`` (``maintenance.time_travel_days``),
never younger (see :mod:`lake.platform.maintenance`)."""

from __future__ import annotations

import argparse
import sys

from jobs.run import JobArgs, read_ref, run_job


def project_tables(spark, project) -> list:
    """A plan per existing table: every zone table of the project's sources, the metadata
    tables, and the warehouse's dimensions and facts (views hold no files)."""
    from lake.platform.catalog import META, table
    from lake.platform.maintenance import TablePlan
    from warehouse.models.catalog import load_models
    from warehouse.sql_parts import ident

    plans = [TablePlan(table(s, z, d)) for s in project.source_names()
             for z in ("bronze", "silver", "quarantine") for d in project.dataset_names(s)]
    if spark.catalog.databaseExists(META):
        plans += [TablePlan(f"{META}.{t.name}") for t in spark.catalog.listTables(META)
                  if (t.tableType or "").upper() != "VIEW"]
    catalog = load_models(project)
    for model in (*catalog.dimensions.values(), *catalog.facts.values()):
        plans.append(TablePlan(model.table, tuple(ident(c) for c in model.layout.zorder_by),
                               model.layout.target_file_bytes))
    return [p for p in plans if spark.catalog.tableExists(p.table)]


def body(spark, settings, project, args, record) -> list:
    """Maintain the tables; what was done per table (:class:`~lake.platform.maintenance.Upkeep`)."""
    from lake.errors import ConfigError
    from lake.platform.maintenance import maintain

    plans = project_tables(spark, project)
    if args.tables:
        unknown = sorted(set(args.tables) - {p.table for p in plans})
        if unknown:
            raise ConfigError(f"no table {', '.join(unknown)} to maintain; the project's: "
                              + ", ".join(p.table for p in plans))
        plans = [p for p in plans if p.table in args.tables]
    done = maintain(spark, plans, time_travel_days=project.config.maintenance.time_travel_days,
                    dry_run=args.dry_run)
    for upkeep in done:
        if upkeep.version_after != upkeep.version_before:
            record.inputs.append(read_ref(spark, upkeep.table, upkeep.version_before))
            record.outputs.append(read_ref(spark, upkeep.table, upkeep.version_after))
    record.parameters.update({
        "tables": str(len(done)),
        "files_compacted": str(sum(u.files_compacted for u in done)),
        "files_vacuumed": str(sum(u.files_vacuumed for u in done)),
        "time_travel_days": str(project.config.maintenance.time_travel_days),
    })
    return done


def parse_args(argv: list[str] | None) -> JobArgs:
    parser = argparse.ArgumentParser(prog="jobs/maintain.py", description=__doc__)
    parser.add_argument("--table", action="append", default=[], dest="tables",
                        help="only this table (DATABASE.TABLE); repeat for several")
    parser.add_argument("--dry-run", action="store_true",
                        help="compact nothing; say how many files VACUUM would remove")
    ns = parser.parse_args(argv)
    return JobArgs("maintain", dag="maintenance", tables=tuple(ns.tables), dry_run=ns.dry_run)


def main(argv: list[str] | None = None) -> int:
    return run_job(parse_args(argv), body)


if __name__ == "__main__":
    sys.exit(main())
