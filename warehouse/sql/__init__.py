"""Analyst SQL: one read-only query in the analyst's dialect, checked, transpiled and run.

* :mod:`~warehouse.sql.analyst` — parse, refuse anything but a read-only query, transpile, run,
  format the result
"""
