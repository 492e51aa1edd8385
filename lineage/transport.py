"""An openlineage-python transport that writes events into our metadata store, never failing.

openlineage-python builds a transport from a dotted ``type``, so any OpenLineage client — ours,
or Airflow's OpenLineage provider — can use it from configuration alone::

    AIRFLOW__OPENLINEAGE__TRANSPORT='{"type": "lineage.transport.StoreTransport",
        "url": "sqlite:////srv/lakehouse/lineage.db", "spool_dir": "/srv/lakehouse/lineage_spool"}'

``emit`` never raises. Every emit first replays the spool (oldest first, up to
:data:`REPLAY_PER_EMIT` events), then ingests the event; if the store is
down (or unwritable) the event is spooled instead and a warning logged. An event the store rejects
as invalid goes to ``spool_dir/rejected/``.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openlineage.client.transport.transport import Config, Transport

from lineage.errors import InvalidEventError, TransportConfigError
from lineage.spool import replay, spool_event

if TYPE_CHECKING:
    from lineage.store import MetadataStore

log = logging.getLogger(__name__)

REPLAY_PER_EMIT = 100
"""Spooled events replayed before each emit: after a long outage the spool drains over the next
emits (or at once with ``lineage.spool.replay_spool``) instead of stalling one task for minutes."""


@dataclass
class StoreConfig(Config):
    """Where the store is (a SQLAlchemy URL) and where events wait while it is unreachable."""

    url: str
    spool_dir: str

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> StoreConfig:
        missing = [key for key in ("url", "spool_dir") if not params.get(key)]
        if missing:
            raise TransportConfigError(
                f"lineage.transport.StoreTransport needs {' and '.join(missing)} in its transport "
                'config, e.g. {"type": "lineage.transport.StoreTransport", '
                '"url": "sqlite:////path/lineage.db", "spool_dir": "/path/lineage_spool"}'
            )
        return cls(url=str(params["url"]), spool_dir=str(params["spool_dir"]))


class StoreTransport(Transport):
    """Emit = replay the spool, then ingest; on any failure spool the event and warn."""

    kind = "lineage_store"
    config_class = StoreConfig

    def __init__(self, config: StoreConfig) -> None:
        self.config = config
        self._store: MetadataStore | None = None
        self._lock = threading.Lock()

    def emit(self, event: Any) -> None:
        """Record ``event`` (an openlineage event object or its dict); never raises."""
        try:
            payload = _as_dict(event)
        except Exception:
            log.exception("cannot serialize lineage event %r; it is not recorded", event)
            return
        try:
            store = self._open()
            replay(store, self.config.spool_dir, limit=REPLAY_PER_EMIT)
            store.ingest(payload)
        except InvalidEventError as err:
            self._keep(payload, err, rejected=True)
        except Exception as err:
            self._keep(payload, err, rejected=False)

    def close(self, timeout: float = -1) -> bool:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
        return True

    def _open(self) -> MetadataStore:
        with self._lock:
            if self._store is None:
                from lineage.store import MetadataStore

                self._store = MetadataStore(self.config.url)
            return self._store

    def _keep(self, payload: dict[str, Any], err: Exception, *, rejected: bool) -> None:
        what = _describe(payload)
        try:
            path = spool_event(self.config.spool_dir, payload, rejected=rejected)
        except Exception:
            log.exception(
                "lineage event %s could not be recorded (%s) nor spooled to %s; the event "
                "follows so it can be replayed by hand: %s",
                what, err, self.config.spool_dir, json.dumps(payload, sort_keys=True),
            )
            return
        if rejected:
            log.warning("lineage event %s is invalid (%s); kept in %s", what, err, path)
        else:
            log.warning(
                "lineage store unavailable (%s); event %s spooled to %s and will be replayed on "
                "the next successful emit or by lineage.spool.replay_spool",
                err, what, path,
            )


def _as_dict(event: Any) -> dict[str, Any]:
    if isinstance(event, dict):
        return json.loads(json.dumps(event))
    from openlineage.client.serde import Serde

    return json.loads(Serde.to_json(event))


def _describe(payload: dict[str, Any]) -> str:
    job = payload.get("job") or {}
    run = payload.get("run") or {}
    return f"{payload.get('eventType', '?')} {job.get('name', '?')} run {run.get('runId', '?')}"
