"""``malformed_record``: the record could not be parsed at all (its text is kept)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lake.contracts.rules.rule import MALFORMED, RowContext, Rule

if TYPE_CHECKING:
    from pyspark.sql import Column

    from lake.contracts.model import Contract

KIND = "malformed"
SCOPE = "dataset"


def derive(contract: Contract) -> list[Rule]:
    return [Rule(MALFORMED, KIND, description="the record could not be parsed at all")]


def failed(rule: Rule, ctx: RowContext) -> Column:
    from pyspark.sql import functions as F

    return F.col(ctx.rescued)[F.lit("_corrupt_record")].isNotNull()
