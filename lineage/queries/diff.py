"""What changed between two runs: parameters, input and output versions, output row counts,
schema changes and data-quality results.

Datasets are compared by store key; a dataset one run touched and the other did not shows as
``(version, None)``. Schemas and quality are compared on the artifact each run read or wrote
(its output, else its input), so a validate job's diff shows the checks on both batches it read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lineage.store.metadata_store import MetadataStore
    from lineage.store.results import Artifact, RunArtifacts

Pair = tuple[Any, Any]


@dataclass(frozen=True)
class SchemaChange:
    """Columns added, removed, or retyped from run a's version of a dataset to run b's."""

    added: tuple[tuple[str, str], ...] = ()
    removed: tuple[tuple[str, str], ...] = ()
    retyped: tuple[tuple[str, str, str], ...] = ()  # (column, type in a, type in b)


@dataclass(frozen=True)
class QualityChange:
    """Data-quality metrics and assertion outcomes that differ between the two runs."""

    metrics: dict[str, Pair] = field(default_factory=dict)
    assertions: dict[str, Pair] = field(default_factory=dict)  # name -> (passed in a, in b)


@dataclass(frozen=True)
class RunDiff:
    """How two runs differ; every mapping holds only what differs (empty: the same)."""

    run_a: str
    run_b: str
    parameters: dict[str, Pair]  # key -> (value in a, value in b)
    inputs: dict[str, Pair]  # dataset key -> (version a, version b)
    outputs: dict[str, Pair]
    output_rows: dict[str, Pair] = field(default_factory=dict)  # dataset key -> (rows a, b)
    schema: dict[str, SchemaChange] = field(default_factory=dict)
    quality: dict[str, QualityChange] = field(default_factory=dict)

    @property
    def same(self) -> bool:
        return not (self.parameters or self.inputs or self.outputs or self.output_rows
                    or self.schema or self.quality)


def diff_runs(store: MetadataStore, run_a: str, run_b: str) -> RunDiff:
    """What changed between two runs (typically two runs of one job, e.g. two days)."""
    a, b = store.run(run_a), store.run(run_b)
    return RunDiff(
        run_a=run_a,
        run_b=run_b,
        parameters=_changed(a.execution.parameters, b.execution.parameters),
        inputs=_changed(_by_key(a.inputs, "version"), _by_key(b.inputs, "version")),
        outputs=_changed(_by_key(a.outputs, "version"), _by_key(b.outputs, "version")),
        output_rows=_changed(_by_key(a.outputs, "row_count"), _by_key(b.outputs, "row_count")),
        schema=_schema_changes(_touched(a), _touched(b)),
        quality=_quality_changes(_touched(a), _touched(b)),
    )


def _changed(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Pair]:
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def _by_key(artifacts: tuple[Artifact, ...], what: str) -> dict[str, Any]:
    if what == "version":
        return {x.name: x.version for x in artifacts}
    return {x.name: x.properties.get(what) for x in artifacts}


def _touched(run: RunArtifacts) -> dict[str, Artifact]:
    """Dataset key -> the artifact the run wrote, else the one it read."""
    return {x.name: x for x in run.inputs} | {x.name: x for x in run.outputs}


def _schema_changes(a: dict[str, Artifact], b: dict[str, Artifact]) -> dict[str, SchemaChange]:
    changes = {}
    for key in sorted(set(a) & set(b)):
        cols_a = dict(map(tuple, a[key].properties.get("schema") or ()))
        cols_b = dict(map(tuple, b[key].properties.get("schema") or ()))
        if not cols_a or not cols_b or cols_a == cols_b:
            continue  # a dataset recorded without its schema is not a change
        changes[key] = SchemaChange(
            added=tuple((c, cols_b[c]) for c in cols_b if c not in cols_a),
            removed=tuple((c, cols_a[c]) for c in cols_a if c not in cols_b),
            retyped=tuple((c, cols_a[c], cols_b[c]) for c in cols_a
                          if c in cols_b and cols_a[c] != cols_b[c]),
        )
    return changes


def _quality_changes(
    a: dict[str, Artifact], b: dict[str, Artifact]
) -> dict[str, QualityChange]:
    changes = {}
    for key in sorted(set(a) | set(b)):
        qa = a[key].properties.get("quality") or {} if key in a else {}
        qb = b[key].properties.get("quality") or {} if key in b else {}
        if not qa and not qb:
            continue
        metrics = _changed(_metrics(qa), _metrics(qb))
        assertions = _changed(_assertions(qa), _assertions(qb))
        if metrics or assertions:
            changes[key] = QualityChange(metrics=metrics, assertions=assertions)
    return changes


def _metrics(quality: dict[str, Any]) -> dict[str, Any]:
    found = {"row_count": quality.get("row_count")} if "row_count" in quality else {}
    for name, value in (quality.get("metrics") or {}).items():
        found[name] = value
    return found


def _assertions(quality: dict[str, Any]) -> dict[str, Any]:
    return {
        f"{x['assertion']}({x['column']})" if x.get("column") else str(x["assertion"]):
            x.get("success")
        for x in quality.get("assertions") or () if isinstance(x, dict) and x.get("assertion")
    }
