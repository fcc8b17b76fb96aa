-- What `make demo` asks of the tables examples/clickstream.sql fills
-- (${OUT} is replaced by the demo script).
SELECT 'bronze_events' AS table_name, count(*) AS rows FROM delta.`${OUT}/bronze_events`
UNION ALL SELECT 'page_views', count(*) FROM delta.`${OUT}/page_views`
UNION ALL SELECT 'clicks', count(*) FROM delta.`${OUT}/clicks`
UNION ALL SELECT 'cart_and_purchases', count(*) FROM delta.`${OUT}/cart_and_purchases`
UNION ALL SELECT 'quarantine', count(*) FROM delta.`${OUT}/quarantine`;

-- Revenue per country.
SELECT country, count(*) AS purchases, round(sum(price), 2) AS revenue
FROM delta.`${OUT}/cart_and_purchases` WHERE event_type = 'purchase'
GROUP BY country ORDER BY revenue DESC LIMIT 5;

-- Most viewed pages.
SELECT page, count(*) AS views, count(DISTINCT user_id) AS users
FROM delta.`${OUT}/page_views` GROUP BY page ORDER BY views DESC LIMIT 5;

-- Freshness: how far behind Kafka each committed row landed.
SELECT round(avg(unix_millis(kafka_timestamp) - unix_millis(event_time)), 1) AS avg_produce_lag_ms,
       count(*) AS rows
FROM delta.`${OUT}/bronze_events` WHERE event_time IS NOT NULL;

-- The quarantine keeps where each bad record came from.
SELECT kafka_partition, kafka_offset, substring(_corrupt_record, 1, 40) AS raw
FROM delta.`${OUT}/quarantine` ORDER BY kafka_offset LIMIT 3;

DESCRIBE HISTORY delta.`${OUT}/page_views` LIMIT 3;
