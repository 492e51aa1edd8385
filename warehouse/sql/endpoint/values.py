"""Spark's column types as PostgreSQL types, and Spark's values in PostgreSQL's text format, so a
client (psycopg, JDBC, a BI tool) gets integers, numerics, dates and timestamps it knows.

Arrays, maps and structs are sent as ``json``; timestamps in UTC, the platform's session time
zone, as ``timestamp``; anything without a PostgreSQL twin as ``text``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

BOOL, BYTEA, INT8, INT2, INT4, TEXT, JSON, FLOAT4, FLOAT8 = 16, 17, 20, 21, 23, 25, 114, 700, 701
DATE, TIMESTAMP, NUMERIC = 1082, 1114, 1700

_TYPES: dict[str, tuple[int, int]] = {
    # Spark's DataType.typeName() -> (PostgreSQL type OID, its size; -1: variable)
    "boolean": (BOOL, 1), "byte": (INT2, 2), "short": (INT2, 2), "integer": (INT4, 4),
    "long": (INT8, 8), "float": (FLOAT4, 4), "double": (FLOAT8, 8), "decimal": (NUMERIC, -1),
    "string": (TEXT, -1), "varchar": (TEXT, -1), "char": (TEXT, -1), "binary": (BYTEA, -1),
    "date": (DATE, 4), "timestamp": (TIMESTAMP, 8), "timestamp_ntz": (TIMESTAMP, 8),
    "array": (JSON, -1), "map": (JSON, -1), "struct": (JSON, -1), "variant": (JSON, -1),
}  # fmt: skip


Encoder = Callable[[Any], bytes]


@dataclass(frozen=True)
class Column:
    """A result column as the client sees it: name, type OID and size, and its encoder."""

    name: str
    oid: int
    size: int
    encode: Encoder


def columns(schema: Any) -> list[Column]:
    """The columns of a Spark ``StructType``."""
    result = []
    for field in schema.fields:
        name = field.dataType.typeName().split("(")[0]
        oid, size = _TYPES.get(name, (TEXT, -1))
        encode = _naive_timestamp if name == "timestamp_ntz" else _ENCODERS.get(oid, as_text)
        result.append(Column(field.name, oid, size, encode))
    return result


def encode_row(row: Any, cols: list[Column]) -> list[bytes | None]:
    return [None if v is None else c.encode(v) for v, c in zip(row, cols, strict=True)]


def _float(value: float) -> bytes:
    if math.isnan(value):
        return b"NaN"
    if math.isinf(value):
        return b"Infinity" if value > 0 else b"-Infinity"
    return repr(value).encode("ascii")


def _timestamp(value: datetime) -> bytes:
    if value.tzinfo is None:  # PySpark gives an instant as a naive datetime in local time
        value = value.astimezone()
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ").encode("ascii")


def _naive_timestamp(value: Any) -> bytes:
    return value.isoformat(sep=" ").encode("ascii") if isinstance(value, datetime) else as_text(value)


def _json(value: Any) -> bytes:
    from warehouse.sql.analyst import plain

    return json.dumps(plain(value), default=_json_default, ensure_ascii=False).encode("utf-8")


def _json_default(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "\\x" + bytes(value).hex()
    return str(value)


def as_text(value: Any) -> bytes:
    return str(value).encode("utf-8")


_ENCODERS: dict[int, Encoder] = {
    BOOL: lambda v: b"t" if v else b"f",
    INT2: as_text, INT4: as_text, INT8: as_text,
    FLOAT4: _float, FLOAT8: _float,
    NUMERIC: lambda v: format(v, "f").encode("ascii"),
    BYTEA: lambda v: b"\\x" + bytes(v).hex().encode("ascii"),
    DATE: lambda v: v.isoformat().encode("ascii") if isinstance(v, date) else as_text(v),
    TIMESTAMP: lambda v: _timestamp(v) if isinstance(v, datetime) else as_text(v),
    JSON: _json,
}  # fmt: skip

