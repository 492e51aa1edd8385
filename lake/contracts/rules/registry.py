"""Rule kinds in the order their rules are listed, and what the platform asks of each.

A kind module has ``KIND``, ``SCOPE`` (``column``: ``derive(column)`` per contract column, or
``dataset``: ``derive(contract)``) and ``failed(rule, ctx)`` (a Spark condition, true when the
row fails). It may have ``checks(rule)`` (Delta CHECK constraints that hold for every silver row
when the rule quarantines) and ``expectation(rule)`` (the Great Expectations spec; default: a
:class:`~lake.quality.gx_rules.ExpectRowsToPassRule` on ``_failed_rules``). A new kind is one
module and one line in :data:`KINDS`.
"""

from __future__ import annotations

from dataclasses import replace
from types import ModuleType
from typing import TYPE_CHECKING

from lake.contracts.rules import (
    accepted_values,
    custom,
    duplicate,
    malformed,
    not_null,
    reference,
    type_fit,
    unique_key,
    value_range,
)
from lake.contracts.rules.rule import RowContext, Rule
from lake.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import Column

    from lake.contracts.model import Contract

KINDS: tuple[ModuleType, ...] = (malformed, type_fit, not_null, value_range, accepted_values,
                                 duplicate, unique_key, reference, custom)
_BY_KIND = {m.KIND: m for m in KINDS}


def _derived(contract: Contract, environment: str | None) -> list[Rule]:
    """Every rule of the contract before severities, in kind order; ``environment`` None keeps
    the rules of every environment."""
    out: list[Rule] = []
    dataset_kinds = [m for m in KINDS if m.SCOPE == "dataset"]
    column_kinds = [m for m in KINDS if m.SCOPE == "column"]
    out += malformed.derive(contract)
    for col in contract.columns:
        if environment is not None and not col.in_environment(environment):
            continue
        out += [r for r in (m.derive(col) for m in column_kinds) if r is not None]
    for module in dataset_kinds:
        if module is malformed:
            continue
        out += [r for r in module.derive(contract)
                if environment is None or r.environments is None or environment in r.environments]
    return out


def rule_names(contract: Contract) -> tuple[str, ...]:
    """Every rule name the contract can produce, in any environment."""
    return tuple(r.name for r in _derived(contract, None))


def rules(contract: Contract, environment: str | None = None) -> tuple[Rule, ...]:
    """The rules that apply in ``environment`` (default: the contract's), with their settings."""
    out = []
    for rule in _derived(contract, environment or contract.environment):
        setting = contract.rules.get(rule.name)
        if setting is not None:
            rule = replace(rule, severity=setting.severity, mostly=setting.mostly)
        out.append(rule)
    return tuple(out)


def check_settings(contract: Contract, origin: str) -> None:
    """Every key of the contract's ``rules:`` must name one of its rules."""
    known = set(rule_names(contract))
    unknown = sorted(set(contract.rules) - known)
    if unknown:
        raise ConfigError(f"{origin}: rules: {unknown} are not rules of this contract; its rules "
                          f"are {sorted(known)}")


def failed(rule: Rule, ctx: RowContext) -> Column:
    """True when the row fails ``rule``."""
    return _BY_KIND[rule.kind].failed(rule, ctx)


def silver_checks(contract: Contract) -> dict[str, str]:
    """CHECK constraints that hold for every silver row: those of the rules whose failing rows
    are quarantined (a ``warn`` rule lets its rows through), in every environment."""
    out: dict[str, str] = {}
    for rule in rules(contract):
        module = _BY_KIND[rule.kind]
        if rule.quarantines and hasattr(module, "checks"):
            out.update(module.checks(rule))
    return out


def expectation(rule: Rule) -> dict:
    """The Great Expectations spec arguments of ``rule`` (kind and its own arguments)."""
    module = _BY_KIND[rule.kind]
    if hasattr(module, "expectation"):
        return module.expectation(rule)
    return {"kind": "passes_rule"}
