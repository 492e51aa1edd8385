"""Raw readers per format, typed by the contract: CSV with its options (delimiter, quote, escape,
header, encodings and a byte-order mark, multi-line records, date and timestamp patterns, null
markers), JSON documents (one object or an array of them, nested structs and arrays), NDJSON with
nested types, Parquet and Avro; values that do not fit are kept in ``_rescued_data``."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from pyspark.sql import Row

from lake.contracts.reading import parse_contract
from lake.ingest.connectors.files import dataset_model
from lake.ingest.formats.registry import read_raw, type_formats
from lake.ingest.records import to_bronze

AT = datetime(2026, 2, 2, tzinfo=UTC)


def _typed(spark, paths, declaration: dict, columns: list[dict]):
    dataset = dataset_model().model_validate(declaration)
    contract = parse_contract({"dataset": "d", "columns": columns}, "test", "fmt")
    raw, observed = read_raw(spark, dataset, contract, [str(p) for p in paths])
    rows = raw.transform(to_bronze(contract, "20260202-001", AT, type_formats(dataset)))
    return rows.orderBy("_source_file", contract.column_names[0]).collect(), observed


def _rescued(row) -> dict | None:
    return json.loads(row["_rescued_data"]) if row["_rescued_data"] else None


def test_csv_options_encodings_multiline_and_patterns(spark, tmp_path):
    text = ("id;name;born;seen;score\n"
            "1;'Ana; the \"first\"';01.02.1990;01.02.2026 10:30;NA\n"
            "2;'Jos\u00e9\nSecond line';31.12.1985;02.02.2026 08:00;7.5\n"
            "3;Zoe;1999-01-01;yesterday;x\n")
    latin = tmp_path / "people_latin1.csv"
    latin.write_bytes(text.encode("latin-1"))
    bom = tmp_path / "people_bom.csv"
    bom.write_bytes(text.replace("1;'Ana", "4;'Ana").replace("2;'Jos", "5;'Jos")
                    .replace("3;Zoe", "6;Zoe").encode("utf-8-sig"))
    options = {"delimiter": ";", "quote": "'", "multi_line": True, "null_value": "NA",
               "date_format": "dd.MM.yyyy", "timestamp_format": "dd.MM.yyyy HH:mm"}
    columns = [{"name": "id", "type": "int"}, {"name": "name", "type": "string"},
               {"name": "born", "type": "date"}, {"name": "seen", "type": "timestamp"},
               {"name": "score", "type": "double"}]
    latin_rows, observed = _typed(spark, [latin], {"files": "*.csv",
                                                   "csv": {**options, "encoding": "windows-1252"}},
                                  columns)
    assert [c.name for c in observed] == ["id", "name", "born", "seen", "score"]
    ana, jose, zoe = latin_rows
    assert (ana["id"], ana["name"], ana["born"], ana["seen"], ana["score"]) == (
        1, 'Ana; the "first"', date(1990, 2, 1), datetime(2026, 2, 1, 10, 30), None)
    assert ana["_rescued_data"] is None, "NA is a null, not a misfit"
    assert jose["name"] == "Jos\u00e9\nSecond line" and jose["score"] == 7.5
    assert (zoe["born"], zoe["seen"], zoe["score"]) == (None, None, None)
    assert _rescued(zoe) == {"born": "1999-01-01", "seen": "yesterday", "score": "x"}
    bom_rows, observed = _typed(spark, [bom], {"files": "*.csv", "csv": options}, columns)
    assert observed[0].name == "id", "the byte-order mark is not part of the first column's name"
    assert [r["id"] for r in bom_rows] == [4, 5, 6] and bom_rows[1]["name"].startswith("Jos\u00e9")


def test_csv_without_a_header_takes_the_contracts_names(spark, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,1\nb,two\n")
    rows, _ = _typed(spark, [path], {"files": "*.csv", "csv": {"header": False}},
                     [{"name": "k", "type": "string"}, {"name": "n", "type": "int"}])
    assert [(r["k"], r["n"], _rescued(r)) for r in rows] == [("a", 1, None),
                                                            ("b", None, {"n": "two"})]


NESTED = [{"name": "id", "type": "string"},
          {"name": "address", "type": "struct<city: string, zip: string>"},
          {"name": "tags", "type": "array<string>"},
          {"name": "scores", "type": "map<string, int>"}]


def test_json_documents_with_nested_structs_and_arrays(spark, tmp_path):
    many = tmp_path / "many.json"
    many.write_text(json.dumps([
        {"id": "a", "address": {"city": "Lisbon", "zip": "1000"}, "tags": ["x", "y"],
         "scores": {"q1": 3}},
        {"id": "b", "address": None, "tags": [], "extra": {"deep": [1, 2]}},
        42,
    ], indent=2))
    one = tmp_path / "one.json"
    one.write_text('{\n  "id": "c",\n  "tags": ["z"]\n}\n')
    rows, observed = _typed(spark, [many, one], {"files": "*.json"}, NESTED)
    by_id = {r["id"]: r for r in rows}
    assert by_id["a"]["address"] == Row(city="Lisbon", zip="1000")
    assert by_id["a"]["tags"] == ["x", "y"] and by_id["a"]["scores"] == {"q1": 3}
    assert by_id["b"]["tags"] == [] and _rescued(by_id["b"]) == {"extra": '{"deep":[1,2]}'}
    assert by_id["c"]["tags"] == ["z"]
    (corrupt,) = [r for r in rows if r["id"] is None]
    assert _rescued(corrupt) == {"_corrupt_record": "42"}, "a non-object element is kept"
    assert {c.name: c.type for c in observed}["address"] == "struct"


def test_ndjson_nested_values_typed_by_the_contract(spark, tmp_path):
    path = tmp_path / "d.ndjson"
    path.write_text('{"id": "a", "address": {"city": "Porto", "zip": "4000"}, "tags": ["t"]}\n'
                    '{"id": "b", "address": "not an object", "tags": "nor a list"}\n')
    rows, _ = _typed(spark, [path], {"files": "*.ndjson"}, NESTED)
    a, b = rows
    assert a["address"] == Row(city="Porto", zip="4000") and a["tags"] == ["t"]
    assert (b["address"], b["tags"]) == (None, None)
    assert _rescued(b) == {"address": "not an object", "tags": "nor a list"}


def test_avro_and_parquet_keep_their_types(spark, tmp_path):
    df = spark.createDataFrame(
        [("a", 1, Decimal("2.50"), ["x"]), ("b", 2, Decimal("3.00"), [])],
        "id string, n int, price decimal(6,2), tags array<string>")
    columns = [{"name": "id", "type": "string"}, {"name": "n", "type": "bigint"},
               {"name": "price", "type": "decimal(6,2)"}, {"name": "tags", "type": "array<string>"}]
    for fmt in ("avro", "parquet"):
        folder = tmp_path / fmt
        df.write.format(fmt).save(str(folder))
        files = sorted(p for p in folder.iterdir() if p.name.startswith("part-"))
        rows, observed = _typed(spark, files, {"files": f"*.{fmt}"}, columns)
        assert [(r["id"], r["n"], r["price"], r["tags"]) for r in rows] == [
            ("a", 1, Decimal("2.50"), ["x"]), ("b", 2, Decimal("3.00"), [])], fmt
        assert {c.name: c.type for c in observed}["tags"] == "array<string>", fmt
        assert all(r["_rescued_data"] is None for r in rows), fmt
