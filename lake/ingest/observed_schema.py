"""What a landed batch actually holds: its columns and the type each column's values have.

Parquet files carry their types; CSV and NDJSON carry text, so a column's type is inferred: the
first of :data:`CANDIDATE_TYPES` that at least :data:`TYPE_CONSENSUS` of its non-null values
fit. The few values that fit no type are row-level dirt (the ``type:`` rules quarantine those
rows); a column whose values mostly stopped fitting its contract type has changed type.

**Sampled, then checked on every record.** As Auto Loader infers a schema from a sample, the types
are inferred from the batch's first :data:`SAMPLE_ROWS` records (:func:`head`: from the start
of the files' splits). Every record is still typed by the contract
and every value that does not fit is still kept in ``_rescued_data``: nothing depends on the
sample but the report of what changed. The bronze write then checks the sample's verdict on every
record, for free, in the same pass (:class:`BatchCheck`: Spark observed metrics): how many values
of each contract column did not fit, and (for records whose fields vary, JSON) whether a record
has a field the sample did not show. When more than ``1 - TYPE_CONSENSUS`` of a column's values
did not fit although the sample found no type change, or a field or column shows up that the
sample did not see, the batch is observed again on every record (:func:`observe_every_record`)
and that observation is what bronze reports and acts on (a change it adds that the policy takes
rewrites the batch under the new contract version). A change the sample shows is taken as the
batch's, as Auto Loader takes its sample's schema. The values counted per column (``non_null``)
are the observation's: the sample's, or every record's after a second look.

A type check raises no exception: text is matched against a pattern before it is cast
(:data:`lake.ingest.records.PATTERNS`; Spark's ``try_cast`` of a word to a number raises and
catches one inside the JVM per value).

Cost: Parquet, none (the footer); text formats, one small Spark job on the sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, Observation
    from pyspark.sql.types import DataType, StructType

    from lake.contracts.evolution import ColumnChange
    from lake.contracts.model import Contract

from lake.contracts.evolution import ObservedColumn
from lake.ingest.formats.raw import CORRUPT, RAW

CANDIDATE_TYPES = ("int", "bigint", "double", "boolean", "date", "timestamp")
NESTED_KINDS = ("struct", "array")  # JSON text of an object or an array
TYPE_CONSENSUS = 0.95
SAMPLE_ROWS = 10_000
_DATE = r"^\s*\d{4}-\d{1,2}-\d{1,2}\s*$"
_TYPE_CHANGES = ("widened", "narrowed", "incompatible")


def spark_type_name(data_type: DataType) -> str:
    """A Spark type as a contract type name (``float`` for single precision, which contracts
    do not declare but a source can send)."""
    from pyspark.sql import types as T

    names = {T.StringType: "string", T.IntegerType: "int", T.ShortType: "int", T.ByteType: "int",
             T.LongType: "bigint", T.DoubleType: "double", T.FloatType: "float",
             T.BooleanType: "boolean", T.DateType: "date", T.TimestampType: "timestamp",
             T.TimestampNTZType: "timestamp"}
    for cls, name in names.items():
        if isinstance(data_type, cls):
            return name
    if isinstance(data_type, T.DecimalType):
        return f"decimal({data_type.precision},{data_type.scale})"
    return data_type.simpleString()


def from_schema(schema: StructType) -> tuple[ObservedColumn, ...]:
    """The columns of a typed file (Parquet)."""
    return tuple(ObservedColumn(f.name, spark_type_name(f.dataType)) for f in schema.fields)


def head(df: DataFrame) -> DataFrame:
    """The first :data:`SAMPLE_ROWS` rows of ``df``: Spark reads at most that many from the start
    of each file split and keeps the first ones in split order (on a local master, the same rows
    every run). Nothing goes through Python: a local DataFrame made from collected rows would
    start Python workers, seconds on a busy machine."""
    return df.limit(SAMPLE_ROWS)


def infer_text_columns(raw: DataFrame, sample: bool = True) -> tuple[ObservedColumn, ...]:
    """Columns of ``_raw`` map rows (a raw reader's, :mod:`lake.ingest.formats`) and their
    inferred types, sorted by name, from the first :data:`SAMPLE_ROWS` records or
    (``sample=False``) every record; one Spark job."""
    from pyspark.sql import functions as F

    records = head(raw.select(RAW)) if sample else raw.select(RAW)
    pairs = records.select(F.explode(RAW).alias("name", "value"))
    stats = pairs.groupBy("name").agg(F.count("value").alias("non_null"),
                                      *fit_aggregates(F.col("value")))
    out = []
    for row in sorted(stats.collect(), key=lambda r: r["name"]):
        if row["name"] == CORRUPT:
            continue
        out.append(ObservedColumn(row["name"], consensus_type(row.asDict()), row["non_null"]))
    return tuple(out)


def infer_field_columns(df: DataFrame, fields: dict[str, str], sample: bool = True
                        ) -> tuple[ObservedColumn, ...]:
    """Columns of raw rows with one text column per field (``fields``: name -> column, in the
    file's order) and their inferred types, from the first :data:`SAMPLE_ROWS` records or
    (``sample=False``) every record; one Spark job. Only the sampled records are turned into
    (name, value) pairs: one narrow aggregation per name compiles and runs faster than a wide
    one of every column's fits."""
    from pyspark.sql import functions as F

    records = df.select(*[F.col(f"`{c}`") for c in fields.values()])
    records = head(records) if sample else records
    pairs = records.select(F.explode(F.create_map(*[
        x for name, col in fields.items() for x in (F.lit(name), F.col(f"`{col}`"))]))
        .alias("name", "value"))
    stats = {r["name"]: r.asDict() for r in pairs.groupBy("name").agg(
        F.count("value").alias("non_null"), *fit_aggregates(F.col("value"))).collect()}
    # a header column with no value at all is still a column of the file
    return tuple(ObservedColumn(name, consensus_type(stats[name]), stats[name]["non_null"])
                 if name in stats else ObservedColumn(name, "string", 0) for name in fields)


def observe_every_record(raw: DataFrame) -> tuple[ObservedColumn, ...]:
    """The columns of raw rows of either shape, observed on every record (not a sample)."""
    from lake.ingest.formats.raw import fields_of

    fields = fields_of(raw.columns)
    if fields is None:
        return infer_text_columns(raw, sample=False)
    return infer_field_columns(raw, fields, sample=False)


def fits(value: Column, type_: str) -> Column:
    """``value`` as ``type_`` where it fits (NULL elsewhere), without exceptions."""
    from pyspark.sql import functions as F

    from lake.ingest.records import PATTERNS

    if type_ == "date":  # Spark casts "2026-01-01T10:00" to a date; a date is a date only
        return F.when(value.rlike(_DATE), value.try_cast("date"))
    if type_ in PATTERNS:
        return F.when(value.rlike(PATTERNS[type_]), value.try_cast(type_))
    return value.try_cast(type_)


def fit_aggregates(value: Column) -> list[Column]:
    """``fit_<type>``: how many of the text ``value``s cast to each candidate type, and how many
    are JSON objects (``fit_struct``) or arrays (``fit_array``)."""
    from pyspark.sql import functions as F

    nested = [F.count(F.when(value.startswith("{"), 1)).alias("fit_struct"),
              F.count(F.when(value.startswith("["), 1)).alias("fit_array")]
    return [F.count(fits(value, t)).alias(f"fit_{t}") for t in CANDIDATE_TYPES] + nested


def consensus_type(stats: dict) -> str:
    """The first candidate type (in preference order) that enough values fit, else ``string``."""
    non_null = stats["non_null"] or 0
    if non_null == 0:
        return "string"
    for type_ in (*CANDIDATE_TYPES, *NESTED_KINDS):
        if (stats.get(f"fit_{type_}") or 0) >= TYPE_CONSENSUS * non_null:
            return type_
    return "string"


@dataclass
class BatchCheck:
    """The sample's verdict checked on every record while bronze writes them (see the module
    doc): metrics Spark computes in the write's own pass (``observation``)."""

    seen: frozenset[str]
    observation: Observation = field(default=None)  # type: ignore[assignment]
    _names: list[str] = field(default_factory=list, init=False)
    _flagged: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        from pyspark.sql import Observation

        if self.observation is None:
            self.observation = Observation("bronze_batch_check")

    def flag_columns(self, text: dict[str, Column], misfit: dict[str, Column],
                     unseen: Column | None) -> list[tuple[str, Column]]:
        """Per-record flags (name, column) the metrics count, written by no one: for each column
        that can misfit (not a string) or that the sample did not show, whether it has a value
        and whether that value misfit."""
        self._names = [n for n in text if n in misfit or n not in self.seen]
        flags = []
        for i, name in enumerate(self._names):
            flags.append((f"_check:{i}:present", text[name].isNotNull()))
            if name in misfit:
                flags.append((f"_check:{i}:misfit", misfit[name]))
        if unseen is not None:
            flags.append(("_check:unseen", unseen))
        self._flagged = bool(flags)
        return [(n, c.alias(n)) for n, c in flags]

    def metrics(self, flags: list[tuple[str, Column]]) -> list[Column]:
        from pyspark.sql import functions as F

        return [F.count_if(F.col(f"`{n}`")).alias(n) for n, _ in flags]

    def holds(self, observed: tuple[ObservedColumn, ...], found: tuple[ColumnChange, ...],
              contract: Contract) -> bool:
        """Whether every record agrees with the sample's verdict; call after the write ran."""
        if not self._flagged:
            return True
        metrics = self.observation.get
        counts = {name: metrics[f"_check:{i}:present"] for i, name in enumerate(self._names)}
        misfits = {name: metrics.get(f"_check:{i}:misfit", 0)
                   for i, name in enumerate(self._names)}
        changed = {c.column for c in found if c.kind in _TYPE_CHANGES}
        sampled = {c.name for c in observed}
        types = {c.name: c.type for c in contract.columns}
        for name, present in counts.items():
            if name not in sampled and present:
                return False  # a contract column the sample did not show
            if name not in changed and types[name] != "string" and \
                    misfits[name] > (1 - TYPE_CONSENSUS) * present:
                return False  # the contract type stopped fitting past the sample
        return not metrics.get("_check:unseen", 0)
