/* description: Orders and revenue per day and customer segment, the segment as it was when the customer ordered. */
SELECT f.order_date,
       c.segment,
       count(*) AS orders,
       sum(f.amount) AS revenue
FROM warehouse.fact_orders AS f
JOIN warehouse.dim_customer AS c ON f.customer_sk = c.customer_sk
GROUP BY f.order_date, c.segment
