"""Watermarks of incremental database extracts: how they are written down, ordered and turned
back into SQL.

A watermark is kept as ``<kind>:<text>``, the text being the database's own rendering of the
column's value (``CAST(max(updated_at) AS TEXT)``), e.g. ``timestamp:2026-01-02
10:00:00.123456+00`` for a PostgreSQL ``timestamptz`` or ``timestamp:2026-01-02 10:00:00.123456``
for a ``timestamp``. Given back to the database as a quoted literal, it is parsed as the
column's type again: no precision is lost and no time zone is applied by the JVM, Spark or
Python on the way. Kinds: ``timestamp``, ``date``, ``int``, ``number``, ``string``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from lake.errors import ConfigError, IngestError

KINDS = ("timestamp", "date", "int", "number", "string")
# How each database casts a value to text (PostgreSQL's CHAR would be one character long).
_TEXT_TYPE = {"postgresql": "TEXT", "mariadb": "CHAR", "mysql": "CHAR"}


def dialect(url: str) -> str:
    """``postgresql`` for ``jdbc:postgresql://...`` ('' when the URL does not say)."""
    return url.split(":")[1] if url.startswith("jdbc:") and url.count(":") > 1 else ""


def as_text(expression: str, url: str) -> str:
    """SQL casting ``expression`` to text, in the dialect of the JDBC ``url``."""
    return f"CAST({expression} AS {_TEXT_TYPE.get(dialect(url), 'VARCHAR(100)')})"


def kind_of(data_type: Any, where: str) -> str:
    """The watermark kind of a Spark type (ConfigError naming ``where`` for other types)."""
    from pyspark.sql import types as T

    if isinstance(data_type, (T.TimestampType, T.TimestampNTZType)):
        return "timestamp"
    if isinstance(data_type, T.DateType):
        return "date"
    if isinstance(data_type, T.IntegralType):
        return "int"
    if isinstance(data_type, T.FractionalType):
        return "number"
    if isinstance(data_type, T.StringType):
        return "string"
    raise ConfigError(f"{where} is {data_type.simpleString()}; a watermark column is a timestamp, "
                      "date, number or string that grows with every change (e.g. updated_at)")


def value(tagged: str) -> Any:
    """The Python value of a tagged watermark (a naive timestamp taken as UTC)."""
    kind, _, text = tagged.partition(":")
    try:
        if kind == "timestamp":
            moment = datetime.fromisoformat(text)
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        if kind == "date":
            return date.fromisoformat(text)
        if kind in ("int", "number"):
            return Decimal(text)
    except (ValueError, InvalidOperation) as err:
        raise IngestError(f"watermark {tagged!r} in the landing ledger is no valid {kind}: {err}; "
                          "fix or remove the manifest that holds it") from err
    if kind == "string":
        return text
    raise IngestError(f"watermark {tagged!r} in the landing ledger has unknown kind {kind!r}; "
                      f"kinds: {', '.join(KINDS)}")


def order(tagged: str) -> tuple:
    """Sort key of tagged watermarks (kinds kept apart, so mixed kinds never compare)."""
    return (tagged.partition(":")[0], value(tagged))


def literal(tagged: str, minus: float = 0) -> str:
    """A SQL literal of a tagged watermark that the database reads as the column's type
    (``minus``: a lookback in the value's units: seconds, days or units)."""
    kind, _, text = tagged.partition(":")
    parsed = value(tagged)  # checks the text is a value of its kind
    if kind in ("int", "number"):
        return str(parsed - Decimal(str(minus))) if minus else str(parsed)
    if minus:
        if kind == "timestamp":
            text = (datetime.fromisoformat(text) - timedelta(seconds=minus)).isoformat(sep=" ")
        elif kind == "date":
            text = (date.fromisoformat(text) - timedelta(days=minus)).isoformat()
        else:
            raise ConfigError("lookback needs a number, date or timestamp watermark column")
    return "'" + text.replace("'", "''") + "'"


def shown(tagged: str | None) -> str:
    """A watermark for people (``the start`` when there is none)."""
    return "the start" if tagged is None else tagged.partition(":")[2]
