"""The dates and timestamps lineage queries take: ``as_of`` (the graph as it stood then) and
``since`` (events from then on), from the CLI's options and the server's query parameters."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from lineage.errors import BadRequest


def parse_moment(text: str, *, end_of_day: bool = False, name: str = "time") -> datetime:
    """An ISO-8601 date or timestamp as aware UTC (naive means UTC). A bare date is midnight at
    its start, or with ``end_of_day`` the last instant of it ("as the graph stood on D").

    Raises :class:`BadRequest` naming ``name`` and the format to write.
    """
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            day = date.fromisoformat(text.strip())
            return datetime.combine(day, time.max if end_of_day else time.min, tzinfo=UTC)
        moment = datetime.fromisoformat(text.strip())
    except ValueError as err:
        raise BadRequest(
            f"{name} {text!r} is not an ISO-8601 date or timestamp: write it like 2024-01-31 or "
            "2024-01-31T06:00:00+00:00"
        ) from err
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
