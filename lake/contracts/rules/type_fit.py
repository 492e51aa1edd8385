"""``type:<col>``: the value did not fit the column's type (its text is in ``_rescued_data``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lake.contracts.rules.rule import RowContext, Rule

if TYPE_CHECKING:
    from pyspark.sql import Column

    from lake.contracts.model import Column as ContractColumn

KIND = "type"
SCOPE = "column"


def derive(col: ContractColumn) -> Rule | None:
    if col.type == "string":
        return None
    return Rule(f"type:{col.name}", KIND, col.name,
                description=f"{col.name} must be a valid {col.type}")


def failed(rule: Rule, ctx: RowContext) -> Column:
    from pyspark.sql import functions as F

    return F.coalesce(F.col(ctx.rescued)[F.lit(rule.column)].isNotNull(), F.lit(False))
