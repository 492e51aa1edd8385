"""Fixtures for lineage tests: stores on SQLite, a three-step pipeline's events, the validator."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lineage.events.run_events import DatasetRef, ParentRun, QualityResult, run_event, to_json
from lineage.store.metadata_store import MetadataStore

VALIDATOR = Path(__file__).parents[2] / ".." / "shared" / "tools" / "validate_openlineage.py"
DAG = "retail_daily"
T0 = datetime(2024, 1, 31, 6, 0, tzinfo=UTC)


def validate(files: dict[str, list[dict]], tmp_path: Path) -> subprocess.CompletedProcess:
    """Run the shared OpenLineage validator once over ``{file stem: events}`` (one NDJSON file
    each); fails the test if the validator is missing."""
    if not VALIDATOR.is_file():
        pytest.fail(
            f"OpenLineage validator not found at {VALIDATOR.resolve()}: tests need the shared "
            "folder beside the repo (../shared/tools/validate_openlineage.py)"
        )
    paths = []
    for stem, events in files.items():
        path = tmp_path / f"{stem}.ndjson"
        path.write_text("".join(json.dumps(e) + "\n" for e in events))
        paths.append(str(path))
    return subprocess.run(
        [sys.executable, str(VALIDATOR), *paths], capture_output=True, text=True, check=False
    )


@dataclass
class Pipeline:
    """landing file -> bronze job -> bronze table -> validate job -> silver (+ quarantine)
    -> warehouse job -> fact, run by the Airflow DAG ``retail_daily``."""

    root: Path
    dag_run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    events: list[dict] = field(default_factory=list)

    @property
    def landing(self) -> str:
        return str(self.root / "landing" / "orders" / "2024-01-31" / "orders.csv")

    def table(self, zone: str, name: str) -> str:
        return str(self.root / "lake" / zone / name)


def _quality() -> QualityResult:
    return QualityResult(
        row_count=10,
        metrics={"rows_valid": 9, "rows_quarantined": 1, "amount.null_count": 1,
                 "amount.max": 99.5},
        assertions=(("not_null", False, "amount"),
                    ("rows_in_equals_valid_plus_quarantined", True, None)),
    )


def build_pipeline(
    root: Path, *, silver_version: int = 2, logical_date: str = "2024-01-31"
) -> Pipeline:
    """Events of one DAG run: the DAG, three Airflow tasks, and the Spark job each task submits."""
    p = Pipeline(root=root)
    bronze, silver = p.table("bronze", "orders"), p.table("silver", "orders")
    quarantine, fact = p.table("quarantine", "orders"), str(root / "warehouse" / "fact_orders")
    steps = [
        ("bronze", "bronze_orders", [DatasetRef(p.landing)],
         [DatasetRef(bronze, table="bronze.orders", version=4, row_count=10,
                     schema=(("order_id", "bigint"), ("amount", "string")))]),
        ("validate", "validate_orders",
         [DatasetRef(bronze, table="bronze.orders", version=4, row_count=10, quality=_quality())],
         [DatasetRef(silver, table="silver.orders", version=silver_version, row_count=9,
                     column_lineage={"amount": [(bronze, "amount")]}),
          DatasetRef(quarantine, table="quarantine.orders", version=1, row_count=1)]),
        ("warehouse", "warehouse_fact_orders",
         [DatasetRef(silver, table="silver.orders", version=silver_version)],
         [DatasetRef(fact, table="warehouse.fact_orders", version=7, row_count=9)]),
    ]
    dag = {"namespace": "airflow", "job_name": DAG, "run_id": p.dag_run_id}
    p.events.append(_event("START", T0, **dag, job_type="AIRFLOW"))
    for index, (task, job, inputs, outputs) in enumerate(steps):
        start, end = T0 + timedelta(minutes=10 * index), T0 + timedelta(minutes=10 * index + 5)
        task_run = str(uuid.uuid4())
        task_parent = ParentRun("airflow", DAG, p.dag_run_id)
        spark_parent = ParentRun("airflow", f"{DAG}.{task}", task_run, root_job_name=DAG,
                                 root_run_id=p.dag_run_id)
        task_event = {"namespace": "airflow", "job_name": f"{DAG}.{task}", "run_id": task_run,
                      "parent": task_parent, "job_type": "AIRFLOW"}
        spark = {"namespace": "lakehouse", "job_name": job, "run_id": str(uuid.uuid4()),
                 "parent": spark_parent, "nominal_time": T0,
                 "parameters": {"logical_date": logical_date}}
        p.events.append(_event("START", start, **task_event))
        p.events.append(_event("START", start, **spark, inputs=inputs,
                               outputs=[DatasetRef(o.location, table=o.table) for o in outputs]))
        p.events.append(_event("COMPLETE", end, **spark, inputs=inputs, outputs=outputs))
        p.events.append(_event("COMPLETE", end, **task_event))
    p.events.append(_event("COMPLETE", T0 + timedelta(hours=1), **dag, job_type="AIRFLOW"))
    return p


def _event(event_type: str, time: datetime, **kwargs) -> dict:
    return json.loads(to_json(run_event(event_type, event_time=time, **kwargs)))


BACKENDS = ("memory", "sqlite", "postgresql", "mariadb")


def new_store_url(request, backend: str, folder: Path) -> str:
    """A fresh, empty store URL on ``backend``: in-memory SQLite, a SQLite file in ``folder``,
    or a new database on the session's PostgreSQL or MariaDB server."""
    if backend == "memory":
        return "sqlite://"
    if backend == "sqlite":
        return f"sqlite:///{folder / f'lineage-{uuid.uuid4().hex[:8]}.db'}"
    server = request.getfixturevalue(backend)
    return server.create_database(f"lineage_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path) -> str:
    """A fresh, empty store URL on each of the four backends."""
    return new_store_url(request, request.param, tmp_path)


@pytest.fixture(scope="module", params=BACKENDS)
def loaded_on(request, pipeline, tmp_path_factory) -> MetadataStore:
    """:func:`loaded` on each of the four backends."""
    store = MetadataStore(new_store_url(request, request.param, tmp_path_factory.mktemp("db")))
    for event in pipeline.events:
        assert store.ingest(event)
    yield store
    store.close()


@pytest.fixture
def store(store_url) -> MetadataStore:
    store = MetadataStore(store_url)
    yield store
    store.close()


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Pipeline:
    return build_pipeline(tmp_path_factory.mktemp("pipeline"))


@pytest.fixture(scope="module")
def loaded(pipeline) -> MetadataStore:
    """A store holding one pipeline run; shared by a module's tests, so read it only."""
    store = MetadataStore("sqlite://")
    for event in pipeline.events:
        assert store.ingest(event)
    yield store
    store.close()
