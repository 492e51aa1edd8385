/*
description: One row per usage event, keyed to the account version valid when the event happened.
grain: [event_id]
event_time: event_ts
lookups:
  - {dimension: dim_account, on: [region, account_no]}
unknown_members: infer
measures: [quantity]
*/
SELECT event_id,
       event_ts,
       to_date(event_ts) AS event_date,
       region,
       account_no,
       metric,
       quantity
FROM usage_silver.events
