"""Propose a contract from what has landed: ``lakehouse contract infer DATASET``.

Every landed batch of the dataset is read raw (as bronze reads it, nothing dropped) and profiled in
two Spark jobs: per column the values seen, the types they fit, numeric min/max and the exact
number of distinct values; then the distinct values of the columns with few of them. From that:

- type: Parquet's declared type (latest batch), else the first type that
  :data:`lake.landed_schema.TYPE_CONSENSUS` of the values fit;
- ``nullable: false`` when no record lacks the column;
- ``min``/``max`` widened by :data:`MARGIN` of the observed spread (a floor of 0 stays 0);
- ``accepted_values`` for text columns with at most :data:`MAX_CATEGORIES` values;
- ``keys``: the first ``*_id`` column that is complete and unique;
- ``pii: true`` for column names that usually hold personal data;
- ``version``: one past the newest registered version (the repo file's, or one that schema
  evolution added).

The result is a proposal for a person to review, printed as YAML; nothing is registered.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from lake.contract import Contract, is_numeric
from lake.errors import ConfigError
from lake.landed_schema import RAW, consensus_type, fit_aggregates

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MARGIN = 0.1
MAX_CATEGORIES = 20
_PII_NAMES = ("email", "phone", "name", "address", "birth", "ip", "iban", "ssn")


def landed_batches(landing_root: str, dataset: str) -> tuple[str, list[Path]]:
    """``(source, batch folders)`` of ``dataset`` in the landing zone, oldest first."""
    root = Path(landing_root)
    folders = sorted(root.glob(f"*/{dataset}/ds=*/batch=*"))
    if not folders:
        known = sorted({p.parent.parent.name for p in root.glob("*/*/ds=*/batch=*")})
        raise ConfigError(
            f"nothing of dataset {dataset!r} has landed under {landing_root}; landed datasets: "
            f"{', '.join(known) or 'none (run the DAG or `lakehouse demo` first)'}")
    sources = {f.parent.parent.parent.name for f in folders}
    if len(sources) > 1:
        raise ConfigError(f"dataset {dataset!r} has landed from several sources "
                          f"({', '.join(sorted(sources))}); name one as SOURCE.DATASET")
    return sources.pop(), folders


def infer_contract(spark: SparkSession, landing_root: str, dataset: str,
                   today: date) -> tuple[Contract, int]:
    """The proposed contract of ``dataset`` (``orders``, ``bronze.orders``, ``retail.orders``)
    and the number of batches it was inferred from."""
    from pyspark.sql import functions as F

    from lake.bronze import read_raw
    from lake.contract import find_contract

    parts = dataset.split(".")
    name = parts[-1]
    source, folders = landed_batches(landing_root, name)
    template = _latest(spark, _template(find_contract, source, name, folders[-1]))
    raws, typed = [], {}
    for folder in folders:
        raw, observed = read_raw(spark, template, str(folder / template.file))
        raws.append(raw.select(RAW))
        if template.format == "parquet":
            typed.update({c.name: c.type for c in observed})
    records = raws[0]
    for raw in raws[1:]:
        records = records.unionByName(raw)
    records = records.persist()
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
        "dataset": name, "source": source, "format": template.format, "file": template.file,
        "description": f"Proposed from {len(folders)} landed batch(es) of {source}.{name}; review "
                       "types, ranges and accepted values before use.",
        "version": version,
        "changelog": [{"version": version, "date": today,
                       "reason": f"inferred from {len(folders)} landed batch(es), {rows} records"}],
        "columns": columns, "keys": keys,
    })
    return contract, len(folders)


def _template(find_contract, source: str, name: str, folder: Path) -> Contract:
    """The shipped contract (for format and file name), or one guessed from the files."""
    try:
        contract = find_contract(f"{source}.{name}")
        if contract.source == source:
            return contract
    except ConfigError:
        pass
    files = sorted(p for p in folder.iterdir() if p.is_file())
    fmt = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson",
           ".parquet": "parquet"}.get(files[0].suffix if files else "", None)
    if fmt is None:
        raise ConfigError(f"cannot tell the format of {folder}: expected .csv, .ndjson or "
                          ".parquet files")
    return Contract.model_construct(dataset=name, source=source, format=fmt,
                                    file=files[0].name, version=0, columns=())


def _latest(spark: SparkSession, template: Contract) -> Contract:
    """The newest version of the template's contract: the registry's when evolution has added
    versions past the repo file (so the proposal's version follows the one in effect)."""
    from lake.contract_registry import history

    if not template.columns:
        return template
    registered = history(spark, template.source, template.dataset).get(template.dataset, [])
    newest = registered[-1].contract if registered else template
    return newest if newest.version > template.version else template


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
