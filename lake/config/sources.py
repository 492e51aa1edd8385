"""Sources: where and how a source's data arrives, and the datasets it delivers.

``sources/<source>/source.yaml``::

    source: retail
    description: The shop's daily extract
    owner: sales-data@example.com
    schedule: "@daily"
    environment: TRAINING              # default environment of its batches
    deliveries:
      connector: files                 # a module of lake.ingest.connectors: files | jdbc
      root: "{source_root}/retail"     # a folder or an object-store prefix (s3://bucket/prefix)
      layout: "ds={ds}/"               # where one delivery's files sit
      complete_when: {marker: _SUCCESS}
    datasets:
      customers: {files: "customers*.csv", csv: {delimiter: ";", encoding: utf-8}}
      orders: {files: "orders*.ndjson"}
      documents: {files: "documents/**", unstructured: true}

The ``deliveries`` block and each dataset are checked by the connector's own models
(:mod:`lake.ingest.connectors.registry`), so a new connector brings its keys with it. Every
structured dataset has a contract in ``contracts/<dataset>.yaml`` (:mod:`lake.contracts.model`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from lake.config.loading import parse, read_yaml
from lake.config.project import Project, check_name
from lake.contracts.model import Contract
from lake.contracts.reading import load_contract
from lake.errors import ConfigError


class SourceHeader(BaseModel):
    """The keys of ``source.yaml`` every connector shares."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    description: str = ""
    owner: str | None = None
    schedule: str | None = None
    start_date: date | None = None
    environment: str | None = None
    retries: int | None = Field(default=None, ge=0, le=20)
    tags: tuple[str, ...] = ()

    @field_validator("source")
    @classmethod
    def _name(cls, value: str) -> str:
        from lake.config.project import RESERVED

        check_name(value, "source")
        if value in RESERVED:
            raise ValueError(f"{value!r} is reserved; choose another source name")
        return value


@dataclass(frozen=True)
class Source:
    """One declared source: its header, its connector's delivery settings and datasets, and the
    contract of each structured dataset."""

    name: str
    file: Path
    header: SourceHeader
    connector: str
    deliveries: Any  # the connector's Delivery model
    datasets: dict[str, Any]  # dataset name -> the connector's Dataset model
    contracts: dict[str, Contract]
    project: Project

    @property
    def structured(self) -> dict[str, Any]:
        """Datasets with records (and a contract), in declaration order."""
        return {n: d for n, d in self.datasets.items() if not d.unstructured}

    @property
    def unstructured(self) -> dict[str, Any]:
        """Datasets of files kept whole (images, PDFs, text), no contract."""
        return {n: d for n, d in self.datasets.items() if d.unstructured}

    @property
    def owner(self) -> str:
        return self.header.owner or self.project.defaults.owner

    @property
    def schedule(self) -> str:
        return self.header.schedule or self.project.defaults.schedule

    @property
    def start_date(self) -> date:
        return self.header.start_date or self.project.defaults.start_date

    @property
    def environment(self) -> str | None:
        return self.header.environment or self.project.defaults.environment

    @property
    def retries(self) -> int:
        return self.project.defaults.retries if self.header.retries is None else self.header.retries

    def dataset(self, name: str) -> Any:
        if name not in self.datasets:
            raise ConfigError(f"source {self.name} has no dataset {name!r}; its datasets: "
                              f"{', '.join(self.datasets)}")
        return self.datasets[name]


def _connector_name(raw: Any) -> str:
    deliveries = raw.get("deliveries") if isinstance(raw, dict) else None
    name = deliveries.get("connector", "files") if isinstance(deliveries, dict) else "files"
    return str(name)


@functools.cache
def source_model(connector: str) -> type[BaseModel]:
    """The ``source.yaml`` model of ``connector``: the shared header plus its own blocks."""
    from lake.ingest.connectors.registry import connector_module

    module = connector_module(connector)
    return create_model(
        f"{connector.title()}Source", __base__=SourceHeader,
        deliveries=(module.Delivery, ...),
        datasets=(dict[str, module.dataset_model()], ...),
    )


def load_source(project: Project, name: str, *, require_contracts: bool = True) -> Source:
    """Read and check ``sources/<name>/``: source.yaml and its contracts (without
    ``require_contracts``, a structured dataset may still lack one: contract inference)."""
    from lake.ingest.connectors.registry import CONNECTORS

    path = project.source_file(name)
    origin = project.relative(path)
    raw = read_yaml(path, origin=origin)
    connector = _connector_name(raw)
    if connector not in CONNECTORS:
        raise ConfigError(f"{origin}: deliveries.connector: unknown connector {connector!r}; "
                          f"use one of {', '.join(sorted(CONNECTORS))}")
    decl = parse(source_model(connector), raw, origin)
    if decl.source != name:
        raise ConfigError(f"{origin}: source: says {decl.source!r} but the folder is "
                          f"sources/{name}/; make them equal")
    for dataset in decl.datasets:
        try:
            check_name(dataset, "dataset")
        except ValueError as err:
            raise ConfigError(f"{origin}: datasets.{dataset}: {err}") from err
    contracts = _contracts(project, name, decl.datasets, origin, require_contracts)
    header = SourceHeader(**{k: getattr(decl, k) for k in SourceHeader.model_fields})
    source = Source(name, path, header, connector, decl.deliveries, dict(decl.datasets),
                    contracts, project)
    _check_environments(source, origin)
    return source


def _contracts(project: Project, source: str, datasets: dict[str, Any], origin: str,
               required: bool = True) -> dict[str, Contract]:
    folder = project.contracts_dir(source)
    files = {p.stem: p for p in sorted(folder.glob("*.y*ml"))} if folder.is_dir() else {}
    out = {}
    for name, dataset in datasets.items():
        if dataset.unstructured:
            if name in files:
                raise ConfigError(f"{project.relative(files[name])}: dataset {name} is "
                                  "unstructured (kept as whole files), so it takes no contract; "
                                  "remove the file or the unstructured flag")
            continue
        if name not in files:
            if not required:
                continue
            raise ConfigError(
                f"{origin}: datasets.{name}: no contract; add "
                f"{project.relative(folder / (name + '.yaml'))} (`lakehouse contract infer "
                f"{source}.{name}` proposes one from its files)")
        contract = load_contract(files[name], source=source,
                                 origin=project.relative(files[name]))
        if contract.dataset != name:
            raise ConfigError(f"{project.relative(files[name])}: dataset: says "
                              f"{contract.dataset!r} but the file is named for {name!r}; make "
                              "them equal")
        out[name] = contract
    for stray in sorted(set(files) - set(datasets)):
        raise ConfigError(f"{project.relative(files[stray])}: there is no dataset {stray!r} in "
                          f"{origin}; declare it under datasets: or remove the contract")
    for name, contract in out.items():
        for ref in contract.references:
            if ref.dataset not in out and ref.dataset in datasets and not required:
                continue
            if ref.dataset not in out:
                raise ConfigError(
                    f"{project.relative(files[name])}: references: {ref.column} -> "
                    f"{ref.dataset}.{ref.key}: {ref.dataset!r} is not a structured dataset of "
                    f"source {source}; its datasets: {', '.join(out) or 'none'}")
            if ref.key not in out[ref.dataset].column_names:
                raise ConfigError(
                    f"{project.relative(files[name])}: references: {ref.column} -> "
                    f"{ref.dataset}.{ref.key}: {ref.dataset} has no column {ref.key!r}")
    _check_reference_cycles(out, source)
    return out


def _check_reference_cycles(contracts: dict[str, Contract], source: str) -> None:
    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            cycle = " -> ".join((*path[path.index(name):], name))
            raise ConfigError(f"sources/{source}/contracts: references form a cycle ({cycle}); "
                              "a dataset can only reference datasets validated before it")
        for ref in contracts[name].references:
            visit(ref.dataset, (*path, name))

    for name in contracts:
        visit(name, ())


def _check_environments(source: Source, origin: str) -> None:
    env = source.environment
    if env is None or not source.contracts:
        return
    declared = sorted({e for c in source.contracts.values() for e in c.environments})
    if env not in declared:
        raise ConfigError(f"{origin}: environment: {env!r} is not declared by any contract of "
                          f"the source; declared: {', '.join(declared)}")


def load_sources(project: Project) -> tuple[dict[str, Source], dict[str, ConfigError]]:
    """Every source of the project, and the error of each that could not be loaded."""
    good: dict[str, Source] = {}
    bad: dict[str, ConfigError] = {}
    for name in project.source_names():
        try:
            good[name] = load_source(project, name)
        except ConfigError as err:
            bad[name] = err
    return good, bad


def source_of(project: Project, name: str, *, require_contracts: bool = True) -> Source:
    """One source by name, with an error listing the declared ones."""
    if name not in project.source_names():
        known = ", ".join(project.source_names()) or "none yet"
        raise ConfigError(f"no source {name!r} in {project.root}; declared sources: {known} "
                          f"(a source is a folder sources/<name>/ with a source.yaml)")
    return load_source(project, name, require_contracts=require_contracts)


def resolve_dataset(project: Project, text: str) -> tuple[str, str]:
    """(source, dataset) named by ``text``: ``SOURCE.DATASET``, a zone table
    (``retail_silver.orders``), or a dataset name that only one source has."""
    from lake.platform.catalog import zone_of

    pairs = [(s, d) for s in project.source_names() for d in project.dataset_names(s)]
    if "." in text:
        head, _, dataset = text.partition(".")
        try:
            head, _zone, dataset = zone_of(text)
        except ValueError:
            pass
        if (head, dataset) in pairs:
            return head, dataset
    else:
        hits = [p for p in pairs if p[1] == text]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise ConfigError(f"several sources have a dataset {text!r} "
                              f"({', '.join(s for s, _ in hits)}); name it as SOURCE.DATASET")
    known = ", ".join(f"{s}.{d}" for s, d in pairs) or "none"
    raise ConfigError(f"no dataset {text!r} in the project; datasets: {known}")
