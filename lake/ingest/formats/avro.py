"""Avro: typed records (Spark's Avro reader, ``spark-avro`` in ``infra/jvm/pom.xml``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lake.contracts.evolution import ObservedColumn
    from lake.contracts.model import Contract

EXTENSIONS = (".avro",)
TYPED = True


class Options(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def read_raw(spark: SparkSession, paths: list[str], options: Options, contract: Contract
             ) -> tuple[DataFrame, tuple[ObservedColumn, ...]]:
    from lake.ingest.formats.raw import typed_rows
    from lake.ingest.observed_schema import from_schema

    df = spark.read.format("avro").load(paths)
    return typed_rows(df), from_schema(df.schema)


def type_formats(options: Options) -> dict[str, str]:
    return {}
