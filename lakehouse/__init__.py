"""The platform's face: the ``lakehouse`` command line (:mod:`lakehouse.cli`, one module per
command group) and what it runs, importable too: :mod:`lakehouse.orchestration` (DAG runs through
Airflow: run, backfill) and :mod:`lakehouse.status` (the state of every source and table)."""
