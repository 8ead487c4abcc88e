-- The activity rollup of pipeline `education_impact` (cohort-metrics activity-sql, dialect spark):
-- one row per (account_id, user_id, day, event_name) with `events`, the UTC days
-- [2025-11-01, 2026-11-01). Point `activity.table` at its output and set `activity.engine: table`.
SET spark.sql.session.timeZone = UTC;
SET spark.sql.ansi.enabled = true;
CREATE OR REPLACE TEMPORARY VIEW cohort_metrics_events
USING parquet
OPTIONS (path 'SAMPLE/events', recursiveFileLookup 'true');
SELECT account_id, user_id, day, event_name, COUNT(*) AS events
FROM (
  SELECT
    `account_id` AS account_id,
    `user_id` AS user_id,
    CAST(`event_time` AS DATE) AS day,
    `event_name` AS event_name
  FROM cohort_metrics_events
  WHERE `event_time` >= TIMESTAMP '2025-10-31 00:00:00' AND `event_time` < TIMESTAMP '2026-11-02 00:00:00'
) AS src
WHERE day >= DATE '2025-11-01' AND day < DATE '2026-11-01'
GROUP BY account_id, user_id, day, event_name;
