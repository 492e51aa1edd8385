"""``duplicate``: an exact copy of an earlier record of the batch (the first copy stays valid)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lake.contracts.rules.rule import RowContext, Rule

if TYPE_CHECKING:
    from pyspark.sql import Column

    from lake.contracts.model import Contract

KIND = "duplicate"
SCOPE = "dataset"


def derive(contract: Contract) -> list[Rule]:
    return [Rule("duplicate", KIND, description="an exact copy of an earlier record of the batch")]


def failed(rule: Rule, ctx: RowContext) -> Column:
    from pyspark.sql import functions as F

    return F.col(ctx.duplicate)
