"""JSON documents: each file holds one record (an object) or many (an array of objects), laid
out over any number of lines. An element that is not an object, or a file that is not JSON, is
kept whole in ``_corrupt_record``. Files are read whole, so each must fit in memory (use NDJSON
for large feeds)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from lake.ingest.formats.raw import CORRUPT, RAW, SOURCE_FILE

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lake.contracts.evolution import ObservedColumn
    from lake.contracts.model import Contract

EXTENSIONS = (".json", ".json.gz")
TYPED = False


class Options(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    encoding: str = "utf-8"


def read_raw(spark: SparkSession, paths: list[str], options: Options, contract: Contract
             ) -> tuple[DataFrame, tuple[ObservedColumn, ...]]:
    from pyspark.sql import functions as F

    from lake.ingest.observed_schema import infer_text_columns

    files = spark.read.text(paths, wholetext=True).select(
        F.trim("value").alias("value"), F.col("_metadata.file_path").alias(SOURCE_FILE))
    # an array of records: one element per record (each element's own text, parsed below)
    elements = F.from_json("value", "array<string>")
    as_array = files.where(F.col("value").startswith("[")).select(
        F.explode_outer(F.coalesce(elements, F.array(F.col("value")))).alias("value"),
        SOURCE_FILE)
    single = files.where(~F.col("value").startswith("["))
    records = as_array.unionByName(single).where(F.col("value").isNotNull())
    parsed = records.select(F.from_json("value", "map<string,string>").alias(RAW), "value",
                            SOURCE_FILE)
    raw = parsed.select(RAW, F.when(F.col(RAW).isNull(), F.col("value")).alias(CORRUPT),
                        SOURCE_FILE)
    return raw, infer_text_columns(raw)


def type_formats(options: Options) -> dict[str, str]:
    return {}
