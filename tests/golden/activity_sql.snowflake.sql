-- The activity rollup of pipeline `education_impact` (cohort-metrics activity-sql, dialect snowflake):
-- one row per (account_id, user_id, day, event_name) with `events`, the UTC days
-- [2025-11-01, 2026-11-01). Point `activity.table` at its output and set `activity.engine: table`.
ALTER SESSION SET TIMEZONE = 'UTC';
SELECT account_id, user_id, day, event_name, COUNT(*) AS events
FROM (
  SELECT
    account_id AS account_id,
    user_id AS user_id,
    CAST(CONVERT_TIMEZONE('UTC', event_time) AS DATE) AS day,
    event_name AS event_name
  FROM analytics.events
  WHERE event_time >= TO_TIMESTAMP_TZ('2025-10-31 00:00:00 +0000') AND event_time < TO_TIMESTAMP_TZ('2026-11-02 00:00:00 +0000')
) AS src
WHERE day >= DATE '2025-11-01' AND day < DATE '2026-11-01'
GROUP BY account_id, user_id, day, event_name;
