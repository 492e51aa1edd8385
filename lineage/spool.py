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
REPLAY_BATCH = 500
"""Spooled events the store takes in one transaction during a replay."""


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

    Events go in :data:`REPLAY_BATCH` at a time, each batch in one transaction (a long outage's
    spool drains at the store's batch speed, not one commit per event). A batch holding an event
    the store refuses is retried one by one, so only that event is set aside in ``rejected/``.
    Stops at the first store failure (raising :class:`StoreUnavailableError`), leaving that
    batch and every later file in place for the next replay.
    """
    paths = spooled(spool_dir)[:limit]
    drained = 0
    for start in range(0, len(paths), REPLAY_BATCH):
        batch = [(path, payload) for path in paths[start:start + REPLAY_BATCH]
                 if (payload := _load(path, spool_dir)) is not None]
        try:
            store.ingest_many([payload for _, payload in batch])
        except InvalidEventError:
            drained += _deliver_each(batch, spool_dir, store.ingest)
            continue
        for path, _ in batch:
            path.unlink(missing_ok=True)
        drained += len(batch)
    if drained:
        log.info("replayed %s spooled lineage events from %s", drained, spool_dir)
    return drained


def drain(
    spool_dir: str | Path, deliver: Callable[[dict[str, Any]], Any], limit: int | None = None
) -> int:
    """Hand spooled events to ``deliver``, oldest first, deleting each once delivered; the
    number delivered. ``deliver`` raises :class:`InvalidEventError` for an event that will never
    be accepted (it is moved to ``rejected/``); any other error stops the drain and propagates.
    """
    batch = [(path, payload) for path in spooled(spool_dir)[:limit]
             if (payload := _load(path, spool_dir)) is not None]
    drained = _deliver_each(batch, spool_dir, deliver)
    if drained:
        log.info("delivered %s spooled lineage events from %s", drained, spool_dir)
    return drained


def _load(path: Path, spool_dir: str | Path) -> dict[str, Any] | None:
    """A spooled event, or None if another replay took it or it is unreadable (set aside)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None  # another replay took it
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
