"""Where lineage events go: the store, an NDJSON file, the console, an HTTP endpoint, or several.

A transport setting is a comma-separated list of destinations::

    store                               the metadata store (the default)
    file:/var/log/lineage.ndjson        one JSON event per line, appended
    console                             the log (openlineage's console transport)
    http://127.0.0.1:5000               an OpenLineage HTTP endpoint such as Marquez (path
                                        defaults to /api/v1/lineage)
    none                                emit nothing
    store,file:/tmp/ol.ndjson           several at once

:func:`parse_transports` checks a setting (``ValueError`` naming the bad part and the fix);
:func:`client_config` turns it into openlineage-python's ``transport`` config (``composite`` for
several), usable by our jobs and by Airflow's provider alike. The store and HTTP destinations never
lose an event: what they cannot take now is spooled to disk (the store's spool at ``spool_dir``,
each HTTP endpoint's under ``spool_dir/http-<digest>``) and delivered by the next emit or by
:func:`replay_all` (``lakehouse lineage replay``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from openlineage.client.transport.transport import Config, Transport

from lineage.errors import InvalidEventError, TransportConfigError
from lineage.spool import drain, spool_event

log = logging.getLogger(__name__)

KINDS = ("store", "file", "console", "http", "none")
DEFAULT_ENDPOINT = "api/v1/lineage"
HTTP_TIMEOUT_S = 5.0
REPLAY_PER_EMIT = 100
SYNTAX = ("use store, console, none, file:PATH, http(s)://HOST[:PORT][/PATH], or several "
          "separated by commas, e.g. store,file:/var/log/lineage.ndjson")


@dataclass(frozen=True)
class Destination:
    """One place events go: ``kind`` is one of :data:`KINDS`; ``target`` the file or URL."""

    kind: str
    target: str | None = None


def parse_transports(text: str) -> tuple[Destination, ...]:
    """The destinations of a transport setting; ``ValueError`` saying what is wrong and how."""
    parts = [p.strip() for p in str(text).split(",")]
    if not any(parts):
        raise ValueError(f"is empty: {SYNTAX}")
    found = []
    for part in parts:
        if not part:
            raise ValueError(f"{text!r} has an empty destination between commas: {SYNTAX}")
        found.append(_destination(part))
    if len(found) > 1 and any(d.kind == "none" for d in found):
        raise ValueError(f"{text!r} combines none with other destinations: use none alone")
    if len(set(found)) != len(found):
        raise ValueError(f"{text!r} names a destination twice: list each once")
    return tuple(found)


def _destination(part: str) -> Destination:
    lowered = part.lower()
    if lowered in ("store", "console", "none"):
        return Destination(lowered)
    if lowered.startswith("file:"):
        path = part[len("file:"):].removeprefix("//")
        if not path:
            raise ValueError(f"{part!r} has no path: write file:/path/to/events.ndjson")
        return Destination("file", path)
    if lowered.startswith(("http://", "https://")):
        if not urlsplit(part).hostname:
            raise ValueError(f"{part!r} has no host: write it like http://127.0.0.1:5000")
        return Destination("http", part)
    raise ValueError(f"{part!r} is not a lineage transport: {SYNTAX}")


def client_config(
    transports: str | tuple[Destination, ...], *, store_url: str, spool_dir: str | Path
) -> dict[str, Any]:
    """openlineage-python's ``transport`` config for ``transports`` (a setting or parsed)."""
    destinations = parse_transports(transports) if isinstance(transports, str) else transports
    configs = [_config(d, store_url, Path(spool_dir)) for d in destinations]
    if len(configs) == 1:
        return configs[0]
    # Every destination gets every event; one failing does not stop the others.
    return {"type": "composite", "transports": configs, "continue_on_failure": True,
            "continue_on_success": True}


def _config(destination: Destination, store_url: str, spool_dir: Path) -> dict[str, Any]:
    if destination.kind == "store":
        return {"type": "lineage.transport.StoreTransport", "url": store_url,
                "spool_dir": str(spool_dir)}
    if destination.kind == "file":
        return {"type": "file", "log_file_path": destination.target, "append": True}
    if destination.kind == "console":
        return {"type": "console"}
    if destination.kind == "none":
        return {"type": "noop"}
    return {"type": "lineage.transports.SpoolingTransport",
            "spool_dir": str(http_spool_dir(spool_dir, destination.target)),
            "transport": http_config(destination.target)}


def http_config(url: str) -> dict[str, Any]:
    """openlineage's HTTP transport for ``url``, failing fast (the spool retries, not the job)."""
    parts = urlsplit(url)
    return {"type": "http", "url": f"{parts.scheme}://{parts.netloc}",
            "endpoint": parts.path.strip("/") or DEFAULT_ENDPOINT, "timeout": HTTP_TIMEOUT_S,
            "retry": {"total": 0, "connect": 0, "read": 0}}


def http_spool_dir(spool_dir: str | Path, url: str) -> Path:
    """Where events for the HTTP endpoint ``url`` wait while it is unreachable."""
    return Path(spool_dir) / f"http-{hashlib.sha256(url.encode()).hexdigest()[:12]}"


@dataclass
class SpoolingConfig(Config):
    """Any openlineage transport (``transport``: its config) with a spool in front of it."""

    transport: dict[str, Any]
    spool_dir: str

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> SpoolingConfig:
        if not isinstance(params.get("transport"), dict) or not params.get("spool_dir"):
            raise TransportConfigError(
                "lineage.transports.SpoolingTransport needs transport (the inner transport's "
                'config) and spool_dir, e.g. {"type": "lineage.transports.SpoolingTransport", '
                '"spool_dir": "/path/spool/http", "transport": {"type": "http", '
                '"url": "http://127.0.0.1:5000"}}'
            )
        return cls(transport=dict(params["transport"]), spool_dir=str(params["spool_dir"]))


class SpoolingTransport(Transport):
    """Emit = deliver what is spooled, then the event; on failure spool it. Never raises."""

    kind = "lineage_spooling"
    config_class = SpoolingConfig

    def __init__(self, config: SpoolingConfig) -> None:
        from openlineage.client.transport import get_default_factory

        self.config = config
        self.inner = get_default_factory().create(config.transport)
        self._lock = threading.Lock()

    def emit(self, event: Any) -> None:
        try:
            payload = _as_dict(event)
        except Exception:
            log.exception("cannot serialize lineage event %r; it is not sent", event)
            return
        with self._lock:
            try:
                drain(self.config.spool_dir, self.deliver, REPLAY_PER_EMIT)
                self.deliver(payload)
            except InvalidEventError as err:
                spool_event(self.config.spool_dir, payload, rejected=True)
                log.warning("lineage event refused by %s (%s); kept in %s/rejected",
                            self.inner, err, self.config.spool_dir)
            except Exception as err:
                path = spool_event(self.config.spool_dir, payload)
                log.warning("lineage endpoint %s unreachable (%s); event spooled to %s and "
                            "delivered by the next emit or `lakehouse lineage replay`",
                            self.inner, err, path)

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


def replay_all(
    transports: str, *, store_url: str, spool_dir: str | Path
) -> dict[str, int]:
    """Deliver every spool of ``transports``: ``{destination: events delivered}``.

    Raises the destination's error (e.g. :class:`StoreUnavailableError`) if one is still down;
    what it did not take stays spooled.
    """
    from lineage.spool import replay_spool

    delivered = {}
    for destination in parse_transports(transports):
        if destination.kind == "store":
            delivered["store"] = replay_spool(store_url, spool_dir)
        elif destination.kind == "http":
            sender = SpoolingTransport(SpoolingConfig(
                transport=http_config(destination.target),
                spool_dir=str(http_spool_dir(spool_dir, destination.target))))
            delivered[destination.target] = drain(sender.config.spool_dir, sender.deliver)
    return delivered


def _as_dict(event: Any) -> dict[str, Any]:
    if isinstance(event, dict):
        return json.loads(json.dumps(event))
    from openlineage.client.serde import Serde

    return json.loads(Serde.to_json(event))
