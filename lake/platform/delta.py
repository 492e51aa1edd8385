"""Delta Lake I/O at the edges: idempotent batch writes, MERGE guards, table versions.

Every batch write is idempotent twice over: it replaces only its own batch (``replaceWhere`` on
``_batch_id``) and it carries a Delta transaction id (``txnAppId`` = table + batch), so re-running a
batch that already committed is skipped by Delta itself and leaves the table at the same version.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

TXN_APP_ID = "spark.databricks.delta.write.txnAppId"
TXN_VERSION = "spark.databricks.delta.write.txnVersion"


@dataclass(frozen=True)
class TableWrite:
    """What a write did: the table, its Delta version after the write, and whether it committed."""

    table: str
    version: int
    committed: bool
    location: str
    rows: int


def table_exists(spark: SparkSession, table: str) -> bool:
    return spark.catalog.tableExists(table)


_LOCATIONS: dict[tuple[str, str], str] = {}


def table_location(spark: SparkSession, table: str) -> str:
    """The storage location of catalog table ``table`` (looked up once per Spark application).

    The platform's tables are managed tables of their zone's database, so the location is the
    database's plus the table name (one metastore call, no Delta log read); any other table is
    asked for its location (``DESCRIBE DETAIL``).
    """
    from delta.tables import DeltaTable

    key = (spark.sparkContext.applicationId, table)
    if key not in _LOCATIONS:
        database, _, name = table.rpartition(".")
        location = None
        if database:
            guess = f"{spark.catalog.getDatabase(database).locationUri.rstrip('/')}/{name.lower()}"
            location = guess if DeltaTable.isDeltaTable(spark, guess) else None
        if location is None:
            location = spark.sql(f"DESCRIBE DETAIL {table}").select("location").first()[0]
        _LOCATIONS[key] = location
    return _LOCATIONS[key]


def delta_table(spark: SparkSession, table: str):
    """``DeltaTable`` of ``table`` by path: no metastore round trip after the first lookup."""
    from delta.tables import DeltaTable

    return DeltaTable.forPath(spark, table_location(spark, table))


def table_version(spark: SparkSession, table: str) -> int | None:
    """The latest Delta version of ``table``, or None if it does not exist."""
    if not table_exists(spark, table):
        return None
    return latest_version(spark, table_location(spark, table))


def latest_version(spark: SparkSession, location: str) -> int:
    """The latest Delta version at ``location``: the transaction log's listing, no Spark job
    (``DeltaTable.history`` runs one)."""
    return _latest_snapshot(spark, location).version()


def _latest_snapshot(spark: SparkSession, location: str):
    """Delta's latest snapshot of the table at ``location`` (a JVM object)."""
    jvm = spark._jvm
    log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, location)
    return log.update(False, jvm.scala.Option.empty(), jvm.scala.Option.empty())


def _known_empty(snapshot) -> bool:
    """Whether ``snapshot`` has no data files, as far as its checksum says without a Spark job
    (False when it does not say)."""
    checksum = snapshot.checksumOpt()  # Delta's numOfFilesIfKnown may run the state's job
    return bool(checksum.isDefined()) and int(checksum.get().numFiles()) == 0


def write_batch(df: DataFrame, table: str, batch_id: str, *, where: str | None = None,
                force: bool = False, txn_version: int = 0, rows: int | None = None) -> TableWrite:
    """Replace ``batch_id``'s rows of the existing ``table`` with ``df``, at most once.

    ``where`` narrows the replaced rows further (default: ``_batch_id = '<batch_id>'``). Without
    ``force`` a batch already committed at ``txn_version`` or later is skipped (Delta transaction
    id); a higher ``txn_version`` (e.g. a newer contract version) replaces it. With ``force`` the
    batch's rows are replaced in one new version. ``rows``: the number of rows of ``df``, when
    the caller has counted them (saves reading the commit's metrics, one Spark job); ``rows=0``
    with no rows of the batch in the table writes nothing (no empty version).
    """
    spark = df.sparkSession
    location = table_location(spark, table)
    target = delta_table(spark, table)
    snapshot = _latest_snapshot(spark, location)
    before = snapshot.version()
    predicate = where or f"_batch_id = '{batch_id}'"
    if rows == 0 and (_known_empty(snapshot) or target.toDF().where(predicate).isEmpty()):
        # nothing to write and nothing to replace: no empty commit (a table without files, as
        # its checksum says, needs no query; one the files' statistics answer is a fraction of
        # a commit's cost)
        log.info("%s batch %s: no rows, none to replace (version %s)", table, batch_id, before)
        return TableWrite(table, before, False, location, 0)
    writer = df.write.format("delta").mode("overwrite").option("replaceWhere", predicate)
    if not force:
        app_id = f"{table}:{predicate}" if where else f"{table}:{batch_id}"
        writer = writer.option("txnAppId", app_id).option("txnVersion", txn_version)
    # Write by path: the catalog entry stays as created, and Hive's metastore is not asked to
    # "alter" a Delta table's schema on every overwrite.
    writer.save(location)
    version = latest_version(spark, location)
    committed = version != before
    if committed and rows is None:
        last = target.history(1).select("version", "operationMetrics").first()
        version = last["version"]
        rows = int((last["operationMetrics"] or {}).get("numOutputRows", 0))
    elif not committed:
        rows = target.toDF().where(predicate).count()
    log.info("%s batch %s: %s (version %s, %s rows)", table, batch_id,
             "written" if committed else "already committed, skipped", version, rows)
    return TableWrite(table, version, committed, location, rows)


@contextmanager
def idempotent_dml(spark: SparkSession, app_id: str) -> Iterator[None]:
    """Run one Delta DML (MERGE/UPDATE) at most once per ``app_id``: a repeat is skipped by Delta."""
    spark.conf.set(TXN_APP_ID, app_id)
    spark.conf.set(TXN_VERSION, "0")
    try:
        yield
    finally:
        spark.conf.unset(TXN_APP_ID)
        spark.conf.unset(TXN_VERSION)
