"""Parquet: typed columns, read as they are (the types are the observed schema)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lake.contracts.evolution import ObservedColumn
    from lake.contracts.model import Contract

EXTENSIONS = (".parquet", ".pq")
TYPED = True


class Options(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    merge_schema: bool = False


def read_raw(spark: SparkSession, paths: list[str], options: Options, contract: Contract
             ) -> tuple[DataFrame, tuple[ObservedColumn, ...]]:
    from lake.ingest.formats.raw import typed_rows
    from lake.ingest.observed_schema import from_schema

    df = spark.read.option("mergeSchema", options.merge_schema).parquet(*paths)
    return typed_rows(df), from_schema(df.schema)


def type_formats(options: Options) -> dict[str, str]:
    return {}
