"""Spark session for the platform: Delta Lake, the Hive catalog, and the pinned jars.

:func:`configure` takes a builder and returns a builder (as ``delta.configure_spark_with_delta_pip``
does), so tests, jobs and notebooks share one recipe. Jars come from the folder ``make jars``
resolved (``spark.jars``); only where that folder is empty does it fall back to
``spark.jars.packages`` (which downloads, so it needs Maven Central).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lake.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DELTA_PACKAGES = "io.delta:delta-spark_4.1_2.13:4.3.0,io.delta:delta-storage:4.3.0"
ZONES = ("bronze", "silver", "quarantine")


def spark_conf(settings: Settings) -> dict[str, str]:
    """Every Spark setting the platform needs, as plain strings (also used for spark-submit)."""
    conf = {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": settings.warehouse_root,
        "spark.hadoop.javax.jdo.option.ConnectionURL": settings.metastore_url,
        "spark.hadoop.datanucleus.schema.autoCreateAll": "true",
        "spark.hadoop.hive.metastore.schema.verification": "false",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={settings.home}",
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        "spark.default.parallelism": str(settings.shuffle_partitions),
        "spark.databricks.delta.snapshotPartitions": str(settings.shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
    }
    jars = settings.jar_paths()
    if jars:
        conf["spark.jars"] = ",".join(jars)
    else:
        conf["spark.jars.packages"] = DELTA_PACKAGES
    return conf


def configure(builder: SparkSession.Builder, settings: Settings) -> SparkSession.Builder:
    """Return ``builder`` with the platform's Delta, catalog and jar settings applied."""
    for key, value in spark_conf(settings).items():
        builder = builder.config(key, value)
    return builder


def get_session(settings: Settings, app_name: str = "lakehouse") -> SparkSession:
    """A session for ``settings`` (reuses the active one in the same process)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name).master(settings.spark_master)
    spark = configure(builder, settings).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def ensure_databases(spark: SparkSession, settings: Settings) -> None:
    """Create the lake zones and the warehouse schema, each at its storage root."""
    for zone in ZONES:
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {zone} LOCATION '{settings.lake_root}/{zone}'")
    spark.sql(
        f"CREATE DATABASE IF NOT EXISTS warehouse LOCATION '{settings.warehouse_root}/warehouse'"
    )
