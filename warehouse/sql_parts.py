"""Small pieces of Spark SQL the warehouse loads are written with: literals, keys, row hashes.

Values put into generated SQL are never free text: timestamps are formatted by Python, batch ids
match ``yyyymmdd-nnn``, names are checked identifiers (:func:`ident`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from lake.platform.batch_ids import check_batch_id

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
INFERRED_FROM = datetime(1900, 1, 1)  # valid_from of an inferred member: valid since always
# A MERGE whose source comes from a batch of at most this many rows broadcasts it to its joins with
# the target (about 10 MB of dimension rows: Spark's own broadcast threshold)
BROADCAST_ROWS = 50_000


def ident(name: str) -> str:
    """``name`` as a SQL identifier (backquoted); ValueError for anything but a plain name."""
    if not _IDENT.match(name):
        raise ValueError(f"{name!r} is not a plain column or table name")
    return f"`{name}`"


def columns(names: Iterable[str], prefix: str = "") -> str:
    return ", ".join(f"{prefix}{ident(n)}" for n in names)


def ts(value: datetime) -> str:
    """A TIMESTAMP literal (UTC, microseconds; a naive value is taken as UTC)."""
    naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return f"TIMESTAMP '{naive.isoformat(sep=' ', timespec='microseconds')}'"


def batch(batch_id: str) -> str:
    """A batch id literal (checked: ``yyyymmdd-nnn``)."""
    return f"'{check_batch_id(batch_id)}'"


def batch_list(batch_ids: Iterable[str]) -> str:
    return ", ".join(batch(b) for b in batch_ids)


def equal(keys: Iterable[str], left: str, right: str, right_prefix: str = "") -> str:
    """``left.k1 = right.k1 AND ...`` (``right_prefix`` renames the right side's columns)."""
    return " AND ".join(f"{left}.{ident(k)} = {right}.{ident(right_prefix + k)}" for k in keys)


def row_hash(tracked: Iterable[str], alias: str = "") -> str:
    """SHA-256 over the tracked columns; NULL and an empty string hash differently."""
    prefix = f"{alias}." if alias else ""
    parts = ", ".join(f"coalesce(CAST({prefix}{ident(c)} AS STRING), chr(0))" for c in tracked)
    return f"sha2(concat_ws(chr(1), {parts}), 256)"


def surrogate(keys: Iterable[str], alias: str, valid_from: str | None) -> str:
    """``xxhash64`` of the business key (and the version's start): stable across re-runs."""
    args = [f"{alias}.{ident(k)}" for k in keys] + ([valid_from] if valid_from else [])
    return f"xxhash64({', '.join(args)})"


def merge_source(select: str, *, broadcast: bool) -> str:
    """``select`` as a MERGE's source (parenthesised). ``broadcast``: the source is small (see
    :data:`BROADCAST_ROWS`) and hinted so, so that the MERGE's scans of its target join it by
    broadcast instead of shuffling and sorting every target row: Delta materialises a MERGE's
    source without the size Spark would need to choose that itself, and keeps the hint."""
    return f"(SELECT /*+ BROADCAST */ * FROM ({select}) AS small)" if broadcast else f"({select})"
