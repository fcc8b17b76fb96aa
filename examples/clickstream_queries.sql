-- What `make demo` asks of the tables examples/clickstream.sql fills
-- (the OUT variable is replaced by the demo script).
SELECT 'bronze_events' AS table_name, count(*) AS rows FROM delta.`${OUT}/bronze_events`
UNION ALL SELECT 'page_views', count(*) FROM delta.`${OUT}/page_views`
UNION ALL SELECT 'clicks', count(*) FROM delta.`${OUT}/clicks`
UNION ALL SELECT 'cart_and_purchases', count(*) FROM delta.`${OUT}/cart_and_purchases`
UNION ALL SELECT 'quarantine', count(*) FROM delta.`${OUT}/quarantine`
UNION ALL SELECT 'activity_per_5s', count(*) FROM delta.`${OUT}/activity_per_5s`;

-- The closed 5-second windows, as the streaming aggregate emitted them.
SELECT window_start, sum(events) AS events, sum(revenue) AS revenue, max(users) AS max_users_per_type
FROM delta.`${OUT}/activity_per_5s` GROUP BY window_start ORDER BY window_start LIMIT 5;

-- Revenue per country.
SELECT country, count(*) AS purchases, round(sum(price), 2) AS revenue
FROM delta.`${OUT}/cart_and_purchases` WHERE event_type = 'purchase'
GROUP BY country ORDER BY revenue DESC LIMIT 5;

-- Most viewed pages.
SELECT page, count(*) AS views, count(DISTINCT user_id) AS users
FROM delta.`${OUT}/page_views` GROUP BY page ORDER BY views DESC LIMIT 5;

-- Producer lag: Kafka's append time minus the event's own time (events with
-- absurd times, such as a number read as seconds, are left out).
SELECT round(avg(lag_ms), 1) AS avg_lag_ms, max(lag_ms) AS max_lag_ms, count(*) AS rows
FROM (SELECT unix_millis(kafka_timestamp) - unix_millis(event_time) AS lag_ms FROM delta.`${OUT}/bronze_events`)
WHERE abs(lag_ms) < 3600000;

-- The quarantine keeps where each bad record came from.
SELECT kafka_partition, kafka_offset, substring(_corrupt_record, 1, 40) AS raw
FROM delta.`${OUT}/quarantine` ORDER BY kafka_offset LIMIT 3;

-- Every micro-batch is one Delta commit carrying its batch id (txn).
DESCRIBE HISTORY delta.`${OUT}/page_views` LIMIT 3;
