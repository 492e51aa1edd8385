"""Dataset contracts: typed models of the YAML files in a source's ``contracts/`` folder.

A contract names a dataset's columns (type, nullability, ranges, accepted values, PII tag, the
environments a column belongs to, anomaly thresholds), its keys, its references to other datasets
of the source, how it may evolve, the severity and ``mostly`` of each rule, and custom row rules.
Validation rules are derived from it (:mod:`lake.contracts.rules`), so a rule is a YAML change;
a typo gets an error naming the file, the key and the fix (:mod:`lake.contracts.reading`).

Example (``sources/retail/contracts/orders.yaml``)::

    dataset: orders
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
      - {name: shipping, type: "struct<city: string, zip: string>"}
      - {name: tags, type: "array<string>"}
    keys: [order_id]
    rules:
      "range:amount": {severity: quarantine, mostly: 0.95}
    custom_rules:
      - {name: sane_amount, expr: "amount <= quantity * 10000", severity: warn}

Column types are Spark SQL types: ``string``, ``int``, ``bigint``, ``double``, ``boolean``,
``date``, ``timestamp``, ``decimal(p,s)``, and nested ``array<T>``, ``map<K,V>``,
``struct<name: T, ...>`` for JSON, Parquet and Avro data.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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


def is_nested(type_: str) -> bool:
    return type_.startswith(("array<", "map<", "struct<"))


def normalize_type(text: str) -> str:
    """A contract type in canonical form (``struct<a:int,b:array<string>>``); ValueError saying
    what is wrong with it."""
    tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\d+|[<>(),:]|\S", text.strip().lower())
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take(expected: str | None = None) -> str:
        nonlocal pos
        token = peek()
        if token is None or (expected is not None and token != expected):
            raise ValueError(f"unknown type {text!r}: expected {expected or 'a type'} at "
                             f"{' '.join(tokens[pos:]) or 'the end'}; use one of "
                             f"{', '.join(SIMPLE_TYPES)}, decimal(p,s), array<T>, map<K,V> or "
                             "struct<name: T, ...>")
        pos += 1
        return token

    def parse() -> str:
        nonlocal pos
        name = take()
        if name in SIMPLE_TYPES:
            return name
        if name == "decimal":
            take("(")
            precision = take()
            take(",")
            scale = take()
            take(")")
            if not (precision.isdigit() and scale.isdigit()) or not 0 < int(precision) <= 38 \
                    or int(scale) > int(precision):
                raise ValueError(f"decimal({precision},{scale}): precision 1-38, scale <= it")
            return f"decimal({precision},{scale})"
        if name == "array":
            take("<")
            inner = parse()
            take(">")
            return f"array<{inner}>"
        if name == "map":
            take("<")
            key = parse()
            take(",")
            value = parse()
            take(">")
            return f"map<{key},{value}>"
        if name == "struct":
            take("<")
            fields = []
            while True:
                field_name = take()
                if not _NAME.match(field_name):
                    raise ValueError(f"struct field {field_name!r} must be a plain name")
                take(":")
                fields.append(f"{field_name}:{parse()}")
                if peek() == ",":
                    take(",")
                    continue
                take(">")
                return f"struct<{','.join(fields)}>"
        pos -= 1
        take("a known type")
        return ""

    result = parse()
    if pos != len(tokens):
        raise ValueError(f"unknown type {text!r}: unexpected {' '.join(tokens[pos:])}")
    return result


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
        return normalize_type(value)

    @property
    def categorical(self) -> bool:
        """Compared by value frequencies (L-infinity) rather than by histogram (Jensen-Shannon)."""
        return not is_numeric(self.type) and self.type not in ("date", "timestamp") \
            and not is_nested(self.type)

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
        data.pop("source", None)
        data = {"dataset": self.dataset, "version": self.version, **data}
        return yaml.safe_dump(data, sort_keys=False, width=100)
