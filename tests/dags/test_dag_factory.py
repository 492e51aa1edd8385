"""DAG integrity: one ingest DAG per declared source and the warehouse DAG scheduled on the data
it reads, built from a project's declarations; a broken declaration breaks only its own DAG with
an import error naming file, key and fix; 50 declared sources parse in under 2 seconds."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from lake.config.project import load_project
from lake.config.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
RETAIL = REPO / "examples" / "retail"
JDBC_SOURCE = """\
source: crm
deliveries: {connector: jdbc, connection: crm}
datasets:
  accounts: {table: public.accounts, incremental: {column: updated_at}}
"""
ACCOUNTS = """\
dataset: accounts
columns:
  - {name: id, type: bigint, nullable: false}
  - {name: updated_at, type: timestamp, nullable: false}
keys: [id]
"""


def _project(root: Path) -> Path:
    shutil.copytree(RETAIL, root, ignore=shutil.ignore_patterns("generator", "*.py",
                                                                "__pycache__"))
    crm = root / "sources" / "crm"
    (crm / "contracts").mkdir(parents=True)
    (crm / "source.yaml").write_text(JDBC_SOURCE)
    (crm / "contracts" / "accounts.yaml").write_text(ACCOUNTS)
    return root


def _dagbag(monkeypatch, project_root: Path, home: Path, **settings_overrides):
    from dags.factory import sync_dag_files
    from lakehouse.orchestration import airflow_environment

    settings = load_settings(env={}, home=home, project=project_root, **settings_overrides)
    for key, value in airflow_environment(settings).items():
        monkeypatch.setenv(key, value)
    sync_dag_files(settings, load_project(project_root))
    from airflow.dag_processing.dagbag import DagBag

    # CPU time of this process: what parsing costs, whatever else the machine runs meanwhile
    started = time.process_time()
    bag = DagBag(dag_folder=str(settings.dags_folder))
    bag.parse_seconds = time.process_time() - started
    return bag, settings


@pytest.fixture
def project(tmp_path) -> Path:
    return _project(tmp_path / "project")


def test_every_source_gets_an_ingest_dag_and_the_warehouse_runs_on_its_data(monkeypatch,
                                                                            project, tmp_path):
    bag, _ = _dagbag(monkeypatch, project, tmp_path / "home")
    assert bag.import_errors == {}
    assert set(bag.dags) == {"ingest_retail", "ingest_crm", "warehouse", "lakehouse_maintenance"}
    retail = bag.dags["ingest_retail"]
    order = [t.task_id for t in retail.topological_sort()]
    assert order == ["wait_for_delivery", "land", "bronze", "validate"]
    assert [t.task_id for t in bag.dags["ingest_crm"].topological_sort()] == [
        "land", "bronze", "validate"]
    # a local master: the Spark steps run the jobs in the task's process
    steps = {t.task_id: t.op_kwargs for t in retail.tasks if t.task_id in ("bronze", "validate")}
    assert steps == {step: {"job": step, "argv": ["--source", "retail", "--ds", "{{ ds }}",
                                                  "--environment",
                                                  "{{ params.environment }}"]}
                     for step in ("bronze", "validate")}
    assert bag.dags["ingest_crm"].get_task("land").op_kwargs["job"] == "land"
    outlets = {a.name for a in retail.get_task("validate").outlets}
    assert outlets == {"retail_silver.customers", "retail_silver.products", "retail_silver.orders",
                       "retail_quarantine.customers", "retail_quarantine.products",
                       "retail_quarantine.orders"}
    warehouse = bag.dags["warehouse"]
    scheduled_on = {a.name for a in warehouse.timetable.asset_condition.objects}
    assert scheduled_on == {"retail_silver.customers", "retail_silver.products",
                            "retail_silver.orders"}
    (load,) = warehouse.tasks
    assert load.op_kwargs == {"job": "load_warehouse", "argv": ["--dag", "warehouse"]}
    assert {a.name for a in load.outlets} == {"warehouse.dim_customer", "warehouse.dim_product",
                                              "warehouse.fact_orders",
                                              "warehouse.revenue_by_day"}


def test_on_a_cluster_the_spark_steps_are_spark_submits(monkeypatch, project, tmp_path):
    bag, _ = _dagbag(monkeypatch, project, tmp_path / "home", spark_tasks="spark_submit")
    assert bag.import_errors == {}
    retail = bag.dags["ingest_retail"]
    apps = {t.task_id: getattr(t, "application", None) for t in retail.tasks}
    assert apps["bronze"].endswith("jobs/bronze.py")
    assert apps["validate"].endswith("jobs/validate.py")
    assert bag.dags["ingest_crm"].get_task("land").application.endswith("jobs/land.py")
    (load,) = bag.dags["warehouse"].tasks
    assert load.application.endswith("jobs/load_warehouse.py")
    assert load.application_args == ["--dag", "warehouse"]
    assert load.conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert "-XX:TieredStopAtLevel=1" in load.conf["spark.driver.extraJavaOptions"]


def test_dags_follow_the_authoring_rules(monkeypatch, project, tmp_path):
    bag, _ = _dagbag(monkeypatch, project, tmp_path / "home")
    retail = bag.dags["ingest_retail"]
    assert retail.catchup is False and retail.max_active_runs == 1
    assert retail.start_date.tzinfo is not None
    assert retail.schedule == "@daily"
    assert retail.doc_md and "sources/retail/source.yaml" in retail.doc_md
    assert retail.owner == "sales-data@example.com"
    for dag in bag.dags.values():
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag.dag_id}.{task.task_id} has no retries"
            # compaction changes no data: as an outlet it would trigger the warehouse DAGs
            assert task.outlets or task.task_id in ("wait_for_delivery", "maintain"), task.task_id


def test_a_broken_declaration_breaks_only_its_own_dag(monkeypatch, project, tmp_path):
    source = project / "sources" / "retail" / "source.yaml"
    source.write_text(source.read_text().replace("files: \"orders*.ndjson\"",
                                                 "filez: \"orders*.ndjson\""))
    bag, settings = _dagbag(monkeypatch, project, tmp_path / "home")
    assert set(bag.dags) == {"ingest_crm", "warehouse", "lakehouse_maintenance"}
    (path, error), = bag.import_errors.items()
    assert path.endswith("ingest_retail.py")
    assert error.startswith("Traceback") and "ConfigError: sources/retail/source.yaml: " in error
    assert "datasets.orders.filez (line 15): unknown key; did you mean 'files'?" in error
    assert "datasets.orders.files (line 15): required; add it" in error
    assert "pydantic" not in error, "the import error is our message, not pydantic's internals"


def test_a_broken_model_breaks_only_the_warehouse_dag(monkeypatch, project, tmp_path):
    fact = project / "warehouse" / "fact_orders.sql"
    fact.write_text(fact.read_text().replace("FROM retail_silver.orders",
                                             "FROM retail_silver.orderz"))
    bag, _ = _dagbag(monkeypatch, project, tmp_path / "home")
    assert set(bag.dags) == {"ingest_retail", "ingest_crm", "lakehouse_maintenance"}
    (path, error), = bag.import_errors.items()
    assert path.endswith("warehouse.py")
    assert "warehouse/fact_orders.sql: reads retail_silver.orderz" in error
    assert "did you mean retail_silver.orders" in error


def test_a_removed_source_loses_its_dag_file(monkeypatch, project, tmp_path):
    bag, settings = _dagbag(monkeypatch, project, tmp_path / "home")
    assert (Path(settings.dags_folder) / "ingest_crm.py").exists()
    shutil.rmtree(project / "sources" / "crm")
    bag, settings = _dagbag(monkeypatch, project, tmp_path / "home")
    assert not (Path(settings.dags_folder) / "ingest_crm.py").exists()
    assert set(bag.dags) == {"ingest_retail", "warehouse", "lakehouse_maintenance"}


def test_fifty_sources_parse_in_under_two_seconds(monkeypatch, tmp_path):
    root = tmp_path / "project"
    (root / "sources").mkdir(parents=True)
    (root / "lakehouse.yaml").write_text("name: many\n")
    retail = RETAIL / "sources" / "retail"
    for n in range(50):
        folder = root / "sources" / f"shop{n:02d}"
        shutil.copytree(retail, folder)
        text = (folder / "source.yaml").read_text().replace("source: retail",
                                                            f"source: shop{n:02d}")
        (folder / "source.yaml").write_text(text)
    # warm the imports a DAG processor has loaded before it parses files: the time measured is
    # the parsing of the 50 files
    import airflow.providers.standard.decorators.python  # noqa: F401
    import airflow.providers.standard.decorators.sensor  # noqa: F401
    from airflow.providers.standard.operators.python import PythonOperator  # noqa: F401

    import dags.factory  # noqa: F401

    bag, _ = _dagbag(monkeypatch, root, tmp_path / "home")
    assert bag.import_errors == {}
    assert len(bag.dags) == 51  # and the maintenance DAG
    assert bag.parse_seconds < 2, f"50 sources took {bag.parse_seconds:.2f}s to parse"
