"""``lakehouse sources list|validate|show``: the project's declared sources."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

EPILOG = """\
examples:
  lakehouse sources list
  lakehouse sources validate            # every declaration, models included; exit 1 on errors
  lakehouse sources show retail --format json
"""


def add_parser(sub: Any) -> None:
    sources = sub.add_parser(
        "sources", help="list, check and show the project's sources",
        description="The sources declared in the project (sources/<name>/source.yaml with a "
                    "contract per dataset), and the warehouse models that read them.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    cmds = sources.add_subparsers(dest="sources_command", required=True)
    listing = cmds.add_parser("list", help="one line per source")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.set_defaults(func=cmd_list)
    validate = cmds.add_parser(
        "validate", help="check every declaration; each problem with file, key and fix",
        description="Read every source, contract and warehouse model of the project and report "
                    "each problem with its file, key and how to fix it: unknown keys, wrong "
                    "types, missing files patterns or contracts, references to unknown "
                    "datasets or tables, unknown columns in model SQL, cycles. Exit status 1 "
                    "when anything is wrong.")
    validate.add_argument("names", nargs="*", help="only these sources (default: all)")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.set_defaults(func=cmd_validate)
    show = cmds.add_parser("show", help="a source's deliveries, datasets, contracts and tables")
    show.add_argument("name", help="the source's name")
    show.add_argument("--format", choices=("text", "json"), default="text")
    show.set_defaults(func=cmd_show)


def cmd_list(args: argparse.Namespace) -> int:
    from lake.config.sources import load_sources
    from lakehouse.cli.context import print_json, print_table, settings_and_project

    _, project = settings_and_project()
    good, bad = load_sources(project)
    rows = [{"source": s.name, "connector": s.connector, "schedule": s.schedule,
             "datasets": ", ".join(s.datasets), "owner": s.owner, "status": "ok"}
            for s in good.values()]
    rows += [{"source": name, "status": f"error: {err}"} for name, err in bad.items()]
    rows.sort(key=lambda r: r["source"])
    if args.format == "json":
        print_json(rows)
    elif rows:
        print_table(rows, ["source", "connector", "schedule", "datasets", "owner", "status"])
    else:
        print(f"no sources in {project.root}/sources; add sources/<name>/source.yaml "
              "(`lakehouse init` shows one)")
    return 1 if bad else 0


def validate_project(project: Any, names: list[str] | None = None) -> dict[str, Any]:
    """Every problem of the project's declarations (or of ``names``), as data."""
    from lake.config.sources import load_sources, source_of
    from lake.errors import ConfigError
    from warehouse.models.catalog import load_models
    from warehouse.models.schema_check import check_columns

    problems: list[str] = []
    if names:
        good = {}
        for name in names:
            try:
                good[name] = source_of(project, name)
            except ConfigError as err:
                problems.append(str(err))
    else:
        good, bad = load_sources(project)
        problems += [str(err) for err in bad.values()]
    models: list[str] = []
    try:
        catalog = load_models(project)
        models = list(catalog.order)
        problems += [str(e) for e in check_columns(
            catalog, {n: s.contracts for n, s in good.items()}, project.relative)]
    except ConfigError as err:
        problems.append(str(err))
    return {"project": str(project.root), "sources": sorted(good), "models": models,
            "problems": problems, "ok": not problems}


def cmd_validate(args: argparse.Namespace) -> int:
    from lakehouse.cli.context import print_json, settings_and_project

    _, project = settings_and_project()
    report = validate_project(project, args.names or None)
    if args.format == "json":
        print_json(report)
    else:
        for problem in report["problems"]:
            print(f"error: {problem}")
        print(f"{len(report['sources'])} source(s) and {len(report['models'])} warehouse "
              f"model(s) checked in {report['project']}: "
              + ("all valid" if report["ok"] else f"{len(report['problems'])} problem(s)"))
    return 0 if report["ok"] else 1


def describe_source(settings: Any, project: Any, name: str) -> dict[str, Any]:
    """What ``lakehouse sources show`` prints, as data."""
    from lake.config.sources import source_of
    from lake.platform.catalog import table

    source = source_of(project, name)
    datasets = {}
    for dataset_name, decl in source.datasets.items():
        entry: dict[str, Any] = {"declaration": decl.model_dump(mode="json", exclude_none=True,
                                                                by_alias=True)}
        contract = source.contracts.get(dataset_name)
        if contract is not None:
            entry.update(contract_version=contract.version, evolution=contract.evolution,
                         keys=list(contract.keys),
                         columns=[{"name": c.name, "type": c.type, "nullable": c.nullable,
                                   "pii": c.pii} for c in contract.columns],
                         tables={z: table(name, z, dataset_name)
                                 for z in ("bronze", "silver", "quarantine")})
        else:
            entry["tables"] = {"bronze": table(name, "bronze", dataset_name)}
        datasets[dataset_name] = entry
    delivery = source.deliveries.model_dump(mode="json", exclude_none=True)
    if source.connector == "files":
        delivery["folder_today"] = source.deliveries.folder(settings, str(project.root),
                                                            date.today())
    return {"source": name, "file": project.relative(source.file), "connector": source.connector,
            "description": source.header.description, "owner": source.owner,
            "schedule": source.schedule, "environment": source.environment,
            "dag": f"ingest_{name}", "deliveries": delivery, "datasets": datasets}


def cmd_show(args: argparse.Namespace) -> int:
    from lakehouse.cli.context import print_json, settings_and_project

    settings, project = settings_and_project()
    info = describe_source(settings, project, args.name)
    if args.format == "json":
        print_json(info)
        return 0
    print(f"source {info['source']} ({info['connector']}), {info['file']}")
    if info["description"]:
        print(f"  {info['description']}")
    print(f"  owner {info['owner']}; schedule {info['schedule']}; environment "
          f"{info['environment'] or 'each contract default'}; DAG {info['dag']}")
    print(f"  deliveries: {info['deliveries']}")
    for name, d in info["datasets"].items():
        decl = d["declaration"]
        what = decl.get("files") or decl.get("table") or "query"
        print(f"\n  {name}: {what}" + (f" ({decl.get('format')})" if decl.get("format") else ""))
        if "columns" in d:
            print(f"    contract v{d['contract_version']} ({d['evolution']}), keys "
                  f"{', '.join(d['keys']) or '-'}")
            for c in d["columns"]:
                flags = ", ".join(f for f, on in (("not null", not c["nullable"]),
                                                  ("pii", c["pii"])) if on)
                print(f"      {c['name']:<24} {c['type']}" + (f"  ({flags})" if flags else ""))
        print("    tables: " + ", ".join(d["tables"].values()))
    return 0
