"""Ids of rows that never change identity (types, contexts, dataset aliases), remembered per store
so that a repeated event skips their lookups (see :mod:`lineage.store.ingestion`)."""

from __future__ import annotations

import threading
from typing import Any

_KNOWN_LIMIT = 50_000  # remembered rows per store; past it the memory starts over


class KnownRows:
    """Ids of committed rows that never change identity, shared by a store's transactions.

    A transaction reads and adds through its own :class:`Pending` view; what it added becomes
    known to every other transaction only once it commits (a rolled-back insert is forgotten).
    """

    def __init__(self) -> None:
        self._rows: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    def begin(self) -> Pending:
        return Pending(self)

    def _publish(self, rows: dict[tuple[Any, ...], Any]) -> None:
        with self._lock:
            if len(self._rows) + len(rows) > _KNOWN_LIMIT:
                self._rows.clear()
            self._rows.update(rows)


class Pending:
    """One transaction's view of :class:`KnownRows`: what is known plus what it added."""

    def __init__(self, known: KnownRows) -> None:
        self._known = known
        self._new: dict[tuple[Any, ...], Any] = {}

    def get(self, key: tuple[Any, ...]) -> Any:
        if key in self._new:
            return self._new[key]
        return self._known._rows.get(key)

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        self._new[key] = value

    def commit(self) -> None:
        """Call after the transaction committed: its rows become known to every transaction."""
        if self._new:
            self._known._publish(self._new)
        self._new = {}
