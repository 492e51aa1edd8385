"""``not_null:<col>``: a required value is absent (a value that did not fit is a ``type``
failure, not this one)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lake.contracts.rules.rule import RowContext, Rule

if TYPE_CHECKING:
    from pyspark.sql import Column

    from lake.contracts.model import Column as ContractColumn

KIND = "not_null"
SCOPE = "column"


def derive(col: ContractColumn) -> Rule | None:
    if col.nullable:
        return None
    return Rule(f"not_null:{col.name}", KIND, col.name, description=f"{col.name} must be present")


def failed(rule: Rule, ctx: RowContext) -> Column:
    from pyspark.sql import functions as F

    misfit = F.coalesce(F.col(ctx.rescued)[F.lit(rule.column)].isNotNull(), F.lit(False))
    return F.col(rule.column).isNull() & ~misfit
