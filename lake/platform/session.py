"""Spark session for the platform: Delta Lake, the Hive catalog, and the pinned jars.

:func:`configure` takes a builder and returns a builder (as ``delta.configure_spark_with_delta_pip``
does), so tests, jobs and notebooks share one recipe. Jars come from the folder ``make jars``
resolved (``spark.jars``); only where that folder is empty does it fall back to
``spark.jars.packages`` (which downloads, so it needs Maven Central).

The catalog's metastore is a database several processes share (:mod:`lake.platform.metastore`):
by default Derby's network server under the home, which :func:`configure` starts when it is not
running, since the connection URL carries its port.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lake.config.settings import Settings
from lake.errors import ConfigError, MetastoreError
from lake.platform import class_archive, derby_server, metastore

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DELTA_PACKAGES = ("io.delta:delta-spark_4.1_2.13:4.3.0,io.delta:delta-storage:4.3.0,"
                  "org.apache.spark:spark-avro_2.13:4.1.1,org.postgresql:postgresql:42.7.14,"
                  "org.mariadb.jdbc:mariadb-java-client:3.5.7")
LOG4J_CONFIG = Path(__file__).with_name("spark-log4j2.properties")
COMET_JAR = "comet-spark-"
"""Name prefix of Apache DataFusion Comet's jar in the jars folder, given to Spark only with
``LAKEHOUSE_SPARK_ACCELERATOR=comet``: 99 MB that every executor, a local one too, fetches."""
COMET_CONF = {
    "spark.plugins": "org.apache.spark.CometPlugin",
    "spark.comet.enabled": "true",
    "spark.comet.exec.enabled": "true",
    "spark.shuffle.manager": "org.apache.spark.sql.comet.execution.shuffle.CometShuffleManager",
    "spark.comet.shuffle.enabled": "true",
    # Comet's published jar does not read Delta tables (Delta's Parquet format is not Spark's:
    # "Unsupported file format"); their scans stay Spark's, and their batches are handed to
    # Comet as Arrow so that the operators above them run natively (else none of them does)
    "spark.comet.convert.parquet.enabled": "true",
    # Comet's native operators reserve their memory in Spark's off-heap pool; without it the
    # plugin disables itself
    "spark.memory.offHeap.enabled": "true",
    "spark.memory.offHeap.size": "2g",
}
"""Comet's settings (its installation and tuning guides): the plugin, native execution and
shuffle, Spark's Parquet scans converted, and the off-heap pool it draws from."""


def spark_conf(settings: Settings, *, short_lived: bool = False) -> dict[str, str]:
    """Every Spark setting the platform needs, as plain strings (also used for spark-submit),
    but the default metastore's connection URL, which :func:`configure` adds (the port of the
    home's Derby server is known once it runs; a job under spark-submit adds it in its session).

    ``short_lived``: one job per JVM (a spark-submit of a local task), tuned for start-up."""
    conf = {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": settings.warehouse_root,
        **metastore.SCHEMA_CONF,
        # UTC in the JVM too: a database's timestamp without time zone is read in the JVM's zone
        "spark.driver.extraJavaOptions": (
            f"-Dderby.system.home={settings.home} -Dlakehouse.logs={settings.home / 'logs'} "
            f"-Dderby.stream.error.file={derby_server.log_files(settings.home)[0]} "
            f"-Dlog4j2.configurationFile=file:{LOG4J_CONFIG} -Duser.timezone=UTC"
        ),
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        "spark.default.parallelism": str(settings.shuffle_partitions),
        "spark.databricks.delta.snapshotPartitions": str(settings.shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        # every Java charset for CSV files (windows-1252, ...), not only the UTF/ISO-8859-1 few
        "spark.sql.legacy.javaCharsets": "true",
    }
    if settings.spark_master.startswith("local"):
        # the installation's class archive, when `make setup` built it: a warm class load
        archive = class_archive.java_options(settings)
        if archive:
            conf["spark.driver.extraJavaOptions"] += " " + archive
    memory = driver_memory(settings)
    if memory:
        conf["spark.driver.memory"] = memory
    if settings.spark_master.startswith("local"):
        # Cached rows (a batch's flagged rows, while validation counts, checks and writes them)
        # stay uncompressed: building the compressed cache cost a fifth of validating a million
        # rows, and a local driver's heap is the machine's (a cluster's executors keep Spark's
        # compressed default)
        conf["spark.sql.inMemoryColumnarStorage.compressed"] = "false"
        # The parallel collector: its lighter barriers and no concurrent marking threads leave
        # a local driver's few cores to the tasks (three retail days: 4.5% faster than G1, side
        # by side); a cluster keeps its JVMs' defaults.
        conf["spark.driver.extraJavaOptions"] += " -XX:+UseParallelGC"
        # Python workers run this interpreter (its packages: pyarrow, Pillow, pypdf).
        conf["spark.pyspark.python"] = sys.executable
        conf["spark.pyspark.driver.python"] = sys.executable
        # Delta's VACUUM lists a table's folders in this many tasks (Spark's default: 10,000),
        # which on a local master took 20-60 s for a table of four files; a cluster keeps the
        # default, which its executors share.
        conf["spark.sql.sources.parallelPartitionDiscovery.parallelism"] = str(
            max(settings.shuffle_partitions, 2))
        if short_lived:
            # A JVM that compiles quickly (C1 only) starts ~25% faster than one that compiles for
            # peak speed; a session that serves several jobs (tests, the tasks of `lakehouse
            # run`) is faster with the JVM's defaults (2x on a warm day's validation).
            conf["spark.driver.extraJavaOptions"] += (
                " -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m")
    user_metastore = metastore.user_connection(settings)
    conf.update(user_metastore.spark_conf() if user_metastore else
                {"spark.hadoop.javax.jdo.option.ConnectionDriverName": metastore.CLIENT_DRIVER})
    driver_jars = metastore.driver_class_path(settings)
    if driver_jars:
        # the metastore client's JDBC drivers: its classloader does not see spark.jars
        conf["spark.driver.extraClassPath"] = os.pathsep.join(driver_jars)
    comet = settings.spark_accelerator == "comet"
    jars = [jar for jar in settings.jar_paths() if comet or not Path(jar).name.startswith(COMET_JAR)]
    if jars:
        conf["spark.jars"] = ",".join(jars)
    else:
        conf["spark.jars.packages"] = DELTA_PACKAGES
    if comet:
        conf.update(_comet_conf(jars))
    return conf


def driver_memory(settings: Settings) -> str | None:
    """The driver's heap: the setting, else for a local master (whose driver runs the tasks) a
    quarter of the machine's memory between 1g and 8g, else None (Spark's default)."""
    if settings.spark_driver_memory:
        return settings.spark_driver_memory
    if not settings.spark_master.startswith("local"):
        return None
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # no sysconf: Spark's default
        return None
    return f"{min(max(total // 4 // 2**30, 1), 8)}g"


def _comet_conf(jars: list[str]) -> dict[str, str]:
    """Comet's settings, refusing to start without its jar (Spark would fail to load the plugin
    with a bare ClassNotFoundException)."""
    if not any(Path(jar).name.startswith(COMET_JAR) for jar in jars):
        raise ConfigError("LAKEHOUSE_SPARK_ACCELERATOR=comet needs Comet's jar in the jars folder: "
                          "run `make jars` (infra/jvm/pom.xml pins it), or set "
                          "LAKEHOUSE_SPARK_ACCELERATOR=none")
    return dict(COMET_CONF)


def configure(builder: SparkSession.Builder, settings: Settings) -> SparkSession.Builder:
    """Return ``builder`` with the platform's Delta, catalog and jar settings applied (starting
    the home's metastore server if the default metastore is in use and it is not running)."""
    derby_server.log_files(settings.home)[0].parent.mkdir(parents=True, exist_ok=True)
    for key, value in {**spark_conf(settings), **metastore.connection(settings).spark_conf()}.items():
        builder = builder.config(key, value)
    return builder


def get_session(settings: Settings, app_name: str = "lakehouse",
                conf: dict[str, str] | None = None) -> SparkSession:
    """A session for ``settings`` (reuses the active one in the same process); ``conf``: Spark
    settings of this application beyond the platform's (e.g. the SQL endpoint's scheduler)."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    if settings.spark_master.startswith("local"):
        # PySpark starts its Python workers with $PYSPARK_PYTHON (default: python3 on PATH).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # pandas-on-Spark (imported by Great Expectations) asks for this before any session starts
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    builder = SparkSession.builder.appName(app_name).master(settings.spark_master)
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    if SparkContext._active_spark_context is not None:  # as the builder itself checks
        # the running session keeps its catalog: no metastore server to start for it
        for key, value in spark_conf(settings).items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
    else:
        with metastore.schema_created(settings) as creating:
            spark = configure(builder, settings).getOrCreate()
            if creating:  # alone: Hive creates the metastore's tables at its first use
                _open_catalog(spark, settings)
        if not creating:
            _open_catalog(spark, settings)
    spark.sparkContext.setLogLevel("ERROR")
    # PySpark logs every analysis error it raises, with the JVM stack, before the caller can
    # handle it (an unknown table in `lakehouse sql` is a message, not a stack trace)
    import logging

    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    return spark


def _open_catalog(spark: SparkSession, settings: Settings) -> None:
    """Open the catalog now, so a metastore that cannot be reached is one clear error here
    rather than Hive's "Unable to instantiate SessionHiveMetaStoreClient" at the first query."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        spark.catalog.databaseExists("default")
    except (PySparkException, Py4JError) as err:
        user = metastore.user_connection(settings)
        where = (f"LAKEHOUSE_METASTORE_URL={user.url.split('?')[0]}" if user
                 else f"the Derby server of {settings.home}")
        raise MetastoreError(
            f"the catalog's metastore database ({where}) cannot be opened: "
            f"{_root_cause(err)[:400]}; the metastore client's log is "
            f"{settings.home / 'logs' / 'metastore-client.log'}") from err


def _root_cause(err: Exception) -> str:
    """The innermost JVM cause's message (the database's own words), else the error's first line."""
    throwable = getattr(err, "java_exception", None) or getattr(err, "_origin", None)
    message = ""
    for _ in range(50):  # a cause chain, not a cycle
        if throwable is None:
            break
        message = str(throwable.getMessage() or throwable.toString())
        cause = throwable.getCause()
        throwable = None if cause is None or cause.equals(throwable) else cause
    return (message or str(err)).splitlines()[0]
