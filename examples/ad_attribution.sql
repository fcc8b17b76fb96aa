-- A stream-stream join: page views (impressions) joined with the clicks on
-- the same page in the same session within 10 minutes after the view; views
-- that get no click in that time are written too, with NULL click columns,
-- once no click can match them any more (left outer join, watermarks 5 s).
--
--   lakestream run examples/ad_attribution.sql --checkpoint /tmp/cp-attribution \
--       --var BOOTSTRAP=127.0.0.1:9092 --var TOPIC=clickstream --var OUT=/tmp/lake
--
-- Both sides read the same topic; each buffers its rows in the join's state
-- store until the other side's watermark passes the 10-minute bound.
CREATE STREAMING TABLE delta.`${OUT}/attributed_views` AS
SELECT v.event_id AS view_id, v.session_id, v.page, v.event_time AS view_time,
       c.event_id AS click_id, c.event_time AS click_time
FROM STREAM read_kafka(bootstrapServers => '${BOOTSTRAP}', subscribe => '${TOPIC}',
                       startingOffsets => 'earliest', mode => 'DROPMALFORMED',
                       valueSchema => 'event_id BIGINT, event_time TIMESTAMP, session_id STRING,
                                       event_type STRING, page STRING')
       WATERMARK event_time DELAY OF INTERVAL 5 SECONDS AS v
LEFT JOIN STREAM read_kafka(bootstrapServers => '${BOOTSTRAP}', subscribe => '${TOPIC}',
                            startingOffsets => 'earliest', mode => 'DROPMALFORMED',
                            valueSchema => 'event_id BIGINT, event_time TIMESTAMP, session_id STRING,
                                            event_type STRING, page STRING')
       WATERMARK event_time DELAY OF INTERVAL 5 SECONDS AS c
  ON v.session_id = c.session_id AND v.page = c.page AND c.event_type = 'click'
 AND c.event_time BETWEEN v.event_time AND v.event_time + INTERVAL 10 MINUTES
WHERE v.event_type = 'page_view';
