"""Typed settings, read from ``LAKEHOUSE_*`` environment variables and an optional YAML file.

Nothing here runs at import time: call :func:`load_settings` where settings are needed.

Precedence (highest first): environment variables, the YAML file named by ``LAKEHOUSE_CONFIG``,
defaults. Every path defaults to a folder under ``LAKEHOUSE_HOME`` (default ``./.lakehouse``), so a
laptop needs nothing else; production points the roots at ``s3a://`` and the URLs at real servers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from lake.errors import ConfigError

ENV_PREFIX = "LAKEHOUSE_"
REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseModel):
    """Where everything lives and how Spark, the catalog and lineage are reached."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    home: Path = Path(".lakehouse")
    source_root: str = ""
    landing_root: str = ""
    lake_root: str = ""
    warehouse_root: str = ""
    spark_master: str = "local[2]"
    shuffle_partitions: int = 4
    metastore_url: str = ""
    lineage_url: str = ""
    lineage_namespace: str = "lakehouse"
    lineage_transport: str = "store"
    airflow_home: Path | None = None
    jars_dir: Path = REPO_ROOT / ".jars"
    seed: int = 7

    @field_validator("shuffle_partitions")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be a positive integer, e.g. 4")
        return value

    @field_validator("spark_master")
    @classmethod
    def _master(cls, value: str) -> str:
        if not value.startswith(("local", "spark://", "yarn", "k8s://")):
            raise ValueError("must be local[N], spark://HOST:PORT, yarn or k8s://URL")
        return value

    @field_validator("lineage_transport")
    @classmethod
    def _transport(cls, value: str) -> str:
        from lineage.delivery.destinations import parse_transports

        parse_transports(value)  # ValueError naming the bad destination and the syntax
        return value

    def model_post_init(self, _context: Any) -> None:
        home = self.home.expanduser().absolute()
        object.__setattr__(self, "home", home)
        defaults = {
            "source_root": str(home / "source"),
            "landing_root": str(home / "landing"),
            "lake_root": str(home / "lake"),
            "warehouse_root": str(home / "warehouse"),
            "metastore_url": f"jdbc:derby:;databaseName={home / 'metastore_db'};create=true",
            "lineage_url": f"sqlite:///{home / 'lineage.db'}",
            "airflow_home": home / "airflow",
        }
        for name, value in defaults.items():
            if not getattr(self, name):
                object.__setattr__(self, name, value)

    @property
    def gx_root(self) -> Path:
        """The Great Expectations project (suites, results, Data Docs site)."""
        return self.home / "gx"

    def source_drop(self, source: str, logical_date: date) -> Path:
        """Where ``source`` delivers its files for ``logical_date`` (outside the lake)."""
        return Path(self.source_root) / source / f"ds={logical_date.isoformat()}"

    @property
    def lineage_spool_dir(self) -> Path:
        """Where lineage events wait when the store is unreachable."""
        return self.home / "lineage_spool"

    def jar_paths(self) -> list[str]:
        """The resolved JVM jars (Delta and friends); empty when ``make jars`` has not run."""
        if not self.jars_dir.is_dir():
            return []
        return sorted(str(p) for p in self.jars_dir.glob("*.jar"))

    def as_env(self) -> dict[str, str]:
        """These settings as ``LAKEHOUSE_*`` variables, to hand to a child process."""
        return {
            f"{ENV_PREFIX}{name.upper()}": str(value)
            for name, value in self.model_dump().items()
            if value is not None
        }


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from the environment (default ``os.environ``), the config file and overrides.

    Raises :class:`ConfigError` naming the setting, its source and how to fix it.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    config_file = env.get(f"{ENV_PREFIX}CONFIG")
    if config_file:
        values.update(_read_config_file(Path(config_file)))
    known = set(Settings.model_fields)
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX) or key == f"{ENV_PREFIX}CONFIG":
            continue
        name = key[len(ENV_PREFIX):].lower()
        if name not in known:
            raise ConfigError(
                f"unknown setting {key}; known settings are "
                + ", ".join(f"{ENV_PREFIX}{k.upper()}" for k in sorted(known))
            )
        values[name] = value
    values.update(overrides)
    try:
        return Settings(**values)
    except ValidationError as err:
        problems = "; ".join(
            f"{ENV_PREFIX}{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from err


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"LAKEHOUSE_CONFIG names {path}, which does not exist; fix the path or unset it")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of setting names to values")
    unknown = set(data) - set(Settings.model_fields)
    if unknown:
        raise ConfigError(
            f"{path}: unknown keys {sorted(unknown)}; known keys are {sorted(Settings.model_fields)}"
        )
    return data
