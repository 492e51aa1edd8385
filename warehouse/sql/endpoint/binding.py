"""Query parameters (``$1``, ``$2`` … of the extended protocol) bound into the query as literals of
sqlglot's tree, never pasted into text: a value is a string, number, boolean or NULL node, so
it cannot change the query's shape. The bound query then goes through every check as typed.
"""

from __future__ import annotations

import struct
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from lake.errors import SqlError
from warehouse.sql.endpoint import values

if TYPE_CHECKING:
    from warehouse.sql.endpoint.wire import Bind

_INTEGERS = {values.INT2: "!h", values.INT4: "!i", values.INT8: "!q"}
_FLOATS = {values.FLOAT4: "!f", values.FLOAT8: "!d"}
_TEXT_OIDS = frozenset({0, values.TEXT, 1043, 1042, 705})  # text, varchar, bpchar, unknown
MAX_PARAMETERS = 1000


def bind_parameters(query: str, oids: list[int], bind: Bind | None, dialect: str) -> str:
    """``query`` with its ``$n`` parameters replaced by ``bind``'s values (None: by NULLs, to
    describe the statement before values are known), as text in ``dialect``."""
    given = [] if bind is None else bind.params
    if bind is not None and len(given) > MAX_PARAMETERS:
        raise SqlError(f"{len(given):,} parameters is over the limit of {MAX_PARAMETERS:,}")
    if (bind is not None and not given) or (bind is None and "$" not in query):
        return query
    try:
        tree = sqlglot.parse_one(query, read=dialect)
    except SqlglotError as err:
        raise SqlError(f"cannot parse the query as {dialect} SQL: {err}") from err
    literals = [_literal(i, value, oids, bind) for i, value in enumerate(given)]

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Parameter) and isinstance(node.this, exp.Literal) \
                and not node.this.is_string:
            number = int(node.this.this)
            if bind is None:
                return exp.Null()
            if not 1 <= number <= len(literals):
                raise SqlError(f"the query uses parameter ${number} but {len(literals)} "
                               "were bound")
            return literals[number - 1].copy()
        return node

    return tree.transform(replace).sql(dialect=dialect)


def _literal(index: int, value: bytes | None, oids: list[int], bind: Bind) -> exp.Expr:
    if value is None:
        return exp.Null()
    oid = oids[index] if index < len(oids) else 0
    formats = bind.param_formats
    binary = (formats[index] if len(formats) > 1 else formats[0] if formats else 0) == 1
    if binary:
        return _binary(index, value, oid)
    text = value.decode("utf-8", "strict")
    if oid in _INTEGERS or oid in _FLOATS or oid == values.NUMERIC:
        try:
            Decimal(text)
        except InvalidOperation as err:
            raise SqlError(f"parameter ${index + 1} is not a number: {text[:40]!r}") from err
        return exp.Literal.number(text)
    if oid == values.BOOL:
        return exp.Boolean(this=text.lower() in ("t", "true", "1", "on", "yes"))
    return exp.Literal.string(text)


def _binary(index: int, value: bytes, oid: int) -> exp.Expr:
    try:
        if oid in _INTEGERS:
            return exp.Literal.number(struct.unpack(_INTEGERS[oid], value)[0])
        if oid in _FLOATS:
            return exp.Literal.number(repr(struct.unpack(_FLOATS[oid], value)[0]))
        if oid == values.BOOL:
            return exp.Boolean(this=value == b"\x01")
        if oid in _TEXT_OIDS:
            return exp.Literal.string(value.decode("utf-8"))
    except (struct.error, UnicodeDecodeError) as err:
        raise SqlError(f"parameter ${index + 1} is malformed for its type") from err
    raise SqlError(f"parameter ${index + 1} is binary of type OID {oid}; send it as text")
