/* description: Usage per day, metric and plan, the plan being the account's when it used the product. */
SELECT f.event_date,
       f.metric,
       a.plan_id,
       count(*) AS events,
       sum(f.quantity) AS quantity
FROM warehouse.fact_usage AS f
JOIN warehouse.dim_account AS a ON f.account_sk = a.account_sk
GROUP BY f.event_date, f.metric, a.plan_id
