"""The spool: events that could not be delivered yet, kept as files until they can.

Each event is one JSON file, written atomically (temporary file, fsync, rename) under a name that
sorts in emission order (``<nanoseconds>-<uuid>.json``), so concurrent writers never clash and
readers never see half a file. :func:`drain` hands the files to a destination oldest first and
deletes each only after the destination took it; the store's and our server's ingestion are
idempotent, so a drain that is interrupted, or two racing, never record an event twice.

An event the destination refuses as invalid is moved to ``rejected/`` under the spool folder:
retrying would never succeed, and deleting it would lose it.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lineage.errors import InvalidEventError

log = logging.getLogger(__name__)

REJECTED = "rejected"
BATCH = 500
"""Spooled events read at a time, and handed at once to a destination that takes batches (the
store records them in one transaction)."""


def spool_event(spool_dir: str | Path, payload: dict[str, Any], *, rejected: bool = False) -> Path:
    """Write ``payload`` as a new file in the spool (or its ``rejected/`` folder); its path.

    Raises ``OSError`` if the folder cannot be created or written.
    """
    folder = Path(spool_dir) / REJECTED if rejected else Path(spool_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{uuid.uuid4().hex}.json"
    temporary = folder / f".{name}.tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(payload, sort_keys=True))
            handle.flush()
            os.fsync(handle.fileno())
        final = folder / name
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)
    return final


def spooled(spool_dir: str | Path) -> list[Path]:
    """The spooled event files waiting for delivery, oldest first."""
    folder = Path(spool_dir)
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.json"))


def drain(
    spool_dir: str | Path,
    deliver: Callable[[dict[str, Any]], Any],
    limit: int | None = None,
    *,
    deliver_many: Callable[[list[dict[str, Any]]], Any] | None = None,
) -> int:
    """Hand spooled events to ``deliver``, oldest first, at most ``limit`` (None: all), deleting
    each once delivered; the number delivered.

    ``deliver`` raises :class:`InvalidEventError` for an event that will never be accepted (it is
    moved to ``rejected/``); any other error stops the drain and propagates, leaving that event
    and every later one in place. With ``deliver_many`` (all or nothing, like the store's
    ``ingest_many``), events go :data:`BATCH` at a time; a batch holding an event the destination
    refuses is retried one by one through ``deliver``, so only that event is set aside.
    """
    paths = spooled(spool_dir)[:limit]
    drained = 0
    for start in range(0, len(paths), BATCH):
        batch = [(path, payload) for path in paths[start:start + BATCH]
                 if (payload := _load(path, spool_dir)) is not None]
        if deliver_many is None or not batch:
            drained += _deliver_each(batch, spool_dir, deliver)
            continue
        try:
            deliver_many([payload for _, payload in batch])
        except InvalidEventError:
            drained += _deliver_each(batch, spool_dir, deliver)
            continue
        for path, _ in batch:
            path.unlink(missing_ok=True)
        drained += len(batch)
    if drained:
        log.info("delivered %s spooled lineage events from %s", drained, spool_dir)
    return drained


def _load(path: Path, spool_dir: str | Path) -> dict[str, Any] | None:
    """A spooled event, or None if another drain took it or it is unreadable (set aside)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None  # another drain took it
    except (OSError, ValueError) as err:
        _reject(path, spool_dir, f"unreadable: {err}")
        return None


def _deliver_each(
    batch: list[tuple[Path, dict[str, Any]]], spool_dir: str | Path,
    deliver: Callable[[dict[str, Any]], Any],
) -> int:
    drained = 0
    for path, payload in batch:
        try:
            deliver(payload)
        except InvalidEventError as err:
            _reject(path, spool_dir, str(err))
            continue
        path.unlink(missing_ok=True)
        drained += 1
    return drained


def _reject(path: Path, spool_dir: str | Path, reason: str) -> None:
    target = Path(spool_dir) / REJECTED
    target.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(path, target / path.name)
    except FileNotFoundError:
        return
    log.warning(
        "spooled lineage event %s cannot be recorded (%s); moved to %s for a person to inspect",
        path.name, reason, target,
    )
