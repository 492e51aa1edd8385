"""The PostgreSQL frontend/backend protocol (version 3.0), as far as the SQL endpoint speaks it:
reading a client's messages off a stream and building the server's, bounded in size.

Pure bytes in, bytes out: no sockets, no Spark (:mod:`warehouse.sql.endpoint.server` does I/O).
Message layouts follow the PostgreSQL documentation's "Message Formats" chapter.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

from lake.errors import SqlError

PROTOCOL_3 = 196608
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102

MAX_STARTUP_BYTES = 10_000
MAX_MESSAGE_BYTES = 1 << 20
"""Longest message a client may send (a query is at most 100,000 characters)."""


class ProtocolError(SqlError):
    """A client broke the protocol (or its limits): the connection ends with this message."""


@dataclass(frozen=True)
class Startup:
    """The first packet of a connection: a startup message, an SSL/GSS request or a cancel."""

    code: int
    params: dict[str, str]
    cancel: tuple[int, int] | None = None


def read_exactly(stream: BinaryIO, n: int) -> bytes:
    data = stream.read(n)
    if data is None or len(data) < n:
        raise EOFError("the client closed the connection")
    return data


def read_startup(stream: BinaryIO) -> Startup:
    (length,) = struct.unpack("!i", read_exactly(stream, 4))
    if not 8 <= length <= MAX_STARTUP_BYTES:
        raise ProtocolError(f"invalid startup packet length {length}")
    body = read_exactly(stream, length - 4)
    (code,) = struct.unpack("!i", body[:4])
    if code == CANCEL_REQUEST and len(body) == 12:
        return Startup(code, {}, struct.unpack("!ii", body[4:12]))
    if code != PROTOCOL_3:
        return Startup(code, {})
    fields = body[4:].split(b"\x00")
    params = {}
    for key, value in zip(fields[0::2], fields[1::2], strict=False):
        if key:
            params[_text(key)] = _text(value)
    return Startup(code, params)


def read_message(stream: BinaryIO) -> tuple[bytes, bytes]:
    """The next ``(type byte, body)`` the client sent."""
    kind = read_exactly(stream, 1)
    (length,) = struct.unpack("!i", read_exactly(stream, 4))
    if not 4 <= length <= MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {length:,} bytes is over the limit of "
                            f"{MAX_MESSAGE_BYTES:,}")
    return kind, read_exactly(stream, length - 4)


class Reader:
    """Fields of one message body, in order."""

    def __init__(self, body: bytes) -> None:
        self.body, self.at = body, 0

    def cstring(self) -> str:
        end = self.body.find(b"\x00", self.at)
        if end < 0:
            raise ProtocolError("malformed message: a string without its terminator")
        value, self.at = self.body[self.at:end], end + 1
        return _text(value)

    def int16(self) -> int:
        return self._unpack("!h", 2)

    def int32(self) -> int:
        return self._unpack("!i", 4)

    def take(self, n: int) -> bytes:
        if n < 0 or self.at + n > len(self.body):
            raise ProtocolError("malformed message: a field runs past its end")
        value, self.at = self.body[self.at:self.at + n], self.at + n
        return value

    def _unpack(self, fmt: str, size: int) -> int:
        return struct.unpack(fmt, self.take(size))[0]


@dataclass(frozen=True)
class Bind:
    portal: str
    statement: str
    param_formats: list[int]
    params: list[bytes | None]
    result_formats: list[int]


def parse_parse(body: bytes) -> tuple[str, str, list[int]]:
    """A Parse message: statement name, query text, parameter type OIDs."""
    r = Reader(body)
    name, query = r.cstring(), r.cstring()
    return name, query, [r.int32() for _ in range(r.int16())]


def parse_bind(body: bytes) -> Bind:
    r = Reader(body)
    portal, statement = r.cstring(), r.cstring()
    formats = [r.int16() for _ in range(r.int16())]
    params: list[bytes | None] = []
    for _ in range(r.int16()):
        size = r.int32()
        params.append(None if size == -1 else r.take(size))
    return Bind(portal, statement, formats, params, [r.int16() for _ in range(r.int16())])


def parse_target(body: bytes) -> tuple[str, str]:
    """A Describe or Close message: ``'S'`` (statement) or ``'P'`` (portal), and its name."""
    r = Reader(body)
    kind = r.take(1).decode("ascii", "replace")
    return kind, r.cstring()


def parse_execute(body: bytes) -> tuple[str, int]:
    r = Reader(body)
    return r.cstring(), r.int32()


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ProtocolError("the client sent text that is not UTF-8") from err


# -- the server's messages -------------------------------------------------------------------------


def message(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _cstr(value: str) -> bytes:
    return value.replace("\x00", "").encode("utf-8") + b"\x00"


def authentication(code: int, data: bytes = b"") -> bytes:
    """AuthenticationOk (0), SASL (10), SASLContinue (11), SASLFinal (12)."""
    return message(b"R", struct.pack("!i", code) + data)


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", _cstr(name) + _cstr(value))


def backend_key(pid: int, key: int) -> bytes:
    return message(b"K", struct.pack("!ii", pid, key))


def ready(status: str) -> bytes:
    """ReadyForQuery: ``I`` idle, ``T`` in a transaction block, ``E`` in a failed one."""
    return message(b"Z", status.encode("ascii"))


def row_description(fields: list[tuple[str, int, int]]) -> bytes:
    """``fields``: (name, type OID, type size) of each column, all sent as text."""
    body = struct.pack("!h", len(fields))
    for name, oid, size in fields:
        body += _cstr(name) + struct.pack("!ihihih", 0, 0, oid, size, -1, 0)
    return message(b"T", body)


def parameter_description(oids: list[int]) -> bytes:
    return message(b"t", struct.pack(f"!h{len(oids)}i", len(oids), *oids))


def data_row(values: list[bytes | None]) -> bytes:
    parts = [struct.pack("!h", len(values))]
    for value in values:
        parts.append(struct.pack("!i", -1) if value is None
                     else struct.pack("!i", len(value)) + value)
    return message(b"D", b"".join(parts))


def command_complete(tag: str) -> bytes:
    return message(b"C", _cstr(tag))


PARSE_COMPLETE = message(b"1")
BIND_COMPLETE = message(b"2")
CLOSE_COMPLETE = message(b"3")
NO_DATA = message(b"n")
PORTAL_SUSPENDED = message(b"s")
EMPTY_QUERY = message(b"I")


def _fields(severity: str, code: str, text: str, hint: str | None) -> bytes:
    body = (b"S" + _cstr(severity) + b"V" + _cstr(severity) + b"C" + _cstr(code)
            + b"M" + _cstr(text))
    if hint:
        body += b"H" + _cstr(hint)
    return body + b"\x00"


def error(code: str, text: str, *, fatal: bool = False, hint: str | None = None) -> bytes:
    """ErrorResponse with SQLSTATE ``code`` (e.g. ``42501`` insufficient privilege)."""
    return message(b"E", _fields("FATAL" if fatal else "ERROR", code, text, hint))


def notice(text: str, hint: str | None = None) -> bytes:
    return message(b"N", _fields("NOTICE", "00000", text, hint))
