/*
description: One row per order, keyed to the customer and product versions valid when it was placed.
grain: [order_id]
event_time: order_ts
lookups:
  - {dimension: dim_customer, on: [customer_id]}
  - {dimension: dim_product, on: [product_id]}
unknown_members: infer
measures: [quantity, amount]
*/
SELECT order_id,
       order_ts,
       to_date(order_ts) AS order_date,
       CAST(date_format(order_ts, 'yyyyMMdd') AS INT) AS date_key,
       customer_id,
       product_id,
       quantity,
       amount,
       payment
FROM retail_silver.orders
