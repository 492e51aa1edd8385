"""Batch profiles: the statistics anomaly detection compares, computed on Spark in two jobs.

Job A is folded into the validation's counting aggregation (:func:`aggregates`): per column the
null count; for numeric columns min, max and mean; for numeric columns with a drift threshold the
deciles (the bins the next batch is compared on) and this batch's counts on the previous batch's
bins. Job B (:func:`value_counts`, only when some column needs it) is one group-by over
(column, value) pairs: value frequencies of categorical columns and this batch's counts on its own
bins. Both read the persisted flagged batch, not the source.

A profile is stored as JSON with the batch's anomaly report, so the next batch compares to it
without reading the previous batch again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from lake.contracts.model import Contract, is_numeric

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

DECILES = [i / 10 for i in range(1, 10)]
MAX_VALUES = 200  # most frequent values kept per categorical column


@dataclass
class ColumnProfile:
    name: str
    type: str
    nulls: int = 0
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    cuts: list[float] = field(default_factory=list)  # bin edges: deciles, deduplicated
    hist: list[int] = field(default_factory=list)  # counts on ``cuts`` (len(cuts) + 1 bins)
    hist_on_previous: list[int] = field(default_factory=list)  # counts on the previous cuts
    values: dict[str, int] = field(default_factory=dict)  # categorical: value -> count


@dataclass
class Profile:
    rows: int
    columns: dict[str, ColumnProfile]

    def to_json(self) -> str:
        return json.dumps({"rows": self.rows,
                           "columns": {k: asdict(v) for k, v in self.columns.items()}},
                          sort_keys=True, default=float)

    @classmethod
    def from_json(cls, text: str) -> Profile:
        data = json.loads(text)
        return cls(data["rows"], {k: ColumnProfile(**v) for k, v in data["columns"].items()})


def profiled_columns(contract: Contract, environment: str, df_columns: Sequence[str]):
    """The contract columns present in the environment and in the batch."""
    return [c for c in contract.columns if c.in_environment(environment) and c.name in df_columns]


def _wants_values(col) -> bool:
    return col.categorical and (col.accepted_values is not None or col.drift is not None)


def _wants_bins(col) -> bool:
    return is_numeric(col.type) and col.drift is not None


def bin_index(column: Column, cuts: Sequence[float]) -> Column:
    """0 for values below the first cut, i for values in [cut i-1, cut i), len(cuts) above."""
    from pyspark.sql import functions as F

    index = F.lit(0)
    for cut in cuts:
        index = index + F.when(column >= F.lit(cut), 1).otherwise(0)
    return index


def aggregates(contract: Contract, environment: str, df_columns: Sequence[str],
               previous: Profile | None) -> list[Column]:
    """Job A's aggregate columns (aliased ``p<i>_<stat>``), to fold into one aggregation."""
    from pyspark.sql import functions as F

    out = []
    for i, col in enumerate(profiled_columns(contract, environment, df_columns)):
        c = F.col(col.name)
        out.append(F.sum(F.when(c.isNull(), 1).otherwise(0)).alias(f"p{i}_nulls"))
        if is_numeric(col.type):
            d = c.cast("double")
            out += [F.min(d).alias(f"p{i}_min"), F.max(d).alias(f"p{i}_max"),
                    F.avg(d).alias(f"p{i}_mean")]
        if _wants_bins(col):
            out.append(F.percentile_approx(c.cast("double"), DECILES, 1000).alias(f"p{i}_cuts"))
            before = previous.columns.get(col.name) if previous else None
            if before is not None and before.cuts:
                index = bin_index(c.cast("double"), before.cuts)
                out.append(F.array(*[
                    F.sum(F.when(c.isNotNull() & (index == j), 1).otherwise(0))
                    for j in range(len(before.cuts) + 1)]).alias(f"p{i}_prevbins"))
    return out


def from_aggregates(contract: Contract, environment: str, df_columns: Sequence[str], rows: int,
                    stats: dict[str, Any]) -> Profile:
    """The profile as far as job A computed it."""
    columns = {}
    for i, col in enumerate(profiled_columns(contract, environment, df_columns)):
        p = ColumnProfile(col.name, col.type, nulls=int(stats.get(f"p{i}_nulls") or 0))
        if is_numeric(col.type):
            p.min, p.max, p.mean = (stats.get(f"p{i}_{s}") for s in ("min", "max", "mean"))
        if stats.get(f"p{i}_cuts"):
            p.cuts = sorted({float(v) for v in stats[f"p{i}_cuts"]})
        if stats.get(f"p{i}_prevbins") is not None:
            p.hist_on_previous = [int(v) for v in stats[f"p{i}_prevbins"]]
        columns[col.name] = p
    return Profile(rows, columns)


def value_counts(flagged: DataFrame, contract: Contract, profile: Profile) -> None:
    """Job B: fill ``values`` of categorical columns and ``hist`` of binned numeric columns."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    items = []
    for name, p in profile.columns.items():
        col = contract.column(name)
        if _wants_values(col):
            items.append(F.struct(F.lit(name).alias("c"), F.col(name).cast("string").alias("k")))
        elif p.cuts:
            p.hist = [0] * (len(p.cuts) + 1)
            key = F.when(F.col(name).isNotNull(),
                         bin_index(F.col(name).cast("double"), p.cuts).cast("string"))
            items.append(F.struct(F.lit(name).alias("c"), key.alias("k")))
    if not items:
        return
    pairs = flagged.select(F.explode(F.array(*items)).alias("p")).select("p.c", "p.k")
    counts = pairs.where(F.col("k").isNotNull()).groupBy("c", "k").count()
    rank = F.row_number().over(Window.partitionBy("c").orderBy(F.desc("count"), "k"))
    for row in counts.withColumn("_rank", rank).where(F.col("_rank") <= MAX_VALUES).collect():
        p = profile.columns[row["c"]]
        if p.cuts and not _wants_values(contract.column(row["c"])):
            p.hist[int(row["k"])] = row["count"]
        else:
            p.values[row["k"]] = row["count"]
