"""The warehouse's dimension models: which silver dataset feeds them and which columns they track."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dimension:
    """An SCD2 dimension: one row per version of a business key."""

    table: str
    source: str            # silver table holding the daily full snapshot
    key: str               # business key
    surrogate_key: str
    tracked: tuple[str, ...]  # a change in any of these opens a new version
    types: dict[str, str]


DIM_CUSTOMER = Dimension(
    table="warehouse.dim_customer",
    source="silver.customers",
    key="customer_id",
    surrogate_key="customer_sk",
    tracked=("name", "email", "city", "segment"),
    types={"customer_id": "STRING", "name": "STRING", "email": "STRING", "city": "STRING",
           "segment": "STRING"},
)

DIM_PRODUCT = Dimension(
    table="warehouse.dim_product",
    source="silver.products",
    key="product_id",
    surrogate_key="product_sk",
    tracked=("name", "category", "unit_price", "active"),
    types={"product_id": "STRING", "name": "STRING", "category": "STRING",
           "unit_price": "DECIMAL(12,2)", "active": "BOOLEAN"},
)

DIMENSIONS = (DIM_CUSTOMER, DIM_PRODUCT)
FACT_ORDERS = "warehouse.fact_orders"
