"""Dataset contracts: typed models over the YAML files in ``lake/contracts/<source>/``.

A contract names a dataset's columns (type, nullability, ranges, accepted values, PII tag, the
environments a column belongs to, anomaly thresholds), its keys, its references to other datasets,
how it may evolve, the severity and ``mostly`` of each rule, and custom row rules. Validation rules
are derived from it (:mod:`lake.rules`), so a rule is a YAML change; a typo gets an error naming
the file, the key and the fix.

Example (``lake/contracts/retail/orders.yaml``)::

    dataset: orders
    source: retail
    format: ndjson
    file: orders.ndjson
    version: 1
    changelog: [{version: 1, date: 2026-01-01, reason: first contract}]
    evolution: add_columns            # add_columns | rescue | fail
    environments: [TRAINING, SERVING]
    default_environment: TRAINING
    min_rows: 50
    columns:
      - {name: order_id, type: string, nullable: false}
      - {name: amount, type: "decimal(12,2)", nullable: false, min: 0, drift: 0.1}
      - {name: returned, type: boolean, nullable: false, environments: [TRAINING]}
    keys: [order_id]
    rules:
      "range:amount": {severity: quarantine, mostly: 0.95}
    custom_rules:
      - {name: sane_amount, expr: "amount <= quantity * 10000", severity: warn}
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lake.errors import ConfigError

SIMPLE_TYPES = ("string", "int", "bigint", "double", "boolean", "date", "timestamp")
NUMERIC_TYPES = ("int", "bigint", "double")
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Severity = Literal["warn", "quarantine", "fail"]
Evolution = Literal["add_columns", "rescue", "fail"]
SEVERITIES: tuple[str, ...] = ("warn", "quarantine", "fail")
EVOLUTION_POLICIES: tuple[str, ...] = ("add_columns", "rescue", "fail")
DEFAULT_ENVIRONMENT = "DEFAULT"


def is_numeric(type_: str) -> bool:
    return type_ in NUMERIC_TYPES or bool(_DECIMAL.match(type_))


class Column(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    type: str
    nullable: bool = True
    description: str = ""
    pii: bool = False
    min: float | None = None
    max: float | None = None
    accepted_values: tuple[str, ...] | None = None
    environments: tuple[str, ...] | None = Field(
        default=None, description="environments the column is present in (None: all)")
    max_null_fraction: float | None = Field(
        default=None, ge=0, le=1, description="anomaly when more of the batch is null")
    drift: float | None = Field(
        default=None, gt=0, le=1,
        description="anomaly when the distribution moves more than this from the previous batch "
                    "(L-infinity distance for categorical columns, Jensen-Shannon for numeric)")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"column name {value!r} must be letters, digits and _ (not first digit)")
        return value

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value in SIMPLE_TYPES or _DECIMAL.match(value):
            return value
        raise ValueError(f"unknown type {value!r}; use one of {', '.join(SIMPLE_TYPES)} or decimal(p,s)")

    @property
    def categorical(self) -> bool:
        """Compared by value frequencies (L-infinity) rather than by histogram (Jensen-Shannon)."""
        return not is_numeric(self.type) and self.type not in ("date", "timestamp")

    def in_environment(self, environment: str) -> bool:
        return self.environments is None or environment in self.environments


class Reference(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    dataset: str
    key: str


class RuleSetting(BaseModel):
    """How one derived rule is enforced: ``severity`` and ``mostly`` (share of rows that must pass
    for the batch-level expectation to succeed; a ``fail`` rule stops the batch below it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    severity: Severity = "quarantine"
    mostly: float = Field(default=1.0, gt=0, le=1)


class CustomRule(BaseModel):
    """A row rule written as a Spark SQL boolean expression that every valid row satisfies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    expr: str
    description: str = ""
    severity: Severity = "quarantine"
    mostly: float = Field(default=1.0, gt=0, le=1)
    environments: tuple[str, ...] | None = None

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"custom rule name {value!r} must be letters, digits and _")
        return value


class ChangelogEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(ge=1)
    date: date
    reason: str


class Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str
    source: str
    description: str = ""
    format: Literal["csv", "ndjson", "parquet"]
    file: str
    version: int = Field(default=1, ge=1)
    changelog: tuple[ChangelogEntry, ...] = ()
    evolution: Evolution = "rescue"
    environments: tuple[str, ...] = (DEFAULT_ENVIRONMENT,)
    default_environment: str | None = None
    min_rows: int | None = Field(default=None, ge=0)
    columns: tuple[Column, ...]
    keys: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    rules: dict[str, RuleSetting] = Field(default_factory=dict)
    custom_rules: tuple[CustomRule, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"columns {dupes} are declared more than once")
        for key in self.keys:
            if key not in names:
                raise ValueError(f"key {key!r} is not a declared column; declared: {sorted(names)}")
        for ref in self.references:
            if ref.column not in names:
                raise ValueError(f"reference column {ref.column!r} is not a declared column")
        if self.default_environment is not None and self.default_environment not in self.environments:
            raise ValueError(f"default_environment {self.default_environment!r} is not one of "
                             f"environments {list(self.environments)}")
        for owner, envs in [(f"column {c.name}", c.environments) for c in self.columns] + [
                (f"custom rule {r.name}", r.environments) for r in self.custom_rules]:
            unknown = sorted(set(envs or ()) - set(self.environments))
            if unknown:
                raise ValueError(f"{owner} names environments {unknown}; declared environments "
                                 f"are {list(self.environments)}")
        from lake.rules import rule_names

        known = set(rule_names(self))
        unknown_rules = sorted(set(self.rules) - known)
        if unknown_rules:
            raise ValueError(f"rules {unknown_rules} are not rules of this contract; its rules "
                             f"are {sorted(known)}")
        versions = [e.version for e in self.changelog]
        if versions and max(versions) != self.version:
            raise ValueError(f"changelog ends at version {max(versions)} but version is "
                             f"{self.version}; add a changelog entry for version {self.version}")
        return self

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def environment(self) -> str:
        """The environment batches are validated in unless told otherwise."""
        return self.default_environment or self.environments[0]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def check_environment(self, environment: str | None) -> str:
        """``environment`` (or the default) if the contract declares it, else a ConfigError."""
        env = environment or self.environment
        if env not in self.environments:
            raise ConfigError(f"environment {env!r} is not declared by contract {self.source}."
                              f"{self.dataset}; declared: {', '.join(self.environments)}")
        return env

    def fingerprint(self) -> str:
        """SHA-256 of everything but the changelog: equal contracts, equal fingerprints."""
        body = self.model_dump(mode="json", exclude={"changelog"})
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def to_yaml(self) -> str:
        """The contract as YAML, in the file format (defaults left out)."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        data = {"dataset": self.dataset, "source": self.source, "format": self.format,
                "file": self.file, "version": self.version, **data}
        return yaml.safe_dump(data, sort_keys=False, width=100)


def parse_contract(data: object, origin: str) -> Contract:
    """Validate ``data`` (a parsed YAML mapping); errors name ``origin``, the key and the fix."""
    try:
        return Contract.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(f"{origin}: invalid contract: {problems}") from err


def load_contract(path: Path) -> Contract:
    """Read and validate one contract file; errors name the file, the key and the fix."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: cannot read contract: {err}") from err
    return parse_contract(data, str(path))


@cache
def source_contracts(source: str) -> dict[str, Contract]:
    """The contracts shipped for ``source`` (e.g. ``retail``), keyed by dataset name."""
    folder = resources.files("lake") / "contracts" / source
    if not folder.is_dir():
        raise ConfigError(f"no contracts for source {source!r}; expected lake/contracts/{source}/*.yaml")
    out = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith((".yaml", ".yml")):
            contract = load_contract(Path(str(entry)))
            out[contract.dataset] = contract
    return out


def find_contract(dataset: str) -> Contract:
    """The shipped contract of ``dataset`` (``orders``, ``bronze.orders`` or ``retail.orders``)."""
    name = dataset.split(".")[-1]
    folder = resources.files("lake") / "contracts"
    sources = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    prefix = dataset.split(".")[0] if "." in dataset else None
    found = [source_contracts(s)[name] for s in sources
             if name in source_contracts(s) and prefix in (None, s, "bronze", "silver", "quarantine")]
    if not found:
        known = sorted(f"{s}.{d}" for s in sources for d in source_contracts(s))
        raise ConfigError(f"no contract for dataset {dataset!r}; known datasets: {', '.join(known)}")
    return found[0]
