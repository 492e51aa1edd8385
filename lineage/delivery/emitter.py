"""What a job calls to send its lineage: a client bound to the store, and an emit that never fails.

    client = make_client(settings.lineage_url, settings.lineage_spool_dir,
                         settings.lineage_transport)
    emit_safely(client, run_event("START", ...))
    ...
    emit_safely(client, run_event("COMPLETE", ...))

Lineage never fails a job: :func:`emit_safely` logs and returns on any error, and the transport
spools what the store cannot take yet (:mod:`lineage.delivery.replay` drains it later).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage.errors import TransportConfigError

if TYPE_CHECKING:
    from openlineage.client import OpenLineageClient

log = logging.getLogger(__name__)


def make_client(url: str, spool_dir: str | Path, transport: str = "store") -> OpenLineageClient:
    """An OpenLineage client sending to ``transport`` (see :mod:`lineage.delivery.destinations`:
    ``store``, ``file:PATH``, ``console``, ``http://…``, ``none``, or several separated by commas).

    ``url`` is the store's SQLAlchemy URL; ``spool_dir`` where undeliverable events wait.
    Nothing is opened until the first emit. Note that openlineage-python still honours
    ``OPENLINEAGE_DISABLED=true`` (the client then emits nothing).
    """
    from openlineage.client import OpenLineageClient
    from openlineage.client.transport import get_default_factory

    from lineage.delivery.destinations import client_config

    try:
        config = client_config(transport, store_url=url, spool_dir=spool_dir)
    except ValueError as err:
        raise TransportConfigError(f"lineage transport {transport!r}: {err}") from err
    return OpenLineageClient(transport=get_default_factory().create(config))


def emit_safely(client: Any, event: Any) -> None:
    """``client.emit(event)``, logging instead of raising whatever goes wrong."""
    try:
        client.emit(event)
    except Exception:
        log.warning(
            "could not emit lineage event %s; the job goes on without it",
            _describe(event),
            exc_info=True,
        )


def _describe(event: Any) -> str:
    event_type = getattr(getattr(event, "eventType", None), "value", "?")
    job = getattr(getattr(event, "job", None), "name", "?")
    run = getattr(getattr(event, "run", None), "runId", "?")
    return f"{event_type} {job} run {run}"
