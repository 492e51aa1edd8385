"""A batch write of no rows: nothing to replace means no commit; rows of the batch already in the
table (an earlier run's) are still replaced, so none is left behind."""

from __future__ import annotations

from lake.platform.delta import latest_version, table_location, write_batch

TABLE = "default.t_batch_writes"


def _rows(spark, batch_id, n):
    return spark.createDataFrame([(i, batch_id) for i in range(n)], "x INT, _batch_id STRING")


def test_an_empty_write_commits_only_when_it_replaces_rows(spark):
    spark.sql(f"DROP TABLE IF EXISTS {TABLE}")
    spark.sql(f"CREATE TABLE {TABLE} (x INT, _batch_id STRING) USING delta")
    location = table_location(spark, TABLE)
    # a table without files (its checksum says so): nothing to replace, no version, and no
    # Spark job asks for rows to replace
    sc = spark.sparkContext
    sc.setJobGroup("empty-table-write", "empty-table-write")
    try:
        nothing = write_batch(_rows(spark, "b0", 0), TABLE, "b0", rows=0)
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
    assert (nothing.committed, nothing.rows) == (False, 0)
    assert sc.statusTracker().getJobIdsForGroup("empty-table-write") == []
    assert latest_version(spark, location) == nothing.version
    first = write_batch(_rows(spark, "b1", 3), TABLE, "b1", rows=3)
    assert (first.committed, first.rows) == (True, 3)

    # a new batch with no rows: no new version, and the table's rows are as they were
    empty = write_batch(_rows(spark, "b2", 0), TABLE, "b2", rows=0)
    assert (empty.committed, empty.version, empty.rows) == (False, first.version, 0)
    assert latest_version(spark, location) == first.version
    assert spark.table(TABLE).count() == 3

    # a re-run of b1 that now has no rows (a newer contract version) replaces the old ones
    rerun = write_batch(_rows(spark, "b1", 0), TABLE, "b1", rows=0, txn_version=1)
    assert (rerun.committed, rerun.version) == (True, first.version + 1)
    assert spark.table(TABLE).where("_batch_id = 'b1'").count() == 0
    spark.sql(f"DROP TABLE {TABLE}")
