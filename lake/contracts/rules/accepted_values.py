"""``accepted_values:<col>``: a value outside the column's ``accepted_values``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lake.contracts.rules.rule import RowContext, Rule

if TYPE_CHECKING:
    from pyspark.sql import Column

    from lake.contracts.model import Column as ContractColumn

KIND = "accepted_values"
SCOPE = "column"


def derive(col: ContractColumn) -> Rule | None:
    if col.accepted_values is None:
        return None
    return Rule(f"accepted_values:{col.name}", KIND, col.name, values=col.accepted_values,
                description=f"{col.name} must be one of {', '.join(col.accepted_values)}")


def failed(rule: Rule, ctx: RowContext) -> Column:
    from pyspark.sql import functions as F

    return F.coalesce(~F.col(rule.column).isin(list(rule.values)), F.lit(False))


def checks(rule: Rule) -> dict[str, str]:
    values = ", ".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
                       for v in rule.values)
    return {f"{rule.column}_accepted": f"`{rule.column}` IN ({values})"}


def expectation(rule: Rule) -> dict:
    return {"kind": "in_set", "column": rule.column, "value_set": rule.values}
