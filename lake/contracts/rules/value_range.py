"""``range:<col>``: a number outside the column's ``min``/``max``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lake.contracts.rules.rule import RowContext, Rule

if TYPE_CHECKING:
    from pyspark.sql import Column

    from lake.contracts.model import Column as ContractColumn

KIND = "range"
SCOPE = "column"


def derive(col: ContractColumn) -> Rule | None:
    if col.min is None and col.max is None:
        return None
    bounds = " and ".join(b for b in (f">= {col.min:g}" if col.min is not None else "",
                                      f"<= {col.max:g}" if col.max is not None else "") if b)
    return Rule(f"range:{col.name}", KIND, col.name, min=col.min, max=col.max,
                description=f"{col.name} must be {bounds}")


def failed(rule: Rule, ctx: RowContext) -> Column:
    from pyspark.sql import functions as F

    col = F.col(rule.column)
    low = col < F.lit(rule.min) if rule.min is not None else F.lit(False)
    high = col > F.lit(rule.max) if rule.max is not None else F.lit(False)
    return F.coalesce(low | high, F.lit(False))


def checks(rule: Rule) -> dict[str, str]:
    out = {}
    if rule.min is not None:
        out[f"{rule.column}_min"] = f"`{rule.column}` >= {rule.min}"
    if rule.max is not None:
        out[f"{rule.column}_max"] = f"`{rule.column}` <= {rule.max}"
    return out


def expectation(rule: Rule) -> dict:
    return {"kind": "between", "column": rule.column, "min_value": rule.min,
            "max_value": rule.max}
