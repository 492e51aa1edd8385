"""The exact inputs of a run, back: Delta time-travel reads of the versions it used.

    reads = input_reads(store, run_id)          # what to read: location, table, version, code
    frames = read_inputs(spark, store, run_id)  # {dataset key: DataFrame at that version}

A Delta input (an integer version) is read with ``versionAsOf``; anything else (a landing folder,
whose files are never modified) is named but not read: :func:`read_inputs` says which and why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lineage.errors import QueryError

if TYPE_CHECKING:
    from lineage.store.metadata_store import MetadataStore
    from lineage.store.results import Artifact


@dataclass(frozen=True)
class InputRead:
    """How to read one input of a run at the version the run used."""

    dataset: str  # the store key
    table: str | None  # the catalog table, when the run named one
    location: str  # a path or URI Spark can load (s3:// given back as s3a://)
    version: str | None
    delta: bool  # True when version is a Delta version (time travel works)
    pyspark: str | None  # the PySpark read, for a Delta input
    sql: str | None  # the SQL read, for a Delta input with a table


def input_reads(store: MetadataStore, run_id: str) -> list[InputRead]:
    """The reads of every input of ``run_id``; :class:`UnknownRunError` if the run is unknown."""
    return [read_of(a) for a in store.run(run_id).inputs]


def read_of(artifact: Artifact) -> InputRead:
    location = artifact.uri
    if location.startswith("s3://"):
        location = "s3a://" + location.removeprefix("s3://")
    table = artifact.tables[0] if artifact.tables else None
    delta = artifact.version is not None and artifact.version.isdigit()
    pyspark = sql = None
    if delta:
        pyspark = (f'spark.read.format("delta").option("versionAsOf", {artifact.version})'
                   f".load({json.dumps(location)})")
        sql = f"SELECT * FROM {table} VERSION AS OF {artifact.version}" if table else None
    return InputRead(dataset=artifact.name, table=table, location=location,
                     version=artifact.version, delta=delta, pyspark=pyspark, sql=sql)


def read_inputs(
    spark: Any, store: MetadataStore, run_id: str, *, skip_unversioned: bool = False
) -> dict[str, Any]:
    """``{dataset key: DataFrame}`` of every input of ``run_id`` at the Delta version it read.

    Raises :class:`QueryError` naming any input recorded without a Delta version (it cannot be
    read as it was), unless ``skip_unversioned`` leaves those out.
    """
    reads = input_reads(store, run_id)
    not_delta = [r.dataset for r in reads if not r.delta]
    if not_delta and not skip_unversioned:
        raise QueryError(
            f"run {run_id} read {', '.join(not_delta)} without a Delta version, so those inputs "
            "cannot be time-travelled: read them with `lakehouse lineage reproduce` for where they "
            "are (landing files are never modified), or pass skip_unversioned=True"
        )
    return {
        r.dataset: spark.read.format("delta").option("versionAsOf", int(r.version))
        .load(r.location)
        for r in reads if r.delta
    }
