"""The transport setting: where lineage events go — the store, an NDJSON file, the console, an HTTP
endpoint, or several.

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
lose an event: both go through :mod:`lineage.delivery.spooling_transport`, which spools what they
cannot take now (the store's spool at ``spool_dir``, each HTTP endpoint's under
``spool_dir/http-<digest>``) for the next emit or :mod:`lineage.delivery.replay` to deliver.

Nothing heavy is imported here: settings validation uses :func:`parse_transports`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

KINDS = ("store", "file", "console", "http", "none")
DEFAULT_ENDPOINT = "api/v1/lineage"
HTTP_TIMEOUT_S = 5.0
SPOOLING_TRANSPORT = "lineage.delivery.spooling_transport.SpoolingTransport"
"""The dotted ``type`` of :class:`lineage.delivery.spooling_transport.SpoolingTransport` (a
string, so that parsing a setting does not import openlineage-python)."""
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
        return {"type": SPOOLING_TRANSPORT, "store_url": store_url, "spool_dir": str(spool_dir)}
    if destination.kind == "file":
        return {"type": "file", "log_file_path": destination.target, "append": True}
    if destination.kind == "console":
        return {"type": "console"}
    if destination.kind == "none":
        return {"type": "noop"}
    return {"type": SPOOLING_TRANSPORT,
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
