"""Validation of bronze batches and what it reports.

* :mod:`~lake.quality.flags` — every rule as a column expression; batch counts
* :mod:`~lake.quality.validate` — one batch: silver, quarantine, counts, anomaly report
* :mod:`~lake.quality.replay` — quarantined rows re-validated after a fix, moved once
* :mod:`~lake.quality.profile`, :mod:`~lake.quality.anomalies` — batch profiles, anomaly types
* :mod:`~lake.quality.expectations`, :mod:`~lake.quality.gx_rules` — Great Expectations
* :mod:`~lake.quality.report` — the data-quality report (text, JSON, HTML)
"""
