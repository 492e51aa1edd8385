"""``reference:<col>-><dataset>``: the value is not a known key of the referenced dataset (its
silver rows, plus this batch's valid rows of it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lake.contracts.rules.rule import RowContext, Rule

if TYPE_CHECKING:
    from pyspark.sql import Column

    from lake.contracts.model import Contract

KIND = "reference"
SCOPE = "dataset"


def derive(contract: Contract) -> list[Rule]:
    return [Rule(f"reference:{ref.column}->{ref.dataset}", KIND, ref.column, reference=ref,
                 environments=contract.column(ref.column).environments,
                 description=f"{ref.column} must be a known {ref.dataset}.{ref.key}")
            for ref in contract.references]


def failed(rule: Rule, ctx: RowContext) -> Column:
    from pyspark.sql import functions as F

    return F.col(rule.column).isNotNull() & F.col(ctx.references[rule.name]).isNull()
