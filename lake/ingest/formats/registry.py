"""File formats by name: each is a module with ``EXTENSIONS``, an ``Options`` model and
``read_raw(spark, paths, options, contract)``. A new format is one module and one line here.

Modules are imported when first asked for (declarations are checked without Spark).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from lake.errors import ConfigError

FORMATS: dict[str, str] = {
    "csv": "lake.ingest.formats.csv",
    "ndjson": "lake.ingest.formats.ndjson",
    "json": "lake.ingest.formats.json",
    "parquet": "lake.ingest.formats.parquet",
    "avro": "lake.ingest.formats.avro",
}


def format_module(name: str) -> ModuleType:
    """The reader module of format ``name``; ConfigError listing the known ones."""
    if name not in FORMATS:
        raise ConfigError(f"unknown format {name!r}; use one of {', '.join(FORMATS)}")
    return importlib.import_module(FORMATS[name])


def format_for(file_pattern: str) -> str | None:
    """The format a file pattern's extension names (``orders*.csv`` -> ``csv``), if any."""
    lowered = file_pattern.lower()
    for name in FORMATS:
        if any(lowered.endswith(ext) for ext in format_module(name).EXTENSIONS):
            return name
    return None


def read_raw(spark, dataset, contract, paths: list[str]):
    """Raw rows and observed columns of ``paths``, read as ``dataset`` declares its format.

    IngestError naming the files when Spark cannot read them."""
    from pyspark.errors import PySparkException

    from lake.errors import IngestError

    module = format_module(dataset.format)
    try:
        return module.read_raw(spark, paths, dataset.options, contract)
    except PySparkException as err:
        shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        raise IngestError(f"cannot read {dataset.format} files {shown}: "
                          f"{str(err).strip().splitlines()[0]}") from err


def type_formats(dataset) -> dict[str, str]:
    """The datetime pattern of each type the dataset's format options declare."""
    return format_module(dataset.format).type_formats(dataset.options)
