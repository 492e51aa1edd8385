"""Connectors by name: each is a module with a ``Delivery`` model (the ``deliveries:`` block),
``dataset_model()`` (one dataset's keys), ``NEEDS_SPARK`` and ``land(...)``. A new connector is one
module and one line here. Modules are imported when first asked for."""

from __future__ import annotations

import importlib
from types import ModuleType

from lake.errors import ConfigError

CONNECTORS: dict[str, str] = {
    "files": "lake.ingest.connectors.files",
    "jdbc": "lake.ingest.connectors.jdbc",
}


def connector_module(name: str) -> ModuleType:
    if name not in CONNECTORS:
        raise ConfigError(f"unknown connector {name!r}; use one of {', '.join(CONNECTORS)}")
    return importlib.import_module(CONNECTORS[name])
