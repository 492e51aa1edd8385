"""Reading a contract file: YAML, the typed model, and the checks that need the rule kinds."""

from __future__ import annotations

import copy
from pathlib import Path

from lake.config.loading import parse, read_yaml
from lake.contracts.model import Contract
from lake.contracts.rules.registry import check_settings
from lake.errors import ConfigError


def parse_contract(data: object, origin: str, source: str | None = None) -> Contract:
    """Validate ``data`` (a parsed YAML mapping) as a contract of ``source``; errors name
    ``origin``, the key and the fix."""
    if isinstance(data, dict) and source is not None:
        given = data.get("source")
        if given is not None and given != source:
            raise ConfigError(f"{origin}: source: says {given!r} but the contract belongs to "
                              f"source {source!r}; remove the key or make them equal")
        data = copy.copy(data)  # a copy of the same type keeps the YAML line of each key
        data["source"] = source
    contract = parse(Contract, data, origin)
    check_settings(contract, origin)
    return contract


def load_contract(path: Path, source: str, origin: str | None = None) -> Contract:
    """Read and check one contract file of ``source``."""
    return parse_contract(read_yaml(path, "contract", origin), origin or str(path), source)
