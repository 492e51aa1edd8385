"""``fact_orders``: one row per valid order, keyed to the dimension versions valid at order time.

A late order (its ``order_ts`` days before its batch) gets the customer and product versions that
were valid then, not the current ones. An order placed before its customer's first known version
maps to that first version (the customer existed; the platform learned of it later).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from lake.delta_io import TableWrite, write_batch
from lake.tables import create_table
from warehouse.models import DIM_CUSTOMER, DIM_PRODUCT, FACT_ORDERS, Dimension

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

FACT_ORDERS_DDL = (
    "order_id STRING NOT NULL, order_ts TIMESTAMP NOT NULL, order_date DATE NOT NULL, "
    "date_key INT NOT NULL, customer_sk BIGINT NOT NULL, product_sk BIGINT NOT NULL, "
    "customer_id STRING NOT NULL, product_id STRING NOT NULL, quantity INT NOT NULL, "
    "amount DECIMAL(12,2) NOT NULL, recorded_at TIMESTAMP NOT NULL, _batch_id STRING NOT NULL"
)


def create_fact_orders(spark: SparkSession) -> None:
    create_table(
        spark, FACT_ORDERS, FACT_ORDERS_DDL,
        comment="Orders at order grain, keyed to dim_customer/dim_product versions valid at order time",
        checks={"quantity_positive": "quantity > 0", "amount_non_negative": "amount >= 0"},
    )


def version_at(dim: Dimension, versions: DataFrame, event_ts: str):
    """Transform: add ``dim.surrogate_key`` = the version of ``dim.key`` valid at ``event_ts``."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    def transform(df: DataFrame) -> DataFrame:
        v = versions.select(
            F.col(dim.key).alias("_v_key"), F.col(dim.surrogate_key).alias("_v_sk"),
            F.col("valid_from").alias("_v_from"), F.col("valid_to").alias("_v_to"),
        )
        joined = df.join(v, df[dim.key] == v["_v_key"], "left")
        valid_then = (F.col(event_ts) >= F.col("_v_from")) & (
            F.col("_v_to").isNull() | (F.col(event_ts) < F.col("_v_to"))
        )
        # Prefer the version valid at event time, else the earliest version.
        rank = F.row_number().over(
            Window.partitionBy(*df.columns).orderBy(
                F.when(valid_then, 0).otherwise(1), F.col("_v_from").asc()
            )
        )
        return (
            joined.withColumn("_rank", rank).where("_rank = 1")
            .withColumnRenamed("_v_sk", dim.surrogate_key)
            .drop("_v_key", "_v_from", "_v_to", "_rank")
        )

    return transform


def build_fact_orders(orders: DataFrame, customers: DataFrame, products: DataFrame,
                      recorded_at: datetime) -> DataFrame:
    """Pure transform from silver orders of a batch to fact rows."""
    from pyspark.sql import functions as F

    return (
        orders.select("order_id", "order_ts", "customer_id", "product_id", "quantity", "amount",
                      "_batch_id")
        .transform(version_at(DIM_CUSTOMER, customers, "order_ts"))
        .transform(version_at(DIM_PRODUCT, products, "order_ts"))
        .select(
            "order_id", "order_ts",
            F.to_date("order_ts").alias("order_date"),
            F.date_format("order_ts", "yyyyMMdd").cast("int").alias("date_key"),
            "customer_sk", "product_sk", "customer_id", "product_id", "quantity", "amount",
            F.lit(recorded_at).cast("timestamp").alias("recorded_at"),
            "_batch_id",
        )
    )


def load_fact_orders(spark: SparkSession, batch_id: str, recorded_at: datetime,
                     force: bool = False) -> TableWrite:
    create_fact_orders(spark)
    orders = spark.table("silver.orders").where(f"_batch_id = '{batch_id}'")
    fact = build_fact_orders(orders, spark.table(DIM_CUSTOMER.table),
                             spark.table(DIM_PRODUCT.table), recorded_at)
    return write_batch(fact, FACT_ORDERS, batch_id, force=force)


def fact_orders_sql() -> str:
    """The Spark SQL SELECT that :func:`build_fact_orders` computes with the DataFrame API (each
    order joined to the dimension versions valid at order time): what the load's column lineage
    is read from, and a readable statement of the fact's grain and keys."""
    def valid_at(alias: str) -> str:
        return (f"o.order_ts >= {alias}.valid_from AND ({alias}.valid_to IS NULL "
                f"OR o.order_ts < {alias}.valid_to)")

    return (
        f"INSERT INTO {FACT_ORDERS} "
        "SELECT o.order_id, o.order_ts, to_date(o.order_ts) AS order_date, "
        "CAST(date_format(o.order_ts, 'yyyyMMdd') AS INT) AS date_key, "
        f"c.{DIM_CUSTOMER.surrogate_key}, p.{DIM_PRODUCT.surrogate_key}, o.customer_id, "
        "o.product_id, o.quantity, o.amount, CAST(:recorded_at AS TIMESTAMP) AS recorded_at, "
        "o._batch_id "
        "FROM silver.orders AS o "
        f"LEFT JOIN {DIM_CUSTOMER.table} AS c ON o.customer_id = c.customer_id AND "
        f"{valid_at('c')} "
        f"LEFT JOIN {DIM_PRODUCT.table} AS p ON o.product_id = p.product_id AND {valid_at('p')} "
        "WHERE o._batch_id = :batch_id"
    )
