"""Helpers shared by the ``lakehouse lineage`` commands: the store, JSON, tables, times, names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lineage.store.metadata_store import MetadataStore


@contextmanager
def open_store() -> Iterator[MetadataStore]:
    """The store named by the settings (``LAKEHOUSE_LINEAGE_URL``), closed afterwards."""
    from lake.config.settings import load_settings
    from lineage.store.metadata_store import MetadataStore

    store = MetadataStore(load_settings().lineage_url)
    try:
        yield store
    finally:
        store.close()


def print_payload(payload: Any, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(payload, indent=2, default=str))
    else:
        print(payload)


def names_of(store: MetadataStore, keys: list[str]) -> dict[str, str]:
    """Dataset key -> its table name if it has one, else its name (path)."""
    if not keys:
        return {}
    summaries = store.datasets(set(keys))
    return {k: (s.tables[0] if s.tables else s.name) for k, s in summaries.items()} | {
        k: k for k in keys if k not in summaries
    }


def change_text(change: Any) -> str:
    if isinstance(change, tuple | list) and len(change) == 2:
        a, b = change
        return f"{value_text(a)} -> {value_text(b)}"
    return json.dumps(change, default=str)


def value_text(value: Any) -> str:
    return "(none)" if value is None else str(value)


def when(moment: Any) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "-"


def table(header: tuple[str, ...] | None, rows: list[tuple[Any, ...]], indent: str = "") -> str:
    lines = ([header] if header else []) + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        indent + "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
