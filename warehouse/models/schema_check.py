"""Column checks of the warehouse models against the contracts, without Spark.

Each model's SELECT is resolved by sqlglot against a schema built from the declarations: every
silver table has its contract's columns (and the load metadata), every dimension its key, tracked
and history columns, every fact its SELECT's columns and keys, every view its SELECT's. A column a
model names that the table it reads does not have is reported with the file and the columns
there are, before anything runs.
"""

from __future__ import annotations

from typing import Any

from lake.errors import ConfigError
from warehouse.models.catalog import ModelCatalog
from warehouse.models.dimension import Dimension
from warehouse.models.fact import Fact

SILVER_METADATA = {"_source_file": "string", "_ingested_at": "timestamp", "_batch_id": "string",
                   "_record_id": "string"}
DIMENSION_HISTORY = {"row_hash": "string", "valid_from": "timestamp", "valid_to": "timestamp",
                     "is_current": "boolean", "is_deleted": "boolean", "is_inferred": "boolean",
                     "recorded_at": "timestamp", "_batch_id": "string"}


def check_columns(catalog: ModelCatalog, contracts: dict[str, dict[str, Any]],
                  relative: Any) -> list[ConfigError]:
    """Problems of every model whose tables are all known (``contracts``: source -> dataset ->
    contract, of the sources that loaded); ``relative`` names a model's file for messages."""
    from sqlglot.errors import OptimizeError, SqlglotError
    from sqlglot.optimizer.qualify import qualify

    schema: dict[str, dict[str, dict[str, str]]] = {}
    for source, by_dataset in contracts.items():
        schema[f"{source}_silver"] = {
            name: {**{c.name: _sqlglot_type(c.type) for c in contract.columns},
                   **SILVER_METADATA}
            for name, contract in by_dataset.items()}
    problems: list[ConfigError] = []
    warehouse: dict[str, dict[str, str]] = {}
    schema["warehouse"] = warehouse
    for name in catalog.order:
        info = catalog.selects[name]
        origin = relative(catalog.files[name])
        known = all(t.split(".")[0] in schema and t.split(".")[1] in schema[t.split(".")[0]]
                    for t in info.tables)
        if known:
            try:
                qualify(info.tree.copy(), schema=schema, dialect="spark",
                        validate_qualify_columns=True, quote_identifiers=False)
            except (OptimizeError, SqlglotError) as err:
                problems.append(ConfigError(f"{origin}: {_explain(str(err), info.tables, schema)}"))
        warehouse[name] = _model_columns(catalog, name)
    return problems


def _model_columns(catalog: ModelCatalog, name: str) -> dict[str, str]:
    model = catalog.model(name)
    out = {c: "string" for c in catalog.selects[name].columns if c != "*"}
    if isinstance(model, Dimension):
        return {model.sk: "bigint", **{c: "string" for c in (*model.key, *model.tracked)},
                **DIMENSION_HISTORY}
    if isinstance(model, Fact):
        for lk in model.lookups:
            sk = f"{lk.column_prefix}_sk" if lk.role else catalog.dimensions[lk.dimension].sk
            out[sk] = "bigint"
        out.update({"recorded_at": "timestamp", "_batch_id": "string"})
    return out


def _sqlglot_type(type_: str) -> str:
    return type_ if "<" not in type_ else type_.upper()


def _explain(message: str, tables: tuple[str, ...], schema: dict) -> str:
    first = message.strip().splitlines()[0]
    columns = "; ".join(f"{t} has {', '.join(sorted(schema[t.split('.')[0]][t.split('.')[1]]))}"
                        for t in tables)
    return f"{first} ({columns})"
