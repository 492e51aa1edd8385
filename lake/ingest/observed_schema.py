"""What a landed batch actually holds: its columns and the type each column's values have.

Parquet files carry their types; CSV and NDJSON carry text, so a column's type is inferred: the
first of :data:`CANDIDATE_TYPES` that at least :data:`TYPE_CONSENSUS` of its non-null values
cast to. The few values that fit no type are row-level dirt (the ``type:`` rules quarantine those
rows); a column whose values mostly stopped fitting its contract type has changed type.

Cost: Parquet, none (the footer); text formats, one aggregation over the landed records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
    from pyspark.sql.types import DataType, StructType

from lake.contracts.evolution import ObservedColumn
from lake.ingest.formats.raw import CORRUPT, RAW

CANDIDATE_TYPES = ("int", "bigint", "double", "boolean", "date", "timestamp")
NESTED_KINDS = ("struct", "array")  # JSON text of an object or an array
TYPE_CONSENSUS = 0.95


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


def infer_text_columns(raw: DataFrame) -> tuple[ObservedColumn, ...]:
    """Columns of text records (``_raw`` map rows from a raw reader, :mod:`lake.ingest.formats`) and their
    inferred types, in first-seen order of names sorted; one Spark job."""
    from pyspark.sql import functions as F

    pairs = raw.select(F.explode(RAW).alias("name", "value"))
    stats = pairs.groupBy("name").agg(F.count("value").alias("non_null"),
                                      *fit_aggregates(F.col("value")))
    out = []
    for row in sorted(stats.collect(), key=lambda r: r["name"]):
        if row["name"] == CORRUPT:
            continue
        out.append(ObservedColumn(row["name"], consensus_type(row.asDict()), row["non_null"]))
    return tuple(out)


def fit_aggregates(value: Column) -> list[Column]:
    """``fit_<type>``: how many of the text ``value``s cast to each candidate type, and how many
    are JSON objects (``fit_struct``) or arrays (``fit_array``)."""
    from pyspark.sql import functions as F

    def fits(type_: str) -> Column:
        if type_ == "date":  # Spark casts "2026-01-01T10:00" to a date; a date is a date only
            return F.when(value.rlike(r"^\s*\d{4}-\d{1,2}-\d{1,2}\s*$"), value.try_cast("date"))
        return value.try_cast(type_)

    nested = [F.count(F.when(value.startswith("{"), 1)).alias("fit_struct"),
              F.count(F.when(value.startswith("["), 1)).alias("fit_array")]
    return [F.count(fits(t)).alias(f"fit_{t}") for t in CANDIDATE_TYPES] + nested


def consensus_type(stats: dict) -> str:
    """The first candidate type (in preference order) that enough values fit, else ``string``."""
    non_null = stats["non_null"] or 0
    if non_null == 0:
        return "string"
    for type_ in (*CANDIDATE_TYPES, *NESTED_KINDS):
        if (stats.get(f"fit_{type_}") or 0) >= TYPE_CONSENSUS * non_null:
            return type_
    return "string"
