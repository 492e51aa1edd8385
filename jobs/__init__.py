"""spark-submit entry points, thin: ``land`` (files or a database extract), ``bronze``,
``validate``, ``load_warehouse``; :mod:`jobs.run` is what they share (arguments, session,
lineage)."""
