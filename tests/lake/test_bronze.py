"""Bronze: landed records typed by the contract, nothing dropped, misfits kept in ``_rescued_data``."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual, assertSchemaEqual

from lake.config.project import load_project
from lake.config.sources import source_of
from lake.contracts.tables import bronze_ddl
from lake.errors import IngestError
from lake.ingest.formats.registry import read_raw, type_formats
from lake.ingest.records import to_bronze

RETAIL = source_of(load_project(Path(__file__).resolve().parents[2] / "examples" / "retail"),
                   "retail")
CONTRACTS = RETAIL.contracts
INGESTED_AT = datetime(2026, 1, 2, 6, 30, tzinfo=UTC)
BATCH = "20260102-001"


def _bronze(spark, dataset: str, path) -> tuple[list[Row], object]:
    """Bronze rows of the file at ``path`` (one Spark action) and the DataFrame's schema."""
    contract, declared = CONTRACTS[dataset], RETAIL.datasets[dataset]
    raw, _ = read_raw(spark, declared, contract, [str(path)])
    df = raw.transform(to_bronze(contract, BATCH, INGESTED_AT, type_formats(declared)))
    return df.collect(), df.schema


def _canonical(rows: list[Row], typed: tuple[str, ...]) -> list[Row]:
    """Typed columns plus ``_rescued_data`` as JSON with sorted keys (key order is not a contract)."""
    out = []
    for r in rows:
        rescued = None if r["_rescued_data"] is None else json.loads(r["_rescued_data"])
        out.append(Row(**{c: r[c] for c in typed},
                       _rescued_data=None if rescued is None else json.dumps(rescued, sort_keys=True)))
    return out


def _rescued(**values: str) -> str:
    return json.dumps(values, sort_keys=True)


def test_ndjson_misfits_unknown_fields_and_unparsable_lines_are_rescued(spark, tmp_path):
    lines = [
        '{"order_id": "O1", "customer_id": "C1", "product_id": "P1", "quantity": 2, '
        '"amount": 12.5, "order_ts": "2026-01-01T10:00:00Z"}',
        # wrong types (a word, a decimal comma) and a field the contract does not know
        '{"order_id": "O2", "customer_id": "C1", "product_id": "P2", "quantity": "two", '
        '"amount": "12,50", "order_ts": "2026-01-01T11:00:00Z", "coupon": "WINTER"}',
        # a fractional quantity must not be truncated to 2, an unparsable timestamp kept verbatim
        '{"order_id": "O3", "customer_id": "C2", "product_id": "P1", "quantity": 2.5, '
        '"amount": 3, "order_ts": "yesterday"}',
        '{"order_id": "O4", "customer_id": ',  # truncated line
        "[1, 2]",  # JSON, but not a record
    ]
    path = tmp_path / "orders.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    rows, schema = _bronze(spark, "orders", path)

    contract = CONTRACTS["orders"]
    assertSchemaEqual(schema, spark.createDataFrame([], bronze_ddl(contract)).schema)
    assert len(rows) == len(lines), "every landed line becomes exactly one bronze row"
    ts = datetime(2026, 1, 1, 10)
    expected = [
        Row(order_id="O1", customer_id="C1", product_id="P1", quantity=2, amount=Decimal("12.50"),
            order_ts=ts, payment=None, returned=None, _rescued_data=None),
        Row(order_id="O2", customer_id="C1", product_id="P2", quantity=None, amount=None,
            order_ts=datetime(2026, 1, 1, 11), payment=None, returned=None,
            _rescued_data=_rescued(quantity="two", amount="12,50", coupon="WINTER")),
        Row(order_id="O3", customer_id="C2", product_id="P1", quantity=None, amount=Decimal("3.00"),
            order_ts=None, payment=None, returned=None,
            _rescued_data=_rescued(quantity="2.5", order_ts="yesterday")),
        Row(order_id=None, customer_id=None, product_id=None, quantity=None, amount=None,
            order_ts=None, payment=None, returned=None, _rescued_data=_rescued(_corrupt_record=lines[3])),
        Row(order_id=None, customer_id=None, product_id=None, quantity=None, amount=None,
            order_ts=None, payment=None, returned=None, _rescued_data=_rescued(_corrupt_record=lines[4])),
    ]
    assertDataFrameEqual(_canonical(rows, contract.column_names), expected)
    assert {r["_batch_id"] for r in rows} == {BATCH}
    assert {r["_ingested_at"] for r in rows} == {INGESTED_AT.replace(tzinfo=None)}
    assert all(r["_source_file"].endswith(f"{tmp_path}/orders.ndjson") for r in rows)
    assert len({r["_record_id"] for r in rows}) == len(rows), "every record gets its own id"


def test_read_raw_reports_the_columns_and_types_the_files_hold(spark, tmp_path):
    lines = [f'{{"order_id": "O{i}", "quantity": {i}, "amount": {i}.5, "coupon": "C{i}", '
             f'"order_ts": "2026-01-0{1 + i % 9}T10:00:00Z", "returned": {str(i % 2 == 0).lower()}}}'
             for i in range(40)]
    lines.append('{"order_id": "O99", "quantity": "two"}')  # one misfit does not change a type
    path = tmp_path / "orders.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, observed = read_raw(spark, RETAIL.datasets["orders"], CONTRACTS["orders"], [str(path)])
    assert {c.name: c.type for c in observed} == {
        "order_id": "string", "quantity": "int", "amount": "double", "coupon": "string",
        "order_ts": "timestamp", "returned": "boolean"}
    assert {c.name: c.non_null for c in observed}["quantity"] == 41


def test_csv_extra_column_bad_value_and_ragged_rows_are_rescued(spark, tmp_path):
    text = (
        "customer_id,name,email,city,segment,updated_at,loyalty_tier\n"
        "C1,Ana Silva,ana@example.com,Lisbon,consumer,2026-01-01,gold\n"
        "C2,Ben Meyer,ben@example.com,,corporate,not a date,\n"
        "C3,Eva Rossi,eva@example.com\n"
        "C4,Hugo Costa,hugo@example.com,Porto,consumer,2026-01-01,silver,SPARE\n"
    )
    path = tmp_path / "customers.csv"
    path.write_text(text, encoding="utf-8")

    rows, schema = _bronze(spark, "customers", path)

    contract = CONTRACTS["customers"]
    assertSchemaEqual(schema, spark.createDataFrame([], bronze_ddl(contract)).schema)
    assert len(rows) == 4, "every data line becomes exactly one bronze row"
    day = datetime(2026, 1, 1)
    expected = [
        Row(customer_id="C1", name="Ana Silva", email="ana@example.com", city="Lisbon",
            segment="consumer", updated_at=day, _rescued_data=_rescued(loyalty_tier="gold")),
        Row(customer_id="C2", name="Ben Meyer", email="ben@example.com", city=None,
            segment="corporate", updated_at=None, _rescued_data=_rescued(updated_at="not a date")),
        # too few fields: what could be read is typed, the whole line is kept
        Row(customer_id="C3", name="Eva Rossi", email="eva@example.com", city=None, segment=None,
            updated_at=None,
            _rescued_data=_rescued(_corrupt_record="C3,Eva Rossi,eva@example.com")),
        # too many fields: the unnamed extra value survives in the kept line
        Row(customer_id="C4", name="Hugo Costa", email="hugo@example.com", city="Porto",
            segment="consumer", updated_at=day,
            _rescued_data=_rescued(
                loyalty_tier="silver",
                _corrupt_record="C4,Hugo Costa,hugo@example.com,Porto,consumer,2026-01-01,silver,SPARE",
            )),
    ]
    assertDataFrameEqual(_canonical(rows, contract.column_names), expected)


@pytest.mark.parametrize("dataset", ["orders", "customers", "products"])
def test_read_raw_on_a_missing_path_names_the_path(spark, tmp_path, dataset):
    declared = RETAIL.datasets[dataset]
    missing = tmp_path / "ds=2026-01-01" / "batch=20260101-001" / declared.files.replace("*", "")
    with pytest.raises(IngestError, match="^" + re.escape(
            f"cannot read {declared.format} files {missing}: ")):
        read_raw(spark, declared, CONTRACTS[dataset], [str(missing)])


def test_parquet_columns_come_with_their_declared_types(spark, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "products.parquet"
    table = pa.table({"product_id": ["P1"], "weight_g": pa.array([5], pa.int64()),
                      "unit_price": pa.array([1.5], pa.float32())})
    pq.write_table(table, path)
    _, observed = read_raw(spark, RETAIL.datasets["products"], CONTRACTS["products"], [str(path)])
    assert [(c.name, c.type) for c in observed] == [
        ("product_id", "string"), ("weight_g", "bigint"), ("unit_price", "float")]
