"""Where tables live: one database per source and zone, a shared ``meta`` and ``warehouse``.

==========================  =====================================  ============================
database                    holds                                  location
==========================  =====================================  ============================
``<source>_bronze``         landed records, typed, nothing dropped ``<lake>/bronze/<source>``
``<source>_silver``         rows that passed validation            ``<lake>/silver/<source>``
``<source>_quarantine``     rows that failed, with the rules       ``<lake>/quarantine/<source>``
``meta``                    contract versions, batch counts, ...   ``<lake>/meta``
``warehouse``               dimensions, facts, views               ``<warehouse>/warehouse``
==========================  =====================================  ============================

So two sources may each have an ``orders`` dataset (``retail_silver.orders``,
``shop_silver.orders``), and a source's jobs write only its own databases (and its own rows of
``meta``, partitioned by source).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from lake.config.settings import Settings

ZONES = ("bronze", "silver", "quarantine")
META = "meta"
WAREHOUSE = "warehouse"


def database(source: str, zone: str) -> str:
    if zone not in ZONES:
        raise ValueError(f"zone {zone!r} is not one of {ZONES}")
    return f"{source}_{zone}"


def table(source: str, zone: str, dataset: str) -> str:
    """``retail_silver.orders`` for (``retail``, ``silver``, ``orders``)."""
    return f"{database(source, zone)}.{dataset}"


def zone_of(table_name: str) -> tuple[str, str, str]:
    """(source, zone, dataset) of a lake table name (ValueError for other tables)."""
    db, _, dataset = table_name.partition(".")
    for zone in ZONES:
        if db.endswith(f"_{zone}"):
            return db[: -len(zone) - 1], zone, dataset
    raise ValueError(f"{table_name!r} is not a table of a source's lake zone")


def locations(settings: Settings, sources: list[str]) -> dict[str, str]:
    """Database name -> storage location for ``sources``, ``meta`` and ``warehouse``."""
    out = {f"{s}_{z}": f"{settings.lake_root}/{z}/{s}" for s in sources for z in ZONES}
    out[META] = f"{settings.lake_root}/{META}"
    out[WAREHOUSE] = f"{settings.warehouse_root}/{WAREHOUSE}"
    return out


def ensure_databases(spark: SparkSession, settings: Settings, sources: list[str] = ()) -> None:
    """Create the zone databases of ``sources``, ``meta`` and ``warehouse`` where missing."""
    existing = {row[0] for row in spark.sql("SHOW DATABASES").collect()}
    for name, location in locations(settings, list(sources)).items():
        if name not in existing:
            spark.sql(f"CREATE DATABASE IF NOT EXISTS `{name}` LOCATION '{location}'")


def storage_location(settings: Settings, table_name: str) -> str:
    """The storage location of a platform table (a managed table of its database)."""
    db, _, name = table_name.partition(".")
    if db in (META, WAREHOUSE):
        return f"{locations(settings, [])[db]}/{name}"
    source, zone, dataset = zone_of(table_name)
    return f"{settings.lake_root}/{zone}/{source}/{dataset}"
