"""The data-quality report of a dataset: ``lakehouse quality report SOURCE.DATASET [--batch B]``.

Reads the anomaly reports (``meta.anomalies``) and the row counts (``meta.batch_counts``) of
every validated batch of a dataset, or of one, and renders them as text, JSON (a top-level
``anomalies`` list, each anomaly with its batch) or a self-contained HTML page linking the Great
Expectations Data Docs.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from lake.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

FORMATS = ("text", "json", "html")
_COLORS = {"error": "#c62828", "warning": "#b26a00"}


def load_report(spark: SparkSession, source: str, name: str,
                batch_id: str | None = None) -> dict[str, Any]:
    """The report of dataset ``name`` of ``source`` as plain data (the JSON format)."""
    from pyspark.sql import functions as F

    from lake.platform.meta_tables import ANOMALIES, BATCH_COUNTS, create_meta_tables

    create_meta_tables(spark)
    of_source = F.col("source") == source
    reports = spark.table(ANOMALIES).where(of_source & (F.col("dataset") == name))
    if batch_id is not None:
        reports = reports.where(F.col("_batch_id") == batch_id)
    rows = reports.orderBy("_batch_id").collect()
    if not rows:
        known = sorted(f"{r[0]}.{r[1]}" for r in spark.table(ANOMALIES)
                       .select("source", "dataset").distinct().collect())
        what = f"batch {batch_id} of {source}.{name}" if batch_id else f"{source}.{name}"
        raise ConfigError(f"no quality report for {what}; datasets with reports: "
                          f"{', '.join(known) or 'none yet (run the validate job first)'}")
    counts = {r["_batch_id"]: r for r in spark.table(BATCH_COUNTS)
              .where(of_source & (F.col("dataset") == name)).collect()}
    batches, flat = [], []
    for r in rows:
        anomalies = [{"type": a["type"], "column": a["column"], "severity": a["severity"],
                      "description": a["description"], "details": json.loads(a["details"])}
                     for a in r["anomalies"]]
        c = counts.get(r["_batch_id"])
        batches.append({
            "batch": r["_batch_id"], "logical_date": r["logical_date"].isoformat(),
            "environment": r["environment"], "contract_version": r["contract_version"],
            "rows_in": r["row_count"],
            "rows_valid": c["rows_valid"] if c else None,
            "rows_quarantined": c["rows_quarantined"] if c else None,
            "failed_by_rule": dict(c["rule_counts"] or {}) if c else {},
            "anomalies": anomalies, "data_docs": r["data_docs"],
        })
        flat += [{"batch": r["_batch_id"], **a} for a in anomalies]
    return {"dataset": f"{source}.{name}", "batches": batches, "anomalies": flat,
            "data_docs": next((b["data_docs"] for b in reversed(batches) if b["data_docs"]), None)}


def render(report: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, indent=2, default=str)
    if fmt == "text":
        return render_text(report)
    if fmt == "html":
        return render_html(report)
    raise ConfigError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")


def render_text(report: dict[str, Any]) -> str:
    lines = [f"Data quality of {report['dataset']}"]
    for b in report["batches"]:
        lines += ["", f"batch {b['batch']} ({b['logical_date']}, {b['environment']}, contract "
                      f"v{b['contract_version']}): {b['rows_in']} in, {b['rows_valid']} valid, "
                      f"{b['rows_quarantined']} quarantined"]
        if not b["anomalies"]:
            lines.append("  no anomalies")
        for a in b["anomalies"]:
            lines.append(f"  {a['severity']:<7} {a['type']:<18} {a['column'] or '-':<14} "
                         f"{a['description']}")
    total = len(report["anomalies"])
    lines += ["", f"{total} anomal{'y' if total == 1 else 'ies'} in {len(report['batches'])} "
                  f"batch(es). Data Docs: {report['data_docs'] or '(not built)'}"]
    return "\n".join(lines)


def render_html(report: dict[str, Any]) -> str:
    """One page, styles inline, no network: opens from a file."""
    esc = html.escape
    sections = []
    for b in report["batches"]:
        rows = "".join(
            f"<tr><td style='color:{_COLORS.get(a['severity'], '#333')}'>{esc(a['severity'])}</td>"
            f"<td>{esc(a['type'])}</td><td>{esc(a['column'] or '')}</td>"
            f"<td>{esc(a['description'])}</td></tr>" for a in b["anomalies"]
        ) or "<tr><td colspan='4'>no anomalies</td></tr>"
        sections.append(
            f"<section><h2>Batch {esc(b['batch'])} <small>{esc(b['logical_date'])} · "
            f"{esc(b['environment'])} · contract v{b['contract_version']}</small></h2>"
            f"<p>{b['rows_in']} rows in · {b['rows_valid']} valid · {b['rows_quarantined']} "
            f"quarantined</p><table><thead><tr><th>severity</th><th>anomaly</th><th>column</th>"
            f"<th>what</th></tr></thead><tbody>{rows}</tbody></table></section>")
    docs = report["data_docs"]
    link = (f"<p><a href='file://{esc(docs)}'>Great Expectations Data Docs</a></p>"
            if docs else "")
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Data quality: {esc(report['dataset'])}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;"
        "padding:4px 8px;text-align:left;vertical-align:top}small{color:#666;font-weight:normal}"
        f"</style></head><body><h1>Data quality: {esc(report['dataset'])}</h1>{link}"
        f"<p>{len(report['anomalies'])} anomalies in {len(report['batches'])} batch(es).</p>"
        + "".join(sections) + "</body></html>\n"
    )
