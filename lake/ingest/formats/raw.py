"""What every raw reader returns: one row per landed record, nothing dropped.

Columns: the record's fields as text, ``_corrupt_record`` (the record's raw text when it could not
be parsed at all, else NULL) and ``_source_file``. The fields come in one of two shapes:

* ``_raw``, a map of field name -> the field's text (nested values as JSON text), for records
  whose fields vary (JSON, typed files);
* one text column per field, named ``_raw:<field>`` (:func:`field_column`), for records whose
  fields a header names once for the file (CSV): no map is built and taken apart per record.

:mod:`lake.ingest.records` types either by the contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
    from pyspark.sql.types import StructType

RAW = "_raw"
CORRUPT = "_corrupt_record"
SOURCE_FILE = "_source_file"
FIELD_PREFIX = "_raw:"


def field_column(name: str) -> str:
    """The text column of field ``name`` in raw rows of the column shape."""
    return FIELD_PREFIX + name


def fields_of(columns: list[str]) -> dict[str, str] | None:
    """Field name -> text column of raw rows of the column shape; None for ``_raw`` map rows."""
    if RAW in columns:
        return None
    return {c[len(FIELD_PREFIX):]: c for c in columns if c.startswith(FIELD_PREFIX)}


def as_map(schema: StructType) -> Column:
    """A typed row's columns as ``_raw`` text: scalars cast, nested values as JSON."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    pairs = []
    for field in schema.fields:
        col = F.col(f"`{field.name}`")
        nested = isinstance(field.dataType, (T.StructType, T.ArrayType, T.MapType))
        pairs += [F.lit(field.name), F.to_json(col) if nested else col.cast("string")]
    return F.create_map(*pairs).alias(RAW)


def typed_rows(df: DataFrame) -> DataFrame:
    """Rows of a typed file (Parquet, Avro) as raw records: no record is ever corrupt."""
    from pyspark.sql import functions as F

    return df.select(as_map(df.schema), F.lit(None).cast("string").alias(CORRUPT),
                     F.col("_metadata.file_path").alias(SOURCE_FILE))


def as_map_rows(df: DataFrame) -> DataFrame:
    """Raw rows of either shape as ``_raw`` map rows (every field by name in one map)."""
    from pyspark.sql import functions as F

    fields = fields_of(df.columns)
    if fields is None:
        return df
    pairs = [x for name, col in fields.items() for x in (F.lit(name), F.col(f"`{col}`"))]
    return df.select(F.create_map(*pairs).alias(RAW),
                     *[F.col(f"`{c}`") for c in df.columns if not c.startswith(FIELD_PREFIX)])
