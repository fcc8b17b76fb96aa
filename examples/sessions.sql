-- Sessionization: the clickstream cut into per-user sessions that end after
-- 30 seconds without an event (session_window), each session written once,
-- when the watermark (latest event time - 5 s) has passed its end.
--
--   lakestream run examples/sessions.sql --checkpoint /tmp/cp-sessions \
--       --var BOOTSTRAP=127.0.0.1:9092 --var TOPIC=clickstream --var OUT=/tmp/lake
--
-- Sessions of a user that an event bridges merge, also across micro-batches;
-- the open ones live in the state store (read_statestore shows them).
CREATE STREAMING TABLE delta.`${OUT}/user_sessions` AS
SELECT user_id,
       session_window.start AS session_start,
       session_window.end AS session_end,
       count(*) AS events,
       count(DISTINCT page) AS pages,
       sum(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END) AS purchases,
       round(sum(CASE WHEN event_type = 'purchase' THEN price END), 2) AS revenue
FROM STREAM read_kafka(
  bootstrapServers => '${BOOTSTRAP}',
  subscribe => '${TOPIC}',
  startingOffsets => 'earliest',
  mode => 'DROPMALFORMED',
  valueSchema => 'event_id BIGINT, event_time TIMESTAMP, user_id BIGINT, event_type STRING, page STRING,
                  price DOUBLE') WATERMARK event_time DELAY OF INTERVAL 5 SECONDS
WHERE user_id IS NOT NULL
GROUP BY session_window(event_time, '30 seconds'), user_id;
