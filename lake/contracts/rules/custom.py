"""``custom:<name>``: a Spark SQL boolean expression every valid row satisfies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lake.contracts.rules.rule import RowContext, Rule

if TYPE_CHECKING:
    from pyspark.sql import Column

    from lake.contracts.model import Contract

KIND = "custom"
SCOPE = "dataset"


def derive(contract: Contract) -> list[Rule]:
    return [Rule(f"custom:{c.name}", KIND, expr=c.expr, severity=c.severity, mostly=c.mostly,
                 description=c.description or c.expr, environments=c.environments)
            for c in contract.custom_rules]


def failed(rule: Rule, ctx: RowContext) -> Column:
    from pyspark.sql import functions as F

    return F.coalesce(~F.expr(rule.expr), F.lit(False))


def checks(rule: Rule) -> dict[str, str]:
    # a rule of some environments only cannot hold for every silver row
    return {rule.name.replace(":", "_"): rule.expr} if rule.environments is None else {}
