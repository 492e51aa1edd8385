"""Anomaly report of one batch, TFDV-style: pure functions over the batch's schema changes, rule
counts and profile, and the previous batch's profile.

Anomaly types (``Anomaly.type``):

==================  ========================================================================
new_column          the batch has a column the contract does not (accepted under
                    ``add_columns``: severity warning; else error)
missing_column      a column the contract expects in the batch's environment is absent
type_mismatch       a column's type changed (widened, narrowed, incompatible), or values did
                    not fit the declared type
unexpected_values   categorical values outside ``accepted_values`` (most frequent listed)
out_of_range        values outside ``min``/``max``
null_fraction       more nulls than the column's ``max_null_fraction``
low_row_count       fewer rows than the contract's ``min_rows``
drift               the distribution moved from the previous batch by more than the column's
                    ``drift`` threshold: L-infinity distance of value frequencies for categorical
                    columns, Jensen-Shannon divergence (base 2, in [0, 1]) of the histogram on
                    the previous batch's deciles for numeric ones
==================  ========================================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from lake.contracts.model import Contract
from lake.contracts.rules.rule import Rule
from lake.quality.profile import ColumnProfile, Profile

ANOMALY_TYPES = ("new_column", "missing_column", "type_mismatch", "unexpected_values",
                 "out_of_range", "null_fraction", "low_row_count", "drift")
ERROR, WARNING = "error", "warning"
_SHOWN_VALUES = 10


@dataclass(frozen=True)
class Anomaly:
    type: str
    column: str | None
    severity: str
    description: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def detect(contract: Contract, environment: str, active: Sequence[Rule],
           by_rule: Mapping[str, int], profile: Profile, previous: Profile | None,
           changes: Sequence[Mapping[str, Any]]) -> list[Anomaly]:
    """Every anomaly of a batch, in a stable order (schema, values, volume, drift)."""
    found = schema_anomalies(changes)
    found += value_anomalies(active, by_rule, profile)
    found += null_anomalies(contract, environment, profile)
    if contract.min_rows is not None and profile.rows < contract.min_rows:
        found.append(Anomaly("low_row_count", None, ERROR,
                             f"{profile.rows} rows, fewer than min_rows {contract.min_rows}",
                             {"rows": profile.rows, "min_rows": contract.min_rows}))
    if previous is not None:
        found += drift_anomalies(contract, profile, previous)
    return found


def schema_anomalies(changes: Sequence[Mapping[str, Any]]) -> list[Anomaly]:
    out = []
    for c in changes:
        kind, column, accepted = c["kind"], c["column"], bool(c.get("accepted"))
        severity = WARNING if accepted or kind == "narrowed" else ERROR
        note = " (accepted: new contract version)" if accepted else ""
        if kind == "new_column":
            out.append(Anomaly("new_column", column, severity,
                               f"new column {column} ({c['observed_type']}){note}",
                               {"observed_type": c["observed_type"], "accepted": accepted}))
        elif kind == "missing_column":
            out.append(Anomaly("missing_column", column, ERROR,
                               f"column {column} ({c['contract_type']}) is missing",
                               {"contract_type": c["contract_type"]}))
        else:
            out.append(Anomaly("type_mismatch", column, severity,
                               f"column {column}: contract {c['contract_type']}, landed "
                               f"{c['observed_type']} ({kind}){note}",
                               {"change": kind, "contract_type": c["contract_type"],
                                "observed_type": c["observed_type"], "accepted": accepted}))
    return out


def value_anomalies(active: Sequence[Rule], by_rule: Mapping[str, int],
                    profile: Profile) -> list[Anomaly]:
    out = []
    rows = max(profile.rows, 1)
    for rule in active:
        n = by_rule.get(rule.name, 0)
        if not n or rule.column is None:
            continue
        p = profile.columns.get(rule.column)
        share = {"rows": n, "fraction": round(n / rows, 6)}
        if rule.kind == "type":
            out.append(Anomaly("type_mismatch", rule.column, ERROR,
                               f"{n} value(s) of {rule.column} are not valid {p.type if p else ''}",
                               {**share, "change": "values"}))
        elif rule.kind == "accepted_values":
            unexpected = {v: c for v, c in (p.values if p else {}).items() if v not in rule.values}
            top = dict(sorted(unexpected.items(), key=lambda kv: (-kv[1], kv[0]))[:_SHOWN_VALUES])
            out.append(Anomaly("unexpected_values", rule.column, ERROR,
                               f"{n} row(s) with {rule.column} outside {list(rule.values)}: "
                               + ", ".join(f"{v!r} ({c})" for v, c in top.items()),
                               {**share, "values": top}))
        elif rule.kind == "range":
            bounds = {"min": rule.min, "max": rule.max}
            seen = {"observed_min": p.min if p else None, "observed_max": p.max if p else None}
            out.append(Anomaly("out_of_range", rule.column, ERROR,
                               f"{n} row(s) with {rule.column} outside [{_num(rule.min, '-inf')}, "
                               f"{_num(rule.max, 'inf')}] (observed "
                               f"{_num(seen['observed_min'], '?')} .. "
                               f"{_num(seen['observed_max'], '?')})", {**share, **bounds, **seen}))
    return out


def null_anomalies(contract: Contract, environment: str, profile: Profile) -> list[Anomaly]:
    out = []
    for col in contract.columns:
        p = profile.columns.get(col.name)
        if p is None or col.max_null_fraction is None or not col.in_environment(environment):
            continue
        fraction = p.nulls / profile.rows if profile.rows else 0.0
        if fraction > col.max_null_fraction:
            out.append(Anomaly("null_fraction", col.name, ERROR,
                               f"{fraction:.1%} of {col.name} is null, above "
                               f"max_null_fraction {col.max_null_fraction:.1%}",
                               {"null_fraction": round(fraction, 6),
                                "max_null_fraction": col.max_null_fraction}))
    return out


def drift_anomalies(contract: Contract, profile: Profile, previous: Profile) -> list[Anomaly]:
    out = []
    for name, now in profile.columns.items():
        col = contract.column(name)
        before = previous.columns.get(name)
        if col.drift is None or before is None:
            continue
        measured = drift_of(now, before, categorical=col.categorical)
        if measured is None:
            continue
        metric, value = measured
        if value > col.drift:
            out.append(Anomaly("drift", name, ERROR,
                               f"{name} drifted from the previous batch: {metric} "
                               f"{value:.3f} > threshold {col.drift}",
                               {"metric": metric, "value": round(value, 6),
                                "threshold": col.drift}))
    return out


def drift_of(now: ColumnProfile, before: ColumnProfile, *, categorical: bool
             ) -> tuple[str, float] | None:
    """``(metric, distance)`` between two profiles of a column, or None without the data."""
    if categorical:
        if not now.values or not before.values:
            return None
        return "l_infinity", l_infinity(before.values, now.values)
    if not before.hist or not now.hist_on_previous:
        return None
    return "jensen_shannon", jensen_shannon(before.hist, now.hist_on_previous)


def l_infinity(p: Mapping[str, int], q: Mapping[str, int]) -> float:
    """Largest difference of a value's frequency between two value-count maps."""
    tp, tq = sum(p.values()) or 1, sum(q.values()) or 1
    return max(abs(p.get(k, 0) / tp - q.get(k, 0) / tq) for k in set(p) | set(q))


def jensen_shannon(p: Sequence[int], q: Sequence[int]) -> float:
    """Jensen-Shannon divergence (base 2) of two histograms on the same bins, in [0, 1]."""
    tp, tq = sum(p), sum(q)
    if tp == 0 or tq == 0:
        return 0.0
    pn, qn = [x / tp for x in p], [x / tq for x in q]

    def kl(a: list[float], m: list[float]) -> float:
        return sum(x * math.log2(x / y) for x, y in zip(a, m, strict=True) if x > 0)

    m = [(x + y) / 2 for x, y in zip(pn, qn, strict=True)]
    return max(0.0, min(1.0, 0.5 * kl(pn, m) + 0.5 * kl(qn, m)))


def _num(value: float | None, missing: str) -> str:
    return missing if value is None else f"{value:g}"
