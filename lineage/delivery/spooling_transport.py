"""The one openlineage-python transport we add: a spool in front of the store or an HTTP endpoint.

openlineage-python builds a transport from a dotted ``type``, so any OpenLineage client — ours,
or Airflow's OpenLineage provider — can use it from configuration alone::

    AIRFLOW__OPENLINEAGE__TRANSPORT='{"type": "lineage.delivery.spooling_transport.SpoolingTransport",
        "store_url": "sqlite:////srv/lakehouse/lineage.db",
        "spool_dir": "/srv/lakehouse/lineage_spool"}'

or, in front of any openlineage transport (an HTTP endpoint such as Marquez or our server)::

    {"type": "lineage.delivery.spooling_transport.SpoolingTransport",
     "spool_dir": "/srv/lakehouse/lineage_spool/http-…",
     "transport": {"type": "http", "url": "http://127.0.0.1:5055"}}

(:func:`lineage.delivery.destinations.client_config` writes these from the transport setting.)

``emit`` never raises. Every emit first delivers what is spooled (oldest first, up to
:data:`REPLAY_PER_EMIT` events), then the event; if the destination is down the event is spooled
instead and a warning logged. An event the destination refuses as invalid (the store's
:class:`InvalidEventError`, an HTTP 4xx) goes to ``spool_dir/rejected/``.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openlineage.client.transport.transport import Config, Transport

from lineage.delivery.destinations import SPOOLING_TRANSPORT
from lineage.delivery.spool import drain, spool_event
from lineage.errors import InvalidEventError, TransportConfigError

if TYPE_CHECKING:
    from lineage.store.metadata_store import MetadataStore

log = logging.getLogger(__name__)

REPLAY_PER_EMIT = 100
"""Spooled events delivered before each emit: after a long outage the spool drains over the next
emits (or at once with ``lakehouse lineage replay``) instead of stalling one task for minutes."""
_EXAMPLE = (f'{{"type": "{SPOOLING_TRANSPORT}", "spool_dir": "/path/lineage_spool", '
            '"store_url": "sqlite:////path/lineage.db"}, or "transport": {"type": "http", '
            '"url": "http://127.0.0.1:5055"} instead of store_url')


@dataclass
class SpoolingConfig(Config):
    """Where events wait (``spool_dir``) and where they go: the store at ``store_url`` (a
    SQLAlchemy URL), or the openlineage transport configured by ``transport``."""

    spool_dir: str
    store_url: str | None = None
    transport: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> SpoolingConfig:
        missing = [] if params.get("spool_dir") else ["spool_dir"]
        store_url, transport = params.get("store_url"), params.get("transport")
        if transport is not None and not isinstance(transport, dict):
            raise TransportConfigError(
                f"{SPOOLING_TRANSPORT}'s transport must be the inner transport's config (an object), got "
                f"{transport!r}: write it like {_EXAMPLE}"
            )
        if bool(store_url) == bool(transport):
            missing.append("exactly one of store_url and transport")
        if missing:
            raise TransportConfigError(
                f"{SPOOLING_TRANSPORT} needs {' and '.join(missing)} in its transport config, e.g. {_EXAMPLE}"
            )
        return cls(spool_dir=str(params["spool_dir"]),
                   store_url=str(store_url) if store_url else None,
                   transport=dict(transport) if transport else None)


class StoreDestination:
    """The metadata store at ``url``, opened on first delivery (and again after a failed open)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._store: MetadataStore | None = None

    def __str__(self) -> str:
        return "lineage store"

    def deliver(self, payload: dict[str, Any]) -> None:
        self._open().ingest(payload)

    def deliver_many(self, payloads: list[dict[str, Any]]) -> None:
        """Record a batch in one transaction, all or nothing."""
        self._open().ingest_many(payloads)

    def close(self, timeout: float = -1) -> bool:
        if self._store is not None:
            self._store.close()
            self._store = None
        return True

    def _open(self) -> MetadataStore:
        if self._store is None:
            from lineage.store.metadata_store import MetadataStore

            self._store = MetadataStore(self.url)
        return self._store


class EndpointDestination:
    """Any openlineage transport (an HTTP endpoint above all), built from its ``config``."""

    deliver_many = None  # one event per request: an endpoint takes no batches

    def __init__(self, config: dict[str, Any]) -> None:
        from openlineage.client.transport import get_default_factory

        self.config = config
        self.inner = get_default_factory().create(config)

    def __str__(self) -> str:
        where = self.config.get("url") or self.config.get("type")
        return f"lineage endpoint {where}"

    def deliver(self, payload: dict[str, Any]) -> None:
        """Send one event; :class:`InvalidEventError` when the endpoint refuses it (HTTP 4xx)."""
        try:
            self.inner.emit(payload)
        except Exception as err:
            status = getattr(getattr(err, "response", None), "status_code", None)
            if status is not None and 400 <= status < 500 and status not in (408, 429):
                raise InvalidEventError(f"HTTP {status}: {err}") from err
            raise

    def close(self, timeout: float = -1) -> bool:
        return self.inner.close(timeout)


class SpoolingTransport(Transport):
    """Emit = deliver what is spooled, then the event; on failure spool it. Never raises."""

    kind = "lineage_spooling"
    config_class = SpoolingConfig

    def __init__(self, config: SpoolingConfig) -> None:
        self.config = config
        self.destination: StoreDestination | EndpointDestination = (
            StoreDestination(config.store_url) if config.store_url
            else EndpointDestination(config.transport or {})
        )
        # One emit at a time: two draining the same spool at once would deliver a file twice.
        self._lock = threading.Lock()

    def emit(self, event: Any) -> None:
        """Deliver ``event`` (an openlineage event object or its dict); never raises."""
        try:
            payload = _as_dict(event)
        except Exception:
            log.exception("cannot serialize lineage event %r; it is not delivered", event)
            return
        with self._lock:
            try:
                self._drain(REPLAY_PER_EMIT)
                self.destination.deliver(payload)
            except InvalidEventError as err:
                self._keep(payload, err, rejected=True)
            except Exception as err:
                self._keep(payload, err, rejected=False)

    def replay(self) -> int:
        """Deliver everything spooled, oldest first; the number delivered. Raises the
        destination's error (e.g. :class:`StoreUnavailableError`) if it is still down."""
        with self._lock:
            return self._drain(None)

    def close(self, timeout: float = -1) -> bool:
        with self._lock:
            return self.destination.close(timeout)

    def _drain(self, limit: int | None) -> int:
        return drain(self.config.spool_dir, self.destination.deliver, limit,
                     deliver_many=self.destination.deliver_many)

    def _keep(self, payload: dict[str, Any], err: Exception, *, rejected: bool) -> None:
        what = _describe(payload)
        try:
            path = spool_event(self.config.spool_dir, payload, rejected=rejected)
        except Exception:
            log.exception(
                "lineage event %s could not be delivered (%s) nor spooled to %s; the event "
                "follows so it can be replayed by hand: %s",
                what, err, self.config.spool_dir, json.dumps(payload, sort_keys=True),
            )
            return
        if rejected:
            log.warning("lineage event %s refused by the %s (%s); kept in %s",
                        what, self.destination, err, path)
        else:
            log.warning(
                "%s unavailable (%s); event %s spooled to %s and delivered by the next "
                "successful emit or `lakehouse lineage replay`",
                self.destination, err, what, path,
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
