-- The batch demo (until the streaming pipeline lands): analytical Spark SQL
-- over a million generated clickstream events in Parquet and users in CSV.
CREATE TEMP VIEW events AS SELECT * FROM read_files('build/demo-data/events.parquet');
CREATE TEMP VIEW users AS
  SELECT * FROM read_files('build/demo-data/users.csv', format => 'csv', header => true,
                           schema => 'user_id BIGINT, segment STRING');

-- Funnel: events per kind.
SELECT kind, count(*) AS events, count(DISTINCT user_id) AS users
FROM events GROUP BY kind ORDER BY events DESC;

-- Revenue per day and country (first three days).
SELECT date_trunc('DAY', ts) AS day, country, round(sum(price), 2) AS revenue
FROM events WHERE kind = 'purchase' AND ts < TIMESTAMP '2026-11-04 00:00:00'
GROUP BY 1, 2 ORDER BY day, revenue DESC LIMIT 10;

-- Top spenders per segment, with a join and a window function.
SELECT segment, user_id, spent, rank
FROM (
  SELECT u.segment, e.user_id, round(sum(e.price), 2) AS spent,
         rank() OVER (PARTITION BY u.segment ORDER BY sum(e.price) DESC) AS rank
  FROM events e JOIN users u USING (user_id)
  WHERE e.kind = 'purchase'
  GROUP BY u.segment, e.user_id
) WHERE rank <= 3 ORDER BY segment, rank;
