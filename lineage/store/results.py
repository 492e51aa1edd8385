"""What the metadata store returns: typed, frozen records of its MLMD rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Artifact:
    """One dataset version."""

    id: int
    type: str
    uri: str
    name: str  # the dataset key, e.g. file:///lake/bronze/orders or s3://bucket/bronze/orders
    version: str | None
    state: str
    properties: dict[str, Any]
    create_time: datetime
    update_time: datetime

    @property
    def tables(self) -> tuple[str, ...]:
        """Catalog names (symlinks) of the dataset, e.g. ``("bronze.orders",)``."""
        return tuple(self.properties.get("tables") or ())


@dataclass(frozen=True)
class Execution:
    """One run of a job."""

    id: int
    job: str
    run_id: str
    state: str  # RUNNING, COMPLETE, FAILED, CANCELED
    properties: dict[str, Any]
    start_time: datetime | None
    end_time: datetime | None
    error: str | None

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.properties.get("parameters") or {})


@dataclass(frozen=True)
class Context:
    """A pipeline (DAG / root job) or a pipeline run (DAG run / root run)."""

    id: int
    type: str
    name: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class RunArtifacts:
    """The exact dataset versions one run read and wrote."""

    execution: Execution
    inputs: tuple[Artifact, ...] = field(default=())
    outputs: tuple[Artifact, ...] = field(default=())


@dataclass(frozen=True)
class DatasetSummary:
    """A dataset across its versions: how it is named and its latest version."""

    key: str
    namespace: str
    name: str
    tables: tuple[str, ...]
    latest_version: str | None


@dataclass(frozen=True)
class JobSummary:
    """A job across its runs: its latest run."""

    name: str
    runs: int
    latest_run_id: str | None
    latest_state: str | None
    latest_time: datetime | None
