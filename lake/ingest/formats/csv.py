"""CSV and other delimited text.

Options (``csv:`` under a dataset)::

    csv: {delimiter: ";", quote: '"', escape: "\\", header: true, encoding: utf-8,
          multi_line: true, null_value: "", comment: "#",
          date_format: dd.MM.yyyy, timestamp_format: "dd.MM.yyyy HH:mm"}

Every field is read as text (a UTF-8 byte-order mark is dropped), one text column per header field
(:func:`lake.ingest.formats.raw.field_column`: no per-record map); a line Spark cannot split is kept
whole in ``_corrupt_record``. Without a header, columns take the contract's names in order.
``date_format``/``timestamp_format`` (Spark datetime patterns) are used when the values are typed.
"""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lake.ingest.formats.raw import CORRUPT, SOURCE_FILE, field_column

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lake.contracts.evolution import ObservedColumn
    from lake.contracts.model import Contract

EXTENSIONS = (".csv", ".tsv", ".csv.gz")
TYPED = False


class Options(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    delimiter: str = Field(default=",", min_length=1, max_length=4)
    quote: str = Field(default='"', max_length=1)
    escape: str = Field(default="\\", max_length=1)
    header: bool = True
    encoding: str = "utf-8"
    multi_line: bool = False
    null_value: str | None = None
    comment: str | None = Field(default=None, max_length=1)
    date_format: str | None = None
    timestamp_format: str | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError as err:
            raise ValueError(f"unknown encoding {value!r}; e.g. utf-8, utf-16, iso-8859-1, "
                             "windows-1252") from err
        return value

    @property
    def spark_encoding(self) -> str:
        """The Java name of the encoding (Spark drops a UTF-8 byte-order mark itself)."""
        name = codecs.lookup(self.encoding).name
        if name in ("utf-8", "utf-8-sig"):
            return "UTF-8"
        if name.startswith("iso8859-"):
            return "ISO-8859-" + name.split("-", 1)[1]
        if name.startswith("cp") and name[2:].isdigit():
            return "windows-" + name[2:]
        return {"ascii": "US-ASCII", "utf-16-le": "UTF-16LE",
                "utf-16-be": "UTF-16BE"}.get(name, name.upper())


def read_raw(spark: SparkSession, paths: list[str], options: Options, contract: Contract
             ) -> tuple[DataFrame, tuple[ObservedColumn, ...]]:
    from pyspark.sql import functions as F

    from lake.ingest.observed_schema import infer_field_columns

    reader = (spark.read.option("sep", options.delimiter).option("quote", options.quote)
              .option("escape", options.escape).option("encoding", options.spark_encoding)
              .option("multiLine", options.multi_line).option("mode", "PERMISSIVE")
              .option("columnNameOfCorruptRecord", CORRUPT))
    if options.null_value is not None:
        reader = reader.option("nullValue", options.null_value)
    if options.comment is not None:
        reader = reader.option("comment", options.comment)
    if options.header:
        header = reader.option("header", True).csv(paths).columns
    elif contract.columns:
        header = list(contract.column_names)
    else:  # no header, no contract yet (inference): column_1, column_2, ...
        width = len(reader.option("header", False).csv(paths).columns)
        header = [f"column_{i + 1}" for i in range(width)]
    fields = {c: field_column(c) for c in header}
    schema = ", ".join(f"`{field_column(c)}` STRING" for c in header) + f", {CORRUPT} STRING"
    df = reader.option("header", options.header).schema(schema).csv(paths)
    raw = df.select(*[F.col(f"`{c}`") for c in fields.values()], F.col(CORRUPT),
                    F.col("_metadata.file_path").alias(SOURCE_FILE))
    # a header column with no value at all is still a column of the file
    return raw, infer_field_columns(raw, fields)


def type_formats(options: Options) -> dict[str, str]:
    """The datetime patterns values of each type are parsed with (``{"date": "dd.MM.yyyy"}``)."""
    return {k: v for k, v in (("date", options.date_format),
                              ("timestamp", options.timestamp_format)) if v}
