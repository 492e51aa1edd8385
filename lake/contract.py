"""Dataset contracts: typed models over the YAML files in ``lake/contracts/<source>/``.

A contract names a dataset's columns (type, nullability, ranges, accepted values, PII tag), its keys
and its references to other datasets. Validation rules are derived from it (:func:`rules`), so adding
a rule is a YAML change; a typo gets an error naming the file, the key and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from lake.errors import ConfigError

SIMPLE_TYPES = ("string", "int", "bigint", "double", "boolean", "date", "timestamp")
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")


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

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value in SIMPLE_TYPES or _DECIMAL.match(value):
            return value
        raise ValueError(f"unknown type {value!r}; use one of {', '.join(SIMPLE_TYPES)} or decimal(p,s)")


class Reference(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    dataset: str
    key: str


class Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str
    source: str
    description: str = ""
    format: Literal["csv", "ndjson", "parquet"]
    file: str
    version: int = 1
    columns: tuple[Column, ...]
    keys: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()

    @model_validator(mode="after")
    def _names_exist(self) -> Contract:
        names = {c.name for c in self.columns}
        for key in self.keys:
            if key not in names:
                raise ValueError(f"key {key!r} is not a declared column; declared: {sorted(names)}")
        for ref in self.references:
            if ref.column not in names:
                raise ValueError(f"reference column {ref.column!r} is not a declared column")
        return self

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class Rule:
    """One check on a row. ``name`` is what quarantine records carry, e.g. ``not_null:order_id``."""

    name: str
    kind: Literal["not_null", "type", "range", "accepted_values", "duplicate", "unique", "reference"]
    column: str | None = None
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] = ()
    reference: Reference | None = None


def rules(contract: Contract) -> tuple[Rule, ...]:
    """Every row-level rule the contract implies, in a stable order."""
    out: list[Rule] = []
    for col in contract.columns:
        if col.type != "string":
            out.append(Rule(f"type:{col.name}", "type", col.name))
        if not col.nullable:
            out.append(Rule(f"not_null:{col.name}", "not_null", col.name))
        if col.min is not None or col.max is not None:
            out.append(Rule(f"range:{col.name}", "range", col.name, min=col.min, max=col.max))
        if col.accepted_values is not None:
            out.append(
                Rule(f"accepted_values:{col.name}", "accepted_values", col.name,
                     values=col.accepted_values)
            )
    out.append(Rule("duplicate", "duplicate"))
    if contract.keys:
        out.append(Rule(f"unique:{','.join(contract.keys)}", "unique"))
    for ref in contract.references:
        out.append(Rule(f"reference:{ref.column}->{ref.dataset}", "reference", ref.column,
                        reference=ref))
    return tuple(out)


def load_contract(path: Path) -> Contract:
    """Read and validate one contract file; errors name the file, the key and the fix."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: cannot read contract: {err}") from err
    try:
        return Contract.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(f"{path}: invalid contract: {problems}") from err


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
