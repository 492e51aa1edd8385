"""DAG integrity: the dags folder imports cleanly and quickly, and every task can retry."""

from __future__ import annotations

import time

import pytest

from cli.airflow_env import DAGS_FOLDER, airflow_environment
from lake.settings import load_settings

EXPECTED_TASKS = {"land", "bronze", "validate", "warehouse"}


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    settings = load_settings(env={}, home=tmp_path_factory.mktemp("airflow-home"))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in airflow_environment(settings).items():
            mp.setenv(key, value)
        from airflow.dag_processing.dagbag import DagBag

        started = time.perf_counter()
        bag = DagBag(dag_folder=str(DAGS_FOLDER))
        bag.parse_seconds = time.perf_counter() - started
        yield bag


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_parse_time_is_bounded(dagbag):
    # Parsing must not do work at import time (no Spark, no database, no network).
    assert dagbag.parse_seconds < 15, f"parsing the dags folder took {dagbag.parse_seconds:.1f}s"


def test_retail_daily_shape(dagbag):
    dag = dagbag.dags["retail_daily"]
    assert {t.task_id for t in dag.tasks} == EXPECTED_TASKS
    assert dag.catchup is False
    assert dag.start_date.tzinfo is not None
    assert dag.doc_md and "retail_daily" in dag.doc_md
    order = [t.task_id for t in dag.topological_sort()]
    assert order == ["land", "bronze", "validate", "warehouse"]


def test_every_task_retries(dagbag):
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag.dag_id}.{task.task_id} has no retries"


def test_spark_tasks_submit_the_platform_jobs(dagbag):
    dag = dagbag.dags["retail_daily"]
    apps = {t.task_id: t.application for t in dag.tasks if t.task_id != "land"}
    assert apps["bronze"].endswith("jobs/bronze.py")
    assert apps["validate"].endswith("jobs/validate.py")
    assert apps["warehouse"].endswith("jobs/load_warehouse.py")
    for task in dag.tasks:
        assert task.outlets, f"{task.task_id} declares no Asset outlets"
