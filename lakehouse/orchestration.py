"""The environment an embedded Airflow needs: home, SQLite database, dags, Spark connection, lineage.

Airflow reads its configuration when it is first imported, so :func:`configure_airflow` must run
before any ``import airflow``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from lake.settings import Settings

DAGS_FOLDER = Path(__file__).resolve().parent.parent / "dags"


def airflow_environment(settings: Settings) -> dict[str, str]:
    """Environment variables for Airflow (and the spark-submit jobs it starts)."""
    home = settings.airflow_home
    venv_bin = str(Path(sys.executable).parent)
    from lineage.delivery.destinations import client_config

    transport = client_config(settings.lineage_transport, store_url=settings.lineage_url,
                              spool_dir=settings.lineage_spool_dir)
    return {
        **settings.as_env(),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "15",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps({"conn_type": "spark",
                                                  "host": settings.spark_master}),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": settings.lineage_namespace,
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        # spark-submit is found on PATH; the venv's bin holds PySpark's.
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
    }


def configure_airflow(settings: Settings) -> None:
    """Point this process's Airflow at ``settings`` and create its database if needed."""
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    os.environ.update(airflow_environment(settings))
    from airflow.utils.db import initdb

    initdb()
