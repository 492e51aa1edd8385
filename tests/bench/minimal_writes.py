"""The floor under a Spark step of ``bench_daily.py``: a plain PySpark script that makes the same
Delta commits as the step did, and nothing else (no catalog, no contracts, no lineage).

    spark-submit --master local[2] --conf ... tests/bench/minimal_writes.py SPEC.json [SPEC2 ...]

``SPEC.json`` (written by ``bench_daily.py``) lists the step's commits in the order they were
made, each with: ``table`` (a path), ``operation`` (``WRITE`` or ``MERGE``), ``mode`` (``Append``
or ``Overwrite``), ``predicate`` (replaceWhere, or null), ``merge`` (``upsert`` or
``insert_only``), ``key`` (the MERGE's key column), ``txn`` ([appId, version] or null),
``files`` (data files the real commit added), ``rows`` (a pickle file of rows) and ``schema``
(StructType JSON).

The rows are those the real commit added: a ``WRITE`` appends them or replaces ``predicate`` with
them, in at most as many files as the real one; a ``MERGE`` merges them on ``key`` (``upsert``:
matched rows updated, the others inserted, which for the step's SCD2 and fact MERGEs updates and
inserts the same rows; ``insert_only``: for a MERGE that changed nothing, rows that all match). A
commit carries the real one's Delta transaction id, as the platform's idempotent writes do
(without it a write that changes nothing makes no commit). Tables are written by path, so the
session needs no metastore. Several specs (the same commits to other copies) run one after the
other in the same JVM, the later ones warm. Prints one JSON line: seconds to the session, seconds
of each spec's writes, commits of a spec.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from pathlib import Path

TXN_APP_ID = "spark.databricks.delta.write.txnAppId"
TXN_VERSION = "spark.databricks.delta.write.txnVersion"


def main(spec_files: list[str]) -> int:
    started = time.perf_counter()
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()  # every setting comes from spark-submit's --conf
    session = time.perf_counter() - started
    writes = []
    for spec_file in spec_files:
        begun = time.perf_counter()
        commits = json.loads(Path(spec_file).read_text())["commits"]
        for commit in commits:
            write(spark, commit)
        writes.append(time.perf_counter() - begun)
    print(json.dumps({"session_s": session, "writes_s": writes, "commits": len(commits)}))
    return 0


def write(spark, commit: dict) -> None:
    from delta.tables import DeltaTable
    from pyspark.sql.types import StructType

    rows = pickle.loads(Path(commit["rows"]).read_bytes())
    df = spark.createDataFrame(rows, StructType.fromJson(commit["schema"]))
    txn = commit["txn"]
    if commit["operation"] == "MERGE":
        key = commit["key"]
        merge = (DeltaTable.forPath(spark, commit["table"]).alias("t")
                 .merge(df.alias("s"), f"t.`{key}` = s.`{key}`"))
        if commit["merge"] == "upsert":
            merge = merge.whenMatchedUpdateAll()
        if txn:  # a MERGE takes its transaction id from the session
            spark.conf.set(TXN_APP_ID, txn[0])
            spark.conf.set(TXN_VERSION, str(txn[1]))
        merge.whenNotMatchedInsertAll().execute()
        if txn:
            spark.conf.unset(TXN_APP_ID)
            spark.conf.unset(TXN_VERSION)
        return
    writer = df.coalesce(max(commit["files"], 1)).write.format("delta")  # as many files as the real
    writer = writer.mode(commit["mode"].lower())
    if commit["predicate"]:
        writer = writer.option("replaceWhere", commit["predicate"])
    if txn:
        writer = writer.option("txnAppId", txn[0]).option("txnVersion", txn[1])
    writer.save(commit["table"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
