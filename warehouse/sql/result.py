"""What a query returned, and how it is shown: an aligned table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import numbers
from dataclasses import dataclass
from typing import Any

from lake.errors import SqlError

FORMATS: tuple[str, ...] = ("table", "csv", "json")
"""Output formats :func:`format_result` knows."""


@dataclass(frozen=True)
class QueryResult:
    """What a query returned: column names in order, and rows as plain Python tuples;
    ``truncated``: the query had more rows than the limit it ran with."""

    columns: list[str]
    rows: list[tuple]
    truncated: bool = False


def format_result(result: QueryResult, fmt: str) -> str:
    """Render ``result`` as ``"table"`` (aligned text), ``"csv"`` or ``"json"`` (objects)."""
    if fmt == "table":
        return _as_table(result)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([_csv_cell(v) for v in row] for row in result.rows)
        return out.getvalue()
    if fmt == "json":
        return json.dumps(
            [dict(zip(result.columns, row, strict=True)) for row in result.rows], default=str
        )
    raise SqlError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")


# -- rendering -------------------------------------------------------------------------------------


def _as_table(result: QueryResult) -> str:
    cells = [[_cell(v) for v in row] for row in result.rows]
    widths = [len(c) for c in result.columns]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    numeric = [
        all(_is_number(row[i]) or row[i] is None for row in result.rows)
        and any(row[i] is not None for row in result.rows)
        for i in range(len(result.columns))
    ]

    def line(values: list[str], align: list[bool]) -> str:
        return " | ".join(
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, align, strict=True)
        ).rstrip()

    header = line(result.columns, [False] * len(widths))
    rule = "-+-".join("-" * w for w in widths)
    body = [line(row, numeric) for row in cells]
    count = len(result.rows)
    footer = f"({count} row{'' if count == 1 else 's'})"
    return "\n".join([header, rule, *body, footer]) + "\n"


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _csv_cell(value: Any) -> Any:
    return json.dumps(value, default=str) if isinstance(value, (dict, list)) else value


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)
