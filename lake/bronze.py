"""Bronze: landed records as Delta rows, typed by the contract, with nothing dropped.

Reading turns every landed record into a map of field name -> raw text (plus the whole record when it
cannot be parsed at all). :func:`to_bronze` then types the contract's columns with ``try_cast`` and
keeps, in ``_rescued_data`` (JSON), every value that did not fit: a field of the wrong type, a field
the contract does not know, or the raw text of an unparsable record. One pass, no Python per row.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from lake.contract import Contract
from lake.errors import IngestError
from lake.landed_schema import ObservedColumn, from_schema, infer_text_columns

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

RAW = "_raw"
CORRUPT = "_corrupt_record"
METADATA_COLUMNS = ("_rescued_data", "_source_file", "_ingested_at", "_batch_id", "_record_id")


def bronze_ddl(contract: Contract) -> str:
    """The bronze table's schema as DDL: contract columns then load metadata.

    ``_record_id`` identifies a landed record for good (silver and quarantine keep it), so a
    quarantined record can be replayed into silver exactly once.
    """
    cols = [f"`{c.name}` {c.type}" for c in contract.columns]
    cols += ["_rescued_data STRING", "_source_file STRING", "_ingested_at TIMESTAMP",
             "_batch_id STRING", "_record_id STRING"]
    return ", ".join(cols)


def read_raw(spark: SparkSession, contract: Contract, path: str
             ) -> tuple[DataFrame, tuple[ObservedColumn, ...]]:
    """Read landed files at ``path`` into (``_raw`` map<string,string>, ``_corrupt_record``,
    ``_source_file``) rows, with the columns the files hold (see :mod:`lake.landed_schema`).

    Fails with :class:`IngestError` naming the path if nothing is there.
    """
    from pyspark.errors import AnalysisException

    try:
        return _read_raw(spark, contract, path)
    except AnalysisException as err:
        raise IngestError(f"cannot read {contract.format} files at {path}: {err}") from err


def _read_raw(spark: SparkSession, contract: Contract, path: str
              ) -> tuple[DataFrame, tuple[ObservedColumn, ...]]:
    from pyspark.sql import functions as F

    if contract.format == "ndjson":
        lines = spark.read.text(path).where(F.trim("value") != "")
        parsed = lines.select(
            F.from_json("value", "map<string,string>").alias(RAW),
            F.col("value"),
            F.col("_metadata.file_path").alias("_source_file"),
        )
        raw = parsed.select(
            RAW, F.when(F.col(RAW).isNull(), F.col("value")).alias(CORRUPT), "_source_file"
        )
        return raw, infer_text_columns(raw)
    if contract.format == "csv":
        header = spark.read.option("header", True).csv(path).columns
        schema = ", ".join(f"`{c}` STRING" for c in header) + f", {CORRUPT} STRING"
        df = (
            spark.read.option("header", True).option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", CORRUPT).schema(schema).csv(path)
        )
        raw = df.select(
            _as_map(header), F.col(CORRUPT), F.col("_metadata.file_path").alias("_source_file")
        )
        inferred = {c.name: c for c in infer_text_columns(raw)}
        # a header column with no value at all is still a column of the file
        return raw, tuple(inferred.get(c, ObservedColumn(c, "string", 0)) for c in header)
    df = spark.read.parquet(path)
    raw = df.select(
        _as_map(df.columns), F.lit(None).cast("string").alias(CORRUPT),
        F.col("_metadata.file_path").alias("_source_file"),
    )
    return raw, from_schema(df.schema)


def _as_map(columns: list[str]) -> Column:
    from pyspark.sql import functions as F

    pairs = []
    for name in columns:
        pairs += [F.lit(name), F.col(f"`{name}`").cast("string")]
    return F.create_map(*pairs).alias(RAW)


def to_bronze(contract: Contract, batch_id: str, ingested_at: datetime):
    """A transform from :func:`read_raw` rows to bronze rows (use with ``df.transform``)."""
    from pyspark.sql import functions as F

    def transform(df: DataFrame) -> DataFrame:
        return df.select(
            *typed_columns(contract),
            F.col("_source_file"),
            F.lit(ingested_at).cast("timestamp").alias("_ingested_at"),
            F.lit(batch_id).alias("_batch_id"),
            F.expr("uuid()").alias("_record_id"),
        )

    return transform


def typed_columns(contract: Contract) -> list[Column]:
    """The contract's columns typed from ``_raw`` (with ``try_cast``) and ``_rescued_data``: JSON
    of every value that did not fit, every field the contract does not know, and the raw text of
    an unparsable record (``_corrupt_record``)."""
    from pyspark.sql import functions as F

    known = list(contract.column_names)
    typed = {c.name: F.col(RAW)[c.name].try_cast(c.type) for c in contract.columns}
    misfits = F.map_filter(
        F.create_map(*[
            x for c in known
            for x in (F.lit(c), F.when(typed[c].isNull(), F.col(RAW)[c]))
        ]),
        lambda _k, v: v.isNotNull(),
    )
    unknown = F.map_filter(F.col(RAW), lambda k, v: ~F.array_contains(F.lit(known), k) & v.isNotNull())
    corrupt = F.map_filter(
        F.create_map(F.lit(CORRUPT), F.col(CORRUPT)), lambda _k, v: v.isNotNull()
    )
    rescued = F.map_concat(
        F.coalesce(misfits, F.create_map().cast("map<string,string>")),
        F.coalesce(unknown, F.create_map().cast("map<string,string>")),
        corrupt,
    )
    return [*[typed[c].alias(c) for c in known],
            F.when(F.size(rescued) > 0, F.to_json(rescued)).alias("_rescued_data")]


def raw_of(columns: list[str]) -> list[Column]:
    """The inverse of :func:`typed_columns` for stored bronze rows: ``_raw`` (each column's value
    as text, the rescued text where the value did not fit, unknown fields) and
    ``_corrupt_record``, so a row can be re-typed under another contract version."""
    from pyspark.sql import functions as F

    rescued = F.coalesce(F.from_json("_rescued_data", "map<string,string>"),
                         F.create_map().cast("map<string,string>"))
    stored = F.map_filter(
        F.create_map(*[x for c in columns for x in (F.lit(c), F.col(f"`{c}`").cast("string"))]),
        lambda _k, v: v.isNotNull())
    fields = F.map_filter(rescued, lambda k, _v: k != F.lit(CORRUPT))
    # rescued text wins over the (null) typed value of the same column
    merged = F.map_concat(F.map_filter(stored, lambda k, _v: ~F.array_contains(F.map_keys(fields), k)),
                          fields)
    return [merged.alias(RAW), rescued[F.lit(CORRUPT)].alias(CORRUPT)]
