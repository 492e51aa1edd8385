"""Session statements a PostgreSQL client sends besides queries: ``BEGIN``/``COMMIT``, ``SET``,
``SHOW``, ``RESET``. Each is recognised by exact shape (an allow-list of statement forms and of
parameter names) and answered by the endpoint itself; Spark never sees them.

Pure: :func:`parse_session_statement` turns text into a :class:`SessionStatement` (or None for a
query), :func:`check_value` validates a parameter's new value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from lake.errors import SqlError

SERVER_VERSION = "16.0"
"""The PostgreSQL version the endpoint says it speaks (clients pick features by it)."""

SESSION_DEFAULTS: dict[str, str] = {
    "application_name": "", "client_encoding": "UTF8", "DateStyle": "ISO, MDY",
    "extra_float_digits": "1", "integer_datetimes": "on", "IntervalStyle": "postgres",
    "is_superuser": "off", "server_encoding": "UTF8", "server_version": SERVER_VERSION,
    "standard_conforming_strings": "on", "TimeZone": "UTC", "client_min_messages": "notice",
    "transaction_isolation": "read committed", "transaction_read_only": "on",
    "default_transaction_read_only": "on", "search_path": "", "statement_timeout": "",
    "lakehouse.dialect": "", "lakehouse.row_limit": "",
}  # fmt: skip
"""Every parameter a client may SET or SHOW (search_path, statement_timeout and the lakehouse
ones are filled in from the endpoint's settings)."""

REPORTED = ("application_name", "client_encoding", "DateStyle", "integer_datetimes",
            "IntervalStyle", "is_superuser", "server_encoding", "server_version",
            "standard_conforming_strings", "TimeZone")
"""Parameters sent to the client at start-up (ParameterStatus), as PostgreSQL does."""

READ_ONLY_PARAMETERS = frozenset({"integer_datetimes", "is_superuser", "server_encoding",
                                  "server_version", "transaction_read_only",
                                  "default_transaction_read_only"})
_CANONICAL = {name.lower(): name for name in SESSION_DEFAULTS}
_NAME = r"[A-Za-z_][A-Za-z0-9_.]{0,62}"
_VALUE = r"'(?:[^']|'')*'|\"[^\"]*\"|[A-Za-z0-9_.+:/-]+"
_END = r"\s*;?\s*\Z"
_TRANSACTION = re.compile(rf"\A\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT)"
                          rf"(?:\s+(?:WORK|TRANSACTION|ISOLATION|LEVEL|READ|ONLY|WRITE|COMMITTED|"
                          rf"UNCOMMITTED|REPEATABLE|SERIALIZABLE|DEFERRABLE|NOT|,))*{_END}", re.I)
_SET = re.compile(rf"\A\s*SET\s+(?:SESSION\s+|LOCAL\s+)?(?P<name>{_NAME})\s*(?:=|\s+TO\s+)\s*"
                  rf"(?P<values>(?:{_VALUE})(?:\s*,\s*(?:{_VALUE}))*){_END}", re.I)
_SET_TIME_ZONE = re.compile(rf"\A\s*SET\s+(?:SESSION\s+|LOCAL\s+)?TIME\s+ZONE\s+"
                            rf"(?P<values>{_VALUE}){_END}", re.I)
_SET_CHARACTERISTICS = re.compile(r"\A\s*SET\s+SESSION\s+CHARACTERISTICS\s+AS\s+TRANSACTION"
                                  r"(?:\s+(?:ISOLATION|LEVEL|READ|ONLY|COMMITTED|,))+" + _END,
                                  re.I)
_SHOW = re.compile(rf"\A\s*SHOW\s+(?P<name>{_NAME}|TRANSACTION\s+ISOLATION\s+LEVEL|TIME\s+ZONE)"
                   rf"{_END}", re.I)
_RESET = re.compile(rf"\A\s*(?:RESET\s+(?P<name>{_NAME})|DISCARD\s+ALL){_END}", re.I)
_ALIASES = {"transaction isolation level": "transaction_isolation", "time zone": "TimeZone"}
_CATALOG_SHOW = frozenset({"tables", "databases", "schemas", "columns"})
_VALUE_TOKEN = re.compile(_VALUE)


@dataclass(frozen=True)
class SessionStatement:
    """``transaction`` (``name``: BEGIN, COMMIT or ROLLBACK), ``set``, ``show`` or ``reset``
    (``name`` None: every parameter)."""

    kind: Literal["transaction", "set", "show", "reset"]
    name: str | None = None
    value: str = ""


def parse_session_statement(sql: str) -> SessionStatement | None:
    """The session statement ``sql`` is, or None when it is not one (a query, or anything else
    for the query path to check). Raises :class:`SqlError` for a parameter it does not know."""
    if match := _TRANSACTION.match(sql):
        word = match.group(1).split()[0].upper()
        name = {"START": "BEGIN", "END": "COMMIT", "ABORT": "ROLLBACK"}.get(word, word)
        return SessionStatement("transaction", name)
    if _SET_CHARACTERISTICS.match(sql):
        return SessionStatement("set", None)
    if match := _SET_TIME_ZONE.match(sql) or _SET.match(sql):
        name = _ALIASES["time zone"] if "name" not in match.groupdict() else match.group("name")
        return SessionStatement("set", parameter(name), _unquote_list(match.group("values")))
    if match := _SHOW.match(sql):
        name = re.sub(r"\s+", " ", match.group("name")).lower()
        if name in _CATALOG_SHOW:
            return None  # SHOW TABLES and friends: the catalog's (warehouse.sql.browse)
        return SessionStatement("show", parameter(_ALIASES.get(name, name)))
    if match := _RESET.match(sql):
        name = match.group("name")
        return SessionStatement("reset", None if name is None or name.lower() == "all"
                                else parameter(name))
    return None


def parameter(name: str) -> str:
    """``name``'s canonical spelling; SqlError (SQLSTATE 42704) for one the endpoint lacks."""
    canonical = _CANONICAL.get(name.lower())
    if canonical is None:
        raise SqlError(f'unrecognized configuration parameter "{name}"; the endpoint knows '
                       f"{', '.join(sorted(SESSION_DEFAULTS, key=str.lower))}")
    return canonical


def check_value(name: str, value: str, max_rows: int, max_timeout: float) -> str:
    """``value`` for parameter ``name`` as it will be shown, once it is acceptable."""
    if name in READ_ONLY_PARAMETERS:
        raise SqlError(f'parameter "{name}" cannot be changed')
    if name == "client_encoding" and value.replace("-", "").upper() not in ("UTF8", "UNICODE"):
        raise SqlError("the endpoint speaks UTF8 only; set client_encoding to UTF8")
    if name == "standard_conforming_strings" and value.lower() != "on":
        raise SqlError("standard_conforming_strings is always on here")
    if name == "lakehouse.row_limit":  # at most the endpoint's own limit
        if not value.isdigit():
            raise SqlError(f"lakehouse.row_limit must be a number of rows, at most {max_rows:,} "
                           "(0: the endpoint's limit, LAKEHOUSE_SQL_ENDPOINT_ROW_LIMIT)")
        return str(min(int(value), max_rows) or max_rows)
    if name == "statement_timeout":
        seconds = timeout_seconds(value)
        return _seconds_text(max_timeout if seconds == 0 else min(seconds, max_timeout))
    if name == "extra_float_digits" and not re.fullmatch(r"-?\d{1,2}", value):
        raise SqlError("extra_float_digits must be an integer from -15 to 3")
    return value[:128]


def timeout_seconds(value: str) -> float:
    """PostgreSQL's ``statement_timeout`` value (``5000``, ``'5s'``, ``'2min'``) in seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h)?\s*", value or "")
    if not match:
        raise SqlError(f"invalid statement_timeout {value!r}: give milliseconds, or e.g. '30s', "
                       "'5min'")
    number, unit = float(match.group(1)), match.group(2) or "ms"
    return number * {"ms": 0.001, "s": 1, "min": 60, "h": 3600}[unit]


def _seconds_text(seconds: float) -> str:
    return f"{int(seconds * 1000)}ms"


def _unquote_list(values: str) -> str:
    items = [_unquote(token) for token in _VALUE_TOKEN.findall(values)]
    return ", ".join(items)


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] == "'":
        return token[1:-1].replace("''", "'")
    if len(token) >= 2 and token[0] == token[-1] == '"':
        return token[1:-1]
    return token
