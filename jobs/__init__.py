"""Spark jobs, thin: ``land`` (files or a database extract), ``bronze``, ``validate``,
``load_warehouse``; each runs by spark-submit or inside an Airflow task's process.
:mod:`jobs.run` is what they share (arguments, session, lineage)."""
