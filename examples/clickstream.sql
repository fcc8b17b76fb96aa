-- The clickstream pipeline of `make demo`: Kafka -> bronze -> per-type tables
-- and a quarantine for malformed records, every table a Delta table that is
-- queryable the moment a batch commits.
--
--   lakestream run examples/clickstream.sql --checkpoint /tmp/cp \
--       --var BOOTSTRAP=127.0.0.1:9092 --var TOPIC=clickstream --var OUT=/tmp/lake
--
-- Each dollar-brace variable (OUT, TOPIC, BOOTSTRAP) is set by --var NAME=value.

-- Bronze: every record once, its JSON value parsed at the source. A record
-- that does not parse keeps NULL fields and its raw text in _corrupt_record
-- (mode PERMISSIVE, the default), so nothing is lost.
CREATE STREAMING TABLE delta.`${OUT}/bronze_events` AS
SELECT event_id,
       try_to_timestamp(event_time) AS event_time,  -- a malformed time becomes NULL (quarantined)
       user_id, session_id, event_type, page, product_id, price, country, device, referrer,
       _corrupt_record,
       partition AS kafka_partition,
       offset AS kafka_offset,
       timestamp AS kafka_timestamp
FROM STREAM read_kafka(
  bootstrapServers => '${BOOTSTRAP}',
  subscribe => '${TOPIC}',
  startingOffsets => 'earliest',
  maxOffsetsPerTrigger => 200000,
  valueSchema => 'event_id BIGINT, event_time STRING, user_id BIGINT, session_id STRING, event_type STRING,
                  page STRING, product_id BIGINT, price DOUBLE, country STRING, device STRING, referrer STRING');

-- Quarantine: the records that did not parse, with where they came from.
CREATE STREAMING TABLE delta.`${OUT}/quarantine` AS
SELECT _corrupt_record, kafka_partition, kafka_offset, kafka_timestamp
FROM STREAM delta.`${OUT}/bronze_events`
WHERE _corrupt_record IS NOT NULL OR event_id IS NULL OR event_time IS NULL;

-- Routing: one table per event type, partitioned by day for pruning.
CREATE STREAMING TABLE delta.`${OUT}/page_views` PARTITIONED BY (event_date) AS
SELECT event_id, event_time, to_date(event_time) AS event_date, user_id, session_id, page, country, device, referrer
FROM STREAM delta.`${OUT}/bronze_events`
WHERE _corrupt_record IS NULL AND event_type = 'page_view';

CREATE STREAMING TABLE delta.`${OUT}/clicks` PARTITIONED BY (event_date) AS
SELECT event_id, event_time, to_date(event_time) AS event_date, user_id, session_id, page, product_id, device
FROM STREAM delta.`${OUT}/bronze_events`
WHERE _corrupt_record IS NULL AND event_type IN ('click', 'search');

CREATE STREAMING TABLE delta.`${OUT}/cart_and_purchases` PARTITIONED BY (event_type) AS
SELECT event_id, event_time, event_type, user_id, session_id, product_id, price, country
FROM STREAM delta.`${OUT}/bronze_events`
WHERE _corrupt_record IS NULL AND event_type IN ('add_to_cart', 'purchase') AND price IS NOT NULL;

-- Activity per 5 seconds of event time: a windowed aggregate, each window
-- emitted once when the watermark (latest event time - 2 s) has closed it.
CREATE STREAMING TABLE delta.`${OUT}/activity_per_5s` AS
SELECT window.start AS window_start, window.end AS window_end, event_type,
       count(*) AS events, count(DISTINCT user_id) AS users, round(sum(price), 2) AS revenue
FROM STREAM delta.`${OUT}/bronze_events` WATERMARK event_time DELAY OF INTERVAL 2 SECONDS
WHERE _corrupt_record IS NULL AND event_time IS NOT NULL
GROUP BY window(event_time, '5 seconds'), event_type;
