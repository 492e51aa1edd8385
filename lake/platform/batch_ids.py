"""Batch ids: ``<yyyymmdd>-<nnn>``, the logical date and the delivery's number for that date.

Ids sort in (date, delivery) order, are unique per source, and are the only batch text that
reaches SQL, so they are checked wherever they arrive.
"""

from __future__ import annotations

import re
from datetime import date

from lake.errors import IngestError

BATCH_ID = re.compile(r"^(\d{8})-(\d{3})$")


def batch_id_for(logical_date: date, delivery: int) -> str:
    if not 1 <= delivery <= 999:
        raise IngestError(f"delivery number {delivery} for {logical_date} is out of range "
                          "(1-999 per logical date)")
    return f"{logical_date:%Y%m%d}-{delivery:03d}"


def check_batch_id(batch_id: str) -> str:
    """``batch_id`` if it has the form ``yyyymmdd-nnn``; IngestError otherwise."""
    if not isinstance(batch_id, str) or not BATCH_ID.match(batch_id):
        raise IngestError(f"batch id {batch_id!r} is not of the form yyyymmdd-nnn "
                          "(e.g. 20260103-001)")
    return batch_id


def delivery_number(batch_id: str) -> int:
    return int(BATCH_ID.match(check_batch_id(batch_id)).group(2))
