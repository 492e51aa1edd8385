"""Deliver what the spools hold: ``lakehouse lineage replay``, and the store's spool on its own.

Every destination of the transport setting that spools (the store, each HTTP endpoint) is drained
oldest first through the same :class:`~lineage.delivery.spooling_transport.SpoolingTransport` that
spooled it; what a destination still cannot take stays spooled.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lineage.delivery.destinations import http_config, http_spool_dir, parse_transports
from lineage.delivery.spool import drain

if TYPE_CHECKING:
    from lineage.store.metadata_store import MetadataStore


def replay(store: MetadataStore, spool_dir: str | Path, limit: int | None = None) -> int:
    """Ingest spooled events into the open ``store``, oldest first, at most ``limit`` (None: all),
    a batch per transaction; the number drained. An event the store refuses is set aside in
    ``rejected/``; a store failure raises :class:`StoreUnavailableError`, leaving the rest."""
    return drain(spool_dir, store.ingest, limit, deliver_many=store.ingest_many)


def replay_spool(url: str, spool_dir: str | Path) -> int:
    """Open the store at ``url`` and :func:`replay` the spool into it; the number drained.

    Raises :class:`StoreUnavailableError` if the store is still unreachable.
    """
    from lineage.store.metadata_store import MetadataStore

    store = MetadataStore(url)
    try:
        return replay(store, spool_dir)
    finally:
        store.close()


def replay_all(
    transports: str, *, store_url: str, spool_dir: str | Path
) -> dict[str, int]:
    """Deliver every spool of ``transports`` (a transport setting): ``{destination: events
    delivered}``, ``"store"`` or the endpoint URL.

    Raises the destination's error (e.g. :class:`StoreUnavailableError`) if one is still down;
    what it did not take stays spooled.
    """
    from lineage.delivery.spooling_transport import SpoolingConfig, SpoolingTransport

    delivered = {}
    for destination in parse_transports(transports):
        if destination.kind == "store":
            delivered["store"] = replay_spool(store_url, spool_dir)
        elif destination.kind == "http":
            transport = SpoolingTransport(SpoolingConfig(
                spool_dir=str(http_spool_dir(spool_dir, destination.target)),
                transport=http_config(destination.target)))
            try:
                delivered[destination.target] = transport.replay()
            finally:
                transport.close()
    return delivered
