"""``unique:<keys>``: two different records of the batch share the key: both are held back (which
one is right is for a person to say)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lake.contracts.rules.rule import RowContext, Rule

if TYPE_CHECKING:
    from pyspark.sql import Column

    from lake.contracts.model import Contract

KIND = "unique"
SCOPE = "dataset"


def derive(contract: Contract) -> list[Rule]:
    if not contract.keys:
        return []
    keys = ",".join(contract.keys)
    return [Rule(f"unique:{keys}", KIND,
                 description=f"({keys}) must identify one record; conflicting records go")]


def failed(rule: Rule, ctx: RowContext) -> Column:
    from pyspark.sql import functions as F

    present = F.lit(True)
    for key in ctx.keys:
        present = present & F.col(key).isNotNull()
    return present & ~F.col(ctx.duplicate) & (F.col(ctx.key_count) > 1)
