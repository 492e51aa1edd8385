"""Typed settings, read from ``LAKEHOUSE_*`` environment variables and an optional YAML file.

Nothing here runs at import time: call :func:`load_settings` where settings are needed.

Precedence (highest first): environment variables, the YAML file named by ``LAKEHOUSE_CONFIG``,
defaults. Every path defaults to a folder under ``LAKEHOUSE_HOME`` (default ``./.lakehouse``), so a
laptop needs nothing else; production points the roots at ``s3a://`` and the URLs at real servers.

Database connections of JDBC sources are settings too, never declarations:
``LAKEHOUSE_CONN_<NAME>=postgresql://user:password@host:5432/database`` (or ``mysql://``,
``mariadb://``, or a ``jdbc:`` URL), or ``connections: {name: URL}`` in the config file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lake.errors import ConfigError

ENV_PREFIX = "LAKEHOUSE_"
CONN_PREFIX = f"{ENV_PREFIX}CONN_"
REPO_ROOT = Path(__file__).resolve().parents[2]
_DRIVERS = {"postgresql": ("jdbc:postgresql", "org.postgresql.Driver"),
            "postgres": ("jdbc:postgresql", "org.postgresql.Driver"),
            "mysql": ("jdbc:mariadb", "org.mariadb.jdbc.Driver"),
            "mariadb": ("jdbc:mariadb", "org.mariadb.jdbc.Driver")}


@dataclass(frozen=True)
class Connection:
    """A database a JDBC source reads: its JDBC URL and the driver's properties."""

    name: str
    url: str
    properties: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # never print a password
        return f"Connection({self.name!r}, {self.url!r})"


def parse_connection(name: str, value: str) -> Connection:
    """``postgresql://user:password@host:port/db?opt=v`` (or ``mysql://``, ``mariadb://``, or a
    ``jdbc:`` URL passed as it is) as a :class:`Connection`; ValueError saying the form."""
    if value.startswith("jdbc:"):
        return Connection(name, value)
    parts = urlsplit(value)
    if parts.scheme not in _DRIVERS or not parts.hostname or not parts.path.strip("/"):
        raise ValueError(f"connection {name}: expected postgresql://USER:PASSWORD@HOST:PORT/"
                         "DATABASE (or mysql://, mariadb://, or a jdbc: URL)")
    prefix, driver = _DRIVERS[parts.scheme]
    port = f":{parts.port}" if parts.port else ""
    query = f"?{parts.query}" if parts.query else ""
    properties = {"driver": driver}
    if parts.username:
        properties["user"] = unquote(parts.username)
    if parts.password:
        properties["password"] = unquote(parts.password)
    return Connection(name, f"{prefix}://{parts.hostname}{port}{parts.path}{query}", properties)


class Settings(BaseModel):
    """Where everything lives and how Spark, the catalog and lineage are reached."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    home: Path = Path(".lakehouse")
    source_root: str = ""
    landing_root: str = ""
    lake_root: str = ""
    warehouse_root: str = ""
    spark_master: str = "local[2]"
    # how DAG tasks run the Spark jobs: "in_process" (one Spark application per task process,
    # kept warm across the tasks of `lakehouse run`), "spark_submit" (a spark-submit per task,
    # as on a cluster); "auto": in_process for a local master, spark_submit otherwise
    spark_tasks: Literal["auto", "in_process", "spark_submit"] = "auto"
    shuffle_partitions: int = 4
    # the driver JVM's heap (Spark's spark.driver.memory, e.g. "4g"); empty: for a local master,
    # whose driver also runs the tasks, a quarter of the machine's memory between 1g and 8g
    # (Spark's own default, 1g, spills a million-row batch's cached rows to disk); on a cluster,
    # Spark's default
    spark_driver_memory: str = ""
    # a native engine under Spark SQL: "comet" (Apache DataFusion Comet, its jar from `make
    # jars`) runs the operators it supports in native code and leaves the rest to Spark
    spark_accelerator: Literal["none", "comet"] = "none"
    # the Hive metastore's database: empty = Derby's network server under the home, started on
    # demand (lake.platform.metastore); else a PostgreSQL or MySQL/MariaDB JDBC URL
    metastore_url: str = ""
    metastore_user: str = ""
    metastore_password: str = Field("", repr=False)
    lineage_url: str = ""
    lineage_namespace: str = "lakehouse"
    lineage_transport: str = "store"
    airflow_home: Path | None = None
    airflow_database_url: str = ""
    dags_folder: Path | None = None
    project: Path | None = None
    jars_dir: Path = REPO_ROOT / ".jars"
    connections: dict[str, str] = {}
    # analyst SQL: the database of unqualified table names, and rows shown unless asked for more
    sql_database: str = "warehouse"
    sql_row_limit: int = 1000
    # the SQL endpoint (`lakehouse serve sql`, PostgreSQL's wire protocol): where it listens, the
    # user and password clients give (no password: one is generated and kept, readable only by
    # its owner, in <home>/sql-endpoint.json), the dialect of their queries, rows a query
    # returns at most, seconds a query may run
    sql_endpoint_host: str = "127.0.0.1"
    sql_endpoint_port: int = 15432
    sql_endpoint_user: str = "analyst"
    sql_endpoint_password: str = Field("", repr=False)
    sql_endpoint_dialect: str = "postgres"
    sql_endpoint_row_limit: int = 100_000
    sql_endpoint_max_connections: int = 32
    sql_statement_timeout: float = 300.0

    @field_validator("shuffle_partitions")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be a positive integer, e.g. 4")
        return value

    @field_validator("spark_driver_memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        if value and not re.fullmatch(r"[1-9][0-9]{0,6}[kmgt]", value.strip().lower()):
            raise ValueError("must be a JVM memory size, a number and k, m, g or t, e.g. 4g")
        return value.strip().lower()

    @field_validator("sql_row_limit")
    @classmethod
    def _row_limit(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must be 0 (no limit) or a positive number of rows, e.g. 1000")
        return value

    @field_validator("sql_endpoint_port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 0 <= value <= 65535:
            raise ValueError("must be a TCP port, 1 to 65535 (0: any free port)")
        return value

    @field_validator("sql_endpoint_row_limit", "sql_endpoint_max_connections",
                     "sql_statement_timeout")
    @classmethod
    def _positive_limit(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be a positive number")
        return value

    @field_validator("spark_master")
    @classmethod
    def _master(cls, value: str) -> str:
        if not value.startswith(("local", "spark://", "yarn", "k8s://")):
            raise ValueError("must be local[N], spark://HOST:PORT, yarn or k8s://URL")
        return value

    @field_validator("connections")
    @classmethod
    def _connections(cls, value: dict[str, str]) -> dict[str, str]:
        for name, url in value.items():
            parse_connection(name, url)
        return value

    @field_validator("metastore_url")
    @classmethod
    def _metastore(cls, value: str) -> str:
        if value and not value.startswith(("jdbc:derby:", "jdbc:postgresql:", "jdbc:mysql:",
                                           "jdbc:mariadb:", "postgresql://", "postgres://",
                                           "mysql://", "mariadb://")):
            raise ValueError("must be a PostgreSQL or MySQL/MariaDB database, e.g. "
                             "jdbc:postgresql://HOST:5432/metastore or postgresql://USER:PASSWORD@"
                             "HOST:5432/metastore (or unset: Derby's server under LAKEHOUSE_HOME)")
        if value and "://" in value and not value.startswith("jdbc:"):
            parse_connection("metastore", value)
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
            "lineage_url": f"sqlite:///{home / 'lineage.db'}",
            "airflow_home": home / "airflow",
        }
        for name, value in defaults.items():
            if not getattr(self, name):
                object.__setattr__(self, name, value)
        if not self.airflow_database_url:
            object.__setattr__(self, "airflow_database_url",
                               f"sqlite:///{self.airflow_home / 'airflow.db'}")
        if self.dags_folder is None:
            object.__setattr__(self, "dags_folder", self.airflow_home / "dags")
        if self.project is not None:
            object.__setattr__(self, "project", self.project.expanduser().absolute())

    @property
    def submits_spark_jobs(self) -> bool:
        """Whether DAG tasks spark-submit ``jobs/`` rather than run them in the task's process."""
        if self.spark_tasks == "auto":
            return not self.spark_master.startswith("local")
        return self.spark_tasks == "spark_submit"

    @property
    def gx_root(self) -> Path:
        """The Great Expectations project (suites, results, Data Docs site)."""
        return self.home / "gx"

    def connection(self, name: str) -> Connection:
        """The database connection ``name`` (``LAKEHOUSE_CONN_<NAME>``)."""
        if name not in self.connections:
            raise ConfigError(
                f"no connection {name!r}: set {CONN_PREFIX}{name.upper()}="
                "postgresql://USER:PASSWORD@HOST:PORT/DATABASE (or add it under connections: in "
                f"the LAKEHOUSE_CONFIG file); known connections: "
                f"{', '.join(sorted(self.connections)) or 'none'}")
        return parse_connection(name, self.connections[name])

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
        env = {
            f"{ENV_PREFIX}{name.upper()}": str(value)
            for name, value in self.model_dump().items()
            if value is not None and name != "connections"
        }
        env.update({f"{CONN_PREFIX}{name.upper()}": url for name, url in self.connections.items()})
        return env


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from the environment (default ``os.environ``), the config file and overrides.

    Raises :class:`ConfigError` naming the setting, its source and how to fix it.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    config_file = env.get(f"{ENV_PREFIX}CONFIG")
    if config_file:
        values.update(_read_config_file(Path(config_file)))
    known = set(Settings.model_fields) - {"connections"}
    connections = dict(values.pop("connections", None) or {})
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX) or key == f"{ENV_PREFIX}CONFIG":
            continue
        if key.startswith(CONN_PREFIX):
            connections[key[len(CONN_PREFIX):].lower()] = value
            continue
        name = key[len(ENV_PREFIX):].lower()
        if name not in known:
            raise ConfigError(
                f"unknown setting {key}; known settings are "
                + ", ".join(f"{ENV_PREFIX}{k.upper()}" for k in sorted(known))
            )
        values[name] = value
    values.update(overrides)
    values["connections"] = {**connections, **values.get("connections", {})}
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
