"""Watermarks as the ledger keeps them: ordered by value, given back to SQL as literals the
database parses as the column's type, a lookback subtracted in the value's units."""

from __future__ import annotations

import pytest

from lake.errors import ConfigError, IngestError
from lake.ingest import watermarks


def test_watermarks_order_by_value_not_text():
    highs = ["int:9", "int:10", "int:100"]
    assert max(highs, key=watermarks.order) == "int:100"
    stamps = ["timestamp:2026-01-02 10:00:00.5+00", "timestamp:2026-01-02 11:00:00+01",
              "timestamp:2026-01-02 09:59:59.999999"]
    assert max(stamps, key=watermarks.order) == "timestamp:2026-01-02 10:00:00.5+00"


@pytest.mark.parametrize("tagged, minus, literal", [
    ("timestamp:2026-01-02 10:00:00.123456+00", 0, "'2026-01-02 10:00:00.123456+00'"),
    ("timestamp:2026-01-02 10:00:00.123456+00", 90, "'2026-01-02 09:58:30.123456+00:00'"),
    ("timestamp:2026-01-02 10:00:00.000001", 0.5, "'2026-01-02 09:59:59.500001'"),
    ("date:2026-01-02", 2, "'2025-12-31'"),
    ("int:1000", 10, "990"),
    ("number:12.50", 0, "12.50"),
    ("string:it's", 0, "'it''s'"),
])
def test_literals_keep_the_databases_text(tagged, minus, literal):
    assert watermarks.literal(tagged, minus=minus) == literal


def test_a_bad_watermark_is_refused():
    with pytest.raises(IngestError, match="is no valid int"):
        watermarks.literal("int:1; DROP TABLE accounts")
    with pytest.raises(ConfigError, match="lookback needs a number, date or timestamp"):
        watermarks.literal("string:abc", minus=1)


def test_the_text_cast_follows_the_database():
    assert watermarks.as_text("max(u)", "jdbc:postgresql://h/db") == "CAST(max(u) AS TEXT)"
    assert watermarks.as_text("max(u)", "jdbc:mariadb://h/db") == "CAST(max(u) AS CHAR)"
    assert watermarks.as_text("max(u)", "jdbc:sqlserver://h") == "CAST(max(u) AS VARCHAR(100))"
