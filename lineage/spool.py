"""The spool: events that could not reach the metadata store, kept as files until they can.

Each event is one JSON file, written atomically (temporary file, fsync, rename) under a name that
sorts in emission order (``<nanoseconds>-<uuid>.json``), so concurrent writers never clash and
readers never see half a file. :func:`replay` ingests the files oldest first and deletes each
only after the store has recorded it; ingestion is idempotent, so a replay that is interrupted,
or two replays racing, never record an event twice.

An event the store rejects as invalid is moved to ``rejected/`` under the spool folder: retrying
would never succeed, and deleting it would lose it.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage.errors import InvalidEventError

if TYPE_CHECKING:
    from lineage.store import MetadataStore

log = logging.getLogger(__name__)

REJECTED = "rejected"


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
    """The spooled event files waiting for replay, oldest first."""
    folder = Path(spool_dir)
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.json"))


def replay(store: MetadataStore, spool_dir: str | Path, limit: int | None = None) -> int:
    """Ingest spooled events into ``store``, oldest first, at most ``limit`` (None: all); the
    number of files drained.

    Stops at the first store failure (raising :class:`StoreUnavailableError`), leaving that file
    and every later one in place for the next replay.
    """
    return drain(spool_dir, store.ingest, limit)


def drain(
    spool_dir: str | Path, deliver: Callable[[dict[str, Any]], Any], limit: int | None = None
) -> int:
    """Hand spooled events to ``deliver``, oldest first, deleting each once delivered; the
    number delivered. ``deliver`` raises :class:`InvalidEventError` for an event that will never
    be accepted (it is moved to ``rejected/``); any other error stops the drain and propagates.
    """
    drained = 0
    for path in spooled(spool_dir)[:limit]:
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue  # another replay took it
        except (OSError, ValueError) as err:
            _reject(path, spool_dir, f"unreadable: {err}")
            continue
        try:
            deliver(payload)
        except InvalidEventError as err:
            _reject(path, spool_dir, str(err))
            continue
        path.unlink(missing_ok=True)
        drained += 1
    if drained:
        log.info("delivered %s spooled lineage events from %s", drained, spool_dir)
    return drained


def replay_spool(url: str, spool_dir: str | Path) -> int:
    """Open the store at ``url`` and :func:`replay` the spool into it; the number drained.

    Raises :class:`StoreUnavailableError` if the store is still unreachable.
    """
    from lineage.store import MetadataStore

    store = MetadataStore(url)
    try:
        return replay(store, spool_dir)
    finally:
        store.close()


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
