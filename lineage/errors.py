"""The lineage package's error tree: one root, specific subclasses, messages that say what to do.

``lineage`` imports nothing else of ours, so its root is its own; callers that want one tree can
catch :class:`LineageError` next to their own root.
"""

from __future__ import annotations


class LineageError(Exception):
    """Root of every error the lineage package raises on purpose."""


class InvalidLocationError(LineageError):
    """A dataset location cannot be named by the OpenLineage naming spec."""


class InvalidEventError(LineageError):
    """An event cannot be built or ingested: a field is missing or malformed.

    Retrying will not help; the message names the field and the fix.
    """


class StoreUnavailableError(LineageError):
    """The metadata store cannot be opened or written (down, unwritable, wrong URL)."""


class TransportConfigError(LineageError):
    """The OpenLineage transport configuration is missing a key or has a bad value."""


class UnknownNodeError(LineageError):
    """A lineage query named a dataset, table, path or job the store has never seen."""

    def __init__(self, node: str, close_matches: list[str], known_tables: list[str]) -> None:
        self.node = node
        self.close_matches = close_matches
        self.known_tables = known_tables
        if close_matches:
            hint = "close matches: " + ", ".join(close_matches)
        elif known_tables:
            hint = "nothing close; known tables: " + ", ".join(known_tables)
        else:
            hint = "the store has recorded no datasets yet"
        super().__init__(
            f"unknown lineage node {node!r}: no dataset, table, path or job by that name is in "
            f"the metadata store ({hint}). Run `lakehouse lineage events` to see what has been "
            "recorded, and pass a table name (e.g. shop_silver.orders), a dataset path or a job name."
        )


class QueryError(LineageError):
    """A lineage query got an argument it cannot use; the message names it."""


class UnknownRunError(LineageError):
    """A query named a run id the store has never seen."""


class BadRequest(LineageError):
    """A query argument is missing or malformed (a time, a depth, a required parameter); the
    message names it. The server answers HTTP 400."""
