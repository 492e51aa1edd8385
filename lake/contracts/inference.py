"""Propose a contract from a dataset's files: ``lakehouse contract infer SOURCE.DATASET``.

The dataset's landed batches are read raw (as bronze reads them, nothing dropped); when nothing
has landed yet, the files of its newest delivery (or of ``--ds``) are read where they are, so a
new source gets its first contracts before its first run. Two Spark jobs profile them: per column
the values seen, the types they fit, numeric min/max and the exact number of distinct values;
then the distinct values of the columns with few of them. From that:

- type: a typed format's type (Parquet, Avro), else the first type that
  :data:`lake.ingest.observed_schema.TYPE_CONSENSUS` of the values fit;
- ``nullable: false`` when no record lacks the column;
- ``min``/``max`` widened by :data:`MARGIN` of the observed spread (a floor of 0 stays 0);
- ``accepted_values`` for text columns with at most :data:`MAX_CATEGORIES` values;
- ``keys``: the first ``*_id`` column that is complete and unique;
- ``pii: true`` for column names that usually hold personal data;
- ``version``: one past the newest registered version (the project's file, or one that schema
  evolution added).

The result is a proposal for a person to review, printed as YAML; nothing is registered.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import TYPE_CHECKING, Any

from lake.contracts.model import Contract, is_numeric
from lake.errors import ConfigError
from lake.ingest.observed_schema import RAW, consensus_type, fit_aggregates

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MARGIN = 0.1
MAX_CATEGORIES = 20
_PII_NAMES = ("email", "phone", "name", "address", "birth", "ip", "iban", "ssn")


def dataset_files(settings: Any, source: Any, name: str, ds: date | None = None
                  ) -> tuple[list[str], str]:
    """The files to infer ``name``'s contract from, and where they are (for messages): every
    landed batch's, else those of a delivery (``ds``, or the newest one found)."""
    from lake.ingest import storage
    from lake.ingest.landing import Ledger

    landed = [p for b in Ledger(settings.landing_root, source.name).batches()
              for p in b.files_of(name)]
    if landed and ds is None:
        return landed, f"{len(landed)} landed file(s)"
    if source.connector != "files":
        raise ConfigError(f"{source.name}.{name} has nothing landed yet; run `lakehouse run "
                          f"{source.name}` first (the extract lands its rows), then infer")
    delivery = source.deliveries
    dataset = source.datasets[name]
    root = delivery.folder(settings, str(source.project.root), ds or date.today()) \
        if ds or "{" not in delivery.layout else _newest_delivery(settings, source)
    files = [storage.join(root, f.relative) for f in storage.list_files(root)
             if dataset.matches(f.relative)]
    if not files:
        raise ConfigError(f"no file of {source.name}.{name} ({dataset.files}) in {root}; give "
                          "--ds of a delivery that has one")
    return files, root


def _newest_delivery(settings: Any, source: Any) -> str:
    """The delivery folder with the latest date under the source's root."""
    from lake.ingest import storage

    delivery = source.deliveries
    root = delivery.root.format(source_root=settings.source_root,
                                project=str(source.project.root), home=settings.home)
    first = delivery.layout.split("/")[0]
    pattern = re.compile("^" + re.escape(first).replace(r"\{ds\}", r"(\d{4}-\d{2}-\d{2})")
                         .replace(r"\{ds_nodash\}", r"(\d{8})") + "$")
    dates = sorted({f.relative.split("/")[0] for f in storage.list_files(root)
                    if pattern.match(f.relative.split("/")[0])})
    if not dates:
        raise ConfigError(f"no delivery of {source.name} under {root} (layout "
                          f"{delivery.layout!r}); give --ds")
    return storage.join(root, dates[-1])


def infer_contract(spark: SparkSession, settings: Any, source: Any, name: str, today: date,
                   ds: date | None = None) -> tuple[Contract, str]:
    """The proposed contract of dataset ``name`` of ``source`` (a source declaration; its
    contracts may be missing) and what it was inferred from."""
    from pyspark.sql import functions as F

    from lake.ingest.formats.raw import as_map_rows
    from lake.ingest.formats.registry import read_raw

    dataset = source.dataset(name)
    if dataset.unstructured:
        raise ConfigError(f"{source.name}.{name} is unstructured (whole files): it has no contract")
    files, origin = dataset_files(settings, source, name, ds)
    template = _latest(spark, source.contracts.get(name)) or Contract.model_construct(
        dataset=name, source=source.name, version=0, columns=())
    raw, observed = read_raw(spark, dataset, template, files)
    typed = {c.name: c.type for c in observed} if dataset.format in ("parquet", "avro") else {}
    records = as_map_rows(raw).select(RAW).persist()
    try:
        rows = records.count()
        stats = _column_stats(records)
        few = [n for n, s in stats.items() if s["distinct"] <= MAX_CATEGORIES]
        values = {}
        if few:
            pairs = records.select(F.explode(RAW).alias("name", "value"))
            for row in (pairs.where(F.col("name").isin(few) & F.col("value").isNotNull())
                        .groupBy("name").agg(F.sort_array(F.collect_set("value")).alias("v"))
                        .collect()):
                values[row["name"]] = tuple(row["v"])
    finally:
        records.unpersist()
    order = {c: i for i, c in enumerate(template.column_names)} if template.columns else {}
    names = sorted(stats, key=lambda n: (order.get(n, len(order)), n))
    columns = [_column(n, stats[n], typed.get(n), values.get(n), rows) for n in names]
    keys = next(([c["name"]] for c in columns if c["name"].endswith("_id")
                 and stats[c["name"]]["non_null"] == rows == stats[c["name"]]["distinct"]), [])
    version = template.version + 1 if template.columns else 1
    contract = Contract.model_validate({
        "dataset": name, "source": source.name,
        "description": f"Proposed from {origin} of {source.name}.{name}; review types, ranges "
                       "and accepted values before use.",
        "version": version,
        "changelog": [{"version": version, "date": today,
                       "reason": f"inferred from {origin}, {rows} records"}],
        "columns": columns, "keys": keys,
    })
    return contract, origin


def _latest(spark: SparkSession, contract: Contract | None) -> Contract | None:
    """The newest version of ``contract``: the registry's when evolution has added versions past
    the project's file (so the proposal's version follows the one in effect)."""
    from lake.contracts.versions import history

    if contract is None:
        return None
    registered = history(spark, contract.source, contract.dataset).get(contract.dataset, [])
    newest = registered[-1].contract if registered else contract
    return newest if newest.version > contract.version else contract


def _column_stats(records) -> dict[str, dict]:
    from pyspark.sql import functions as F

    pairs = records.select(F.explode(RAW).alias("name", "value"))
    value = F.col("value")
    numeric = value.try_cast("double")
    stats = pairs.groupBy("name").agg(
        F.count("value").alias("non_null"),
        F.countDistinct("value").alias("distinct"),
        F.min(numeric).alias("min"), F.max(numeric).alias("max"),
        *fit_aggregates(value),
    )
    return {r["name"]: r.asDict() for r in sorted(stats.collect(), key=lambda r: r["name"])
            if r["name"] != "_corrupt_record"}


def _column(name: str, s: dict, declared: str | None, values: tuple[str, ...] | None,
            rows: int) -> dict:
    type_ = declared or consensus_type(s)
    type_ = "double" if type_ == "float" else type_
    col: dict = {"name": name, "type": type_, "nullable": s["non_null"] < rows}
    if any(part in name.lower() for part in _PII_NAMES) and not name.endswith("_id"):
        col["pii"] = True
    if is_numeric(type_) and s["min"] is not None and math.isfinite(s["min"]):
        low, high = float(s["min"]), float(s["max"])
        spread = (high - low) or abs(high) or 1.0
        low = 0.0 if low >= 0 and low - MARGIN * spread < 0 else _round(low - MARGIN * spread)
        high = _round(high + MARGIN * spread)
        if type_ in ("int", "bigint"):
            low, high = float(math.floor(low)), float(math.ceil(high))
        col["min"], col["max"] = low, high
    if type_ == "string" and values and len(values) <= MAX_CATEGORIES and rows >= 2 * len(values):
        col["accepted_values"] = list(values)
    return col


def _round(value: float) -> float:
    """Two significant digits: proposals are for people."""
    if value == 0:
        return 0.0
    digits = 1 - int(math.floor(math.log10(abs(value))))
    return round(value, max(digits, 0))
