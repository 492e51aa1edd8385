"""Landed records as bronze rows, typed by the contract, with nothing dropped.

A raw reader (:mod:`lake.ingest.formats`) turns every landed record into a map of field name ->
raw text (plus the whole record when it cannot be parsed at all). :func:`to_bronze` then types
the contract's columns (``try_cast``; the dataset's date and timestamp patterns; ``from_json`` for
nested types) and keeps, in ``_rescued_data`` (JSON), every value that did not fit: a field of
the wrong type, a field
the contract does not know, or the raw text of an unparsable record. One pass, no Python per row.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from lake.contracts.model import Contract, is_nested
from lake.ingest.formats.raw import CORRUPT, RAW

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

METADATA_COLUMNS = ("_rescued_data", "_source_file", "_ingested_at", "_batch_id", "_record_id")


def to_bronze(contract: Contract, batch_id: str, ingested_at: datetime,
              formats: dict[str, str] | None = None):
    """A transform from raw rows to bronze rows (use with ``df.transform``); ``formats``: the
    datetime pattern of each type, as the dataset declares them (``{"date": "dd.MM.yyyy"}``)."""
    from pyspark.sql import functions as F

    def transform(df: DataFrame) -> DataFrame:
        return df.select(
            *typed_columns(contract, formats or {}),
            F.col("_source_file"),
            F.lit(ingested_at).cast("timestamp").alias("_ingested_at"),
            F.lit(batch_id).alias("_batch_id"),
            F.expr("uuid()").alias("_record_id"),
        )

    return transform


def typed_value(raw: Column, type_: str, formats: dict[str, str]) -> Column:
    """``raw`` text as ``type_``, NULL where it does not fit (no exception per value)."""
    from pyspark.sql import functions as F

    if is_nested(type_):  # JSON text of the right shape: an object, or a list for an array
        opening = "[" if type_.startswith("array<") else "{"
        return F.when(F.ltrim(raw).startswith(opening), F.from_json(raw, type_))
    if type_ in ("date", "timestamp") and type_ in formats:
        parsed = F.try_to_timestamp(raw, F.lit(formats[type_]))
        return F.to_date(parsed) if type_ == "date" else parsed
    return raw.try_cast(type_)


def typed_columns(contract: Contract, formats: dict[str, str] | None = None) -> list[Column]:
    """The contract's columns typed from ``_raw`` and ``_rescued_data``: JSON of every value that
    did not fit, every field the contract does not know, and the raw text of an unparsable record
    (``_corrupt_record``)."""
    from pyspark.sql import functions as F

    known = list(contract.column_names)
    typed = {c.name: typed_value(F.col(RAW)[c.name], c.type, formats or {})
             for c in contract.columns}
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


def raw_of(columns: dict[str, str]) -> list[Column]:
    """The inverse of :func:`typed_columns` for stored bronze rows (``columns``: name -> type):
    ``_raw`` (each column's value as text, nested values as JSON, the rescued text where the
    value did not fit, unknown fields) and ``_corrupt_record``, so a row can be re-typed under
    another contract version."""
    from pyspark.sql import functions as F

    def text(name: str, type_: str) -> Column:
        col = F.col(f"`{name}`")
        return F.to_json(col) if is_nested(type_) else col.cast("string")

    rescued = F.coalesce(F.from_json("_rescued_data", "map<string,string>"),
                         F.create_map().cast("map<string,string>"))
    stored = F.map_filter(
        F.create_map(*[x for c, t in columns.items() for x in (F.lit(c), text(c, t))]),
        lambda _k, v: v.isNotNull())
    fields = F.map_filter(rescued, lambda k, _v: k != F.lit(CORRUPT))
    # rescued text wins over the (null) typed value of the same column
    merged = F.map_concat(F.map_filter(stored, lambda k, _v: ~F.array_contains(F.map_keys(fields), k)),
                          fields)
    return [merged.alias(RAW), rescued[F.lit(CORRUPT)].alias(CORRUPT)]
