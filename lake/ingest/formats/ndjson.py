"""JSON Lines: one JSON object per line. Nested objects and arrays stay JSON text in ``_raw``
until the contract types them (``struct<…>``, ``array<…>``); a line that is not a JSON object is
kept whole in ``_corrupt_record``; blank lines are skipped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from lake.ingest.formats.raw import CORRUPT, RAW, SOURCE_FILE

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lake.contracts.evolution import ObservedColumn
    from lake.contracts.model import Contract

EXTENSIONS = (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")
TYPED = False


class Options(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    encoding: str = "utf-8"


def read_raw(spark: SparkSession, paths: list[str], options: Options, contract: Contract
             ) -> tuple[DataFrame, tuple[ObservedColumn, ...]]:
    from pyspark.sql import functions as F

    from lake.ingest.observed_schema import infer_text_columns

    lines = spark.read.text(paths).where(F.trim("value") != "")
    parsed = lines.select(F.from_json("value", "map<string,string>").alias(RAW), F.col("value"),
                          F.col("_metadata.file_path").alias(SOURCE_FILE))
    raw = parsed.select(RAW, F.when(F.col(RAW).isNull(), F.col("value")).alias(CORRUPT),
                        SOURCE_FILE)
    return raw, infer_text_columns(raw)


def type_formats(options: Options) -> dict[str, str]:
    return {}
