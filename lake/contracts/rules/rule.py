"""A rule: one check on a row, derived from a contract, with its severity and ``mostly``.

Rule names are what quarantine records, batch counts, Great Expectations and lineage carry:
``type:<col>``, ``not_null:<col>``, ``range:<col>``, ``accepted_values:<col>``, ``duplicate``,
``unique:<keys>``, ``reference:<col>-><dataset>``, ``custom:<name>`` and ``malformed_record``.

Severity: ``warn`` keeps the row in silver and counts it; ``quarantine`` (the default) sends the row
to quarantine; ``fail`` also quarantines the row, and stops the batch (nothing written past bronze)
when fewer than ``mostly`` of the rows pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lake.contracts.model import Reference

MALFORMED = "malformed_record"


@dataclass(frozen=True)
class Rule:
    """One check on a row. ``name`` is what quarantine records carry, e.g. ``not_null:order_id``."""

    name: str
    kind: str
    column: str | None = None
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] = ()
    reference: Reference | None = None
    expr: str | None = None
    severity: str = "quarantine"
    mostly: float = 1.0
    description: str = ""
    environments: tuple[str, ...] | None = None  # None: every environment

    @property
    def quarantines(self) -> bool:
        return self.severity != "warn"


@dataclass(frozen=True)
class RowContext:
    """Helper columns a rule's failure condition may read, added by the validation transform:
    the parsed ``_rescued_data`` (values that did not fit their type, the corrupt record), the
    exact-copy flag, the count of distinct records per key, and each reference's match flag."""

    keys: tuple[str, ...] = ()
    rescued: str = "_rescued_map"
    duplicate: str = "_dup"
    key_count: str = "_key_count"
    references: dict[str, str] = field(default_factory=dict)  # rule name -> flag column
