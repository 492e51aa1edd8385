"""The row rules a contract implies, in a stable order, with their severity and ``mostly``.

Rule names are what quarantine records, batch counts, Great Expectations and lineage carry:
``type:<col>``, ``not_null:<col>``, ``range:<col>``, ``accepted_values:<col>``, ``duplicate``,
``unique:<keys>``, ``reference:<col>-><dataset>`` and ``custom:<name>``.

Severity: ``warn`` keeps the row in silver and counts it; ``quarantine`` (the default) sends the row
to quarantine; ``fail`` also quarantines the row, and stops the batch (nothing written past bronze)
when fewer than ``mostly`` of the rows pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from lake.contract import Contract, Reference

MALFORMED = "malformed_record"

RuleKind = Literal["malformed", "type", "not_null", "range", "accepted_values", "duplicate",
                   "unique", "reference", "custom"]


@dataclass(frozen=True)
class Rule:
    """One check on a row. ``name`` is what quarantine records carry, e.g. ``not_null:order_id``."""

    name: str
    kind: RuleKind
    column: str | None = None
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] = ()
    reference: Reference | None = None
    expr: str | None = None
    severity: str = "quarantine"
    mostly: float = 1.0
    description: str = ""

    @property
    def quarantines(self) -> bool:
        return self.severity != "warn"


def _derived(contract: Contract, environment: str | None) -> list[Rule]:
    """Rules before severities are applied; ``environment`` None means every column."""
    def present(name: str) -> bool:
        return environment is None or contract.column(name).in_environment(environment)

    out = [Rule(MALFORMED, "malformed", description="the record could not be parsed at all")]
    for col in contract.columns:
        if not present(col.name):
            continue
        if col.type != "string":
            out.append(Rule(f"type:{col.name}", "type", col.name,
                            description=f"{col.name} must be a valid {col.type}"))
        if not col.nullable:
            out.append(Rule(f"not_null:{col.name}", "not_null", col.name,
                            description=f"{col.name} must be present"))
        if col.min is not None or col.max is not None:
            bounds = " and ".join(
                b for b in (f">= {col.min:g}" if col.min is not None else "",
                            f"<= {col.max:g}" if col.max is not None else "") if b)
            out.append(Rule(f"range:{col.name}", "range", col.name, min=col.min, max=col.max,
                            description=f"{col.name} must be {bounds}"))
        if col.accepted_values is not None:
            out.append(Rule(f"accepted_values:{col.name}", "accepted_values", col.name,
                            values=col.accepted_values,
                            description=f"{col.name} must be one of {', '.join(col.accepted_values)}"))
    out.append(Rule("duplicate", "duplicate",
                    description="an exact copy of an earlier record of the batch"))
    if contract.keys:
        keys = ",".join(contract.keys)
        out.append(Rule(f"unique:{keys}", "unique",
                        description=f"({keys}) must identify one record; conflicting records go"))
    for ref in contract.references:
        if present(ref.column):
            out.append(Rule(f"reference:{ref.column}->{ref.dataset}", "reference", ref.column,
                            reference=ref,
                            description=f"{ref.column} must be a known {ref.dataset}.{ref.key}"))
    for custom in contract.custom_rules:
        if environment is None or custom.environments is None or environment in custom.environments:
            out.append(Rule(f"custom:{custom.name}", "custom", expr=custom.expr,
                            severity=custom.severity, mostly=custom.mostly,
                            description=custom.description or custom.expr))
    return out


def rule_names(contract: Contract) -> tuple[str, ...]:
    """Every rule name the contract can produce, in any environment."""
    return tuple(r.name for r in _derived(contract, None))


def rules(contract: Contract, environment: str | None = None) -> tuple[Rule, ...]:
    """The rules that apply in ``environment`` (default: the contract's), with their settings."""
    from dataclasses import replace

    env = environment or contract.environment
    out = []
    for rule in _derived(contract, env):
        setting = contract.rules.get(rule.name)
        if setting is not None:
            rule = replace(rule, severity=setting.severity, mostly=setting.mostly)
        out.append(rule)
    return tuple(out)
