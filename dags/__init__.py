"""Airflow wiring: :mod:`dags.factory` builds a DAG per declared source and the warehouse DAGs."""
