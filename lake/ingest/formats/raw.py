"""What every raw reader returns: one row per landed record, nothing dropped.

Columns: ``_raw`` (map of field name -> the field's text; nested values as JSON text),
``_corrupt_record`` (the record's raw text when it could not be parsed at all, else NULL) and
``_source_file``. :mod:`lake.ingest.records` types them by the contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
    from pyspark.sql.types import StructType

RAW = "_raw"
CORRUPT = "_corrupt_record"
SOURCE_FILE = "_source_file"


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
