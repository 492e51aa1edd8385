"""The project of declarations: a folder the user keeps in their own repository, like a dbt project.

::

    my-lakehouse/
      lakehouse.yaml                  name, defaults (schedule, start date, time zone, owner, ...)
      sources/<source>/source.yaml    how a source's data arrives (:mod:`lake.config.sources`)
      sources/<source>/contracts/<dataset>.yaml   one contract per structured dataset
      warehouse/<model>.yaml          dimensions (:mod:`warehouse.models`)
      warehouse/<model>.sql           facts: the SELECT that builds them, with a header
      warehouse/views/<view>.sql      views and marts, plain SQL

The folder is named by the ``LAKEHOUSE_PROJECT`` setting (or is the current directory when it
holds a ``lakehouse.yaml``). Nothing here needs Spark: declarations are read and checked in
milliseconds, so Airflow can parse a DAG per source quickly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lake.config.loading import parse, read_yaml
from lake.errors import ConfigError

PROJECT_FILE = "lakehouse.yaml"
SOURCES_DIR = "sources"
SOURCE_FILE = "source.yaml"
CONTRACTS_DIR = "contracts"
WAREHOUSE_DIR = "warehouse"
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
RESERVED = frozenset({"meta", "warehouse", "default", "lakehouse", "global_temp"})


def check_name(value: str, what: str) -> str:
    """``value`` if it is a valid lower-case identifier for ``what`` (a source, dataset, model)."""
    if not NAME.match(value):
        raise ValueError(f"{what} name {value!r} must be lower-case letters, digits and _ "
                         "(starting with a letter, at most 40 characters)")
    return value


class Defaults(BaseModel):
    """What every source and DAG gets unless it says otherwise."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schedule: str = "@daily"
    start_date: date = date(2020, 1, 1)
    timezone: str = "UTC"
    owner: str = "data-platform"
    retries: int = Field(default=1, ge=0, le=20)
    retry_delay_seconds: int = Field(default=60, ge=0, le=86_400)
    environment: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as UTC or "
                             "Europe/Berlin") from err
        return value


class Maintenance(BaseModel):
    """When the maintenance DAG compacts and vacuums the tables, and how far back time travel
    must keep working (VACUUM never removes what a version inside the window reads)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schedule: str | None = "@daily"
    time_travel_days: int = Field(default=30, ge=1, le=3650)


class DateDimension(BaseModel):
    """The generated ``warehouse.dim_date``: one row per day from ``start`` (default: the
    project's ``defaults.start_date``) to ``end``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: date | None = None
    end: date = date(2040, 12, 31)


class WarehouseSettings(BaseModel):
    """Warehouse-wide settings: ``dim_date: null`` turns the generated date dimension off."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dim_date: DateDimension | None = DateDimension()


class ProjectFile(BaseModel):
    """``lakehouse.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    defaults: Defaults = Defaults()
    maintenance: Maintenance = Maintenance()
    warehouse: WarehouseSettings = WarehouseSettings()


@dataclass(frozen=True)
class Project:
    """A project folder and its ``lakehouse.yaml``."""

    root: Path
    config: ProjectFile

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def defaults(self) -> Defaults:
        return self.config.defaults

    @property
    def date_range(self) -> tuple[date, date] | None:
        """First and last day of the generated ``warehouse.dim_date`` (None: not generated)."""
        dim = self.config.warehouse.dim_date
        if dim is None:
            return None
        start = dim.start or self.defaults.start_date
        if dim.end < start:
            raise ConfigError(f"{PROJECT_FILE}: warehouse.dim_date: end {dim.end} is before "
                              f"start {start}")
        if (dim.end - start).days > 200 * 366:
            raise ConfigError(f"{PROJECT_FILE}: warehouse.dim_date: at most 200 years of days")
        return start, dim.end

    def source_dir(self, source: str) -> Path:
        return self.root / SOURCES_DIR / source

    def source_file(self, source: str) -> Path:
        return self.source_dir(source) / SOURCE_FILE

    def contracts_dir(self, source: str) -> Path:
        return self.source_dir(source) / CONTRACTS_DIR

    @property
    def warehouse_dir(self) -> Path:
        return self.root / WAREHOUSE_DIR

    def source_names(self) -> list[str]:
        """Every folder under ``sources/`` holding a ``source.yaml``, sorted."""
        folder = self.root / SOURCES_DIR
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir()
                      if p.is_dir() and (p / SOURCE_FILE).is_file())

    def dataset_names(self, source: str) -> list[str]:
        """The contract file names of ``source`` (``orders`` for ``contracts/orders.yaml``)."""
        folder = self.contracts_dir(source)
        if not folder.is_dir():
            return []
        return sorted(p.stem for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))

    def relative(self, path: Path) -> str:
        """``path`` relative to the project root, for messages."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def load_project(root: Path) -> Project:
    """Read ``root/lakehouse.yaml``; ConfigError naming the file, key and fix."""
    root = root.expanduser().absolute()
    path = root / PROJECT_FILE
    if not path.is_file():
        raise ConfigError(
            f"{root} is not a lakehouse project: it has no {PROJECT_FILE}. Point "
            f"LAKEHOUSE_PROJECT at your project folder, or create one with `lakehouse init DIR`")
    return Project(root, parse(ProjectFile, read_yaml(path), str(path)))


def find_project(configured: Path | None, cwd: Path | None = None) -> Project:
    """The project named by the setting, else the current directory if it is one."""
    if configured is not None:
        return load_project(configured)
    here = (cwd or Path.cwd()).absolute()
    if (here / PROJECT_FILE).is_file():
        return load_project(here)
    raise ConfigError(
        "no lakehouse project: set LAKEHOUSE_PROJECT to your project folder (one with a "
        f"{PROJECT_FILE}), run the command inside it, or create one with `lakehouse init DIR`")
