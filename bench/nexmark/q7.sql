-- Nexmark q7 on lakestream, the same query as Flink nexmark's q7.sql.
--
--   lakestream run bench/nexmark/q7.sql --checkpoint DIR --trigger availableNow \
--       --var BOOTSTRAP=127.0.0.1:9092 --var TOPIC=nexmark --var MAX_OFFSETS=1000000
-- Events come from `lakestream generate --kind nexmark` (Flink nexmark's
-- one-topic JSON layout). The console sink with numRows 0 prints one header
-- per batch: a no-op sink, as Spark's noop and Flink's blackhole.
-- q7 (highest bid): the bids with the highest price of each tumbling window
-- of 10 seconds. A windowed max over the bids, joined back to the bids with
-- an event-time range condition: an aggregate inside a stream-stream join.
CREATE STREAMING TABLE console.`q7` OPTIONS ('numRows' = '0') AS
SELECT B.auction, B.price, B.bidder, B.dateTime, B.extra
FROM (SELECT bid.auction AS auction, bid.bidder AS bidder, bid.price AS price, bid.dateTime AS dateTime, bid.extra AS extra
      FROM STREAM read_kafka(
  bootstrapServers => '${BOOTSTRAP}',
  subscribe => '${TOPIC}',
  startingOffsets => 'earliest',
  maxOffsetsPerTrigger => ${MAX_OFFSETS},
  valueSchema => 'event_type INT,
    person STRUCT<id: BIGINT, name: STRING, emailAddress: STRING, creditCard: STRING, city: STRING, state: STRING,
                  dateTime: TIMESTAMP, extra: STRING>,
    auction STRUCT<id: BIGINT, itemName: STRING, description: STRING, initialBid: BIGINT, reserve: BIGINT,
                   dateTime: TIMESTAMP, expires: TIMESTAMP, seller: BIGINT, category: BIGINT, extra: STRING>,
    bid STRUCT<auction: BIGINT, bidder: BIGINT, price: BIGINT, channel: STRING, url: STRING, dateTime: TIMESTAMP,
               extra: STRING>')
      WHERE event_type = 2) WATERMARK dateTime DELAY OF INTERVAL 4 SECONDS AS B
JOIN (
  SELECT max(price) AS maxprice, window.end AS dateTime
  FROM (SELECT bid.auction AS auction, bid.bidder AS bidder, bid.price AS price, bid.dateTime AS dateTime, bid.extra AS extra
      FROM STREAM read_kafka(
  bootstrapServers => '${BOOTSTRAP}',
  subscribe => '${TOPIC}',
  startingOffsets => 'earliest',
  maxOffsetsPerTrigger => ${MAX_OFFSETS},
  valueSchema => 'event_type INT,
    person STRUCT<id: BIGINT, name: STRING, emailAddress: STRING, creditCard: STRING, city: STRING, state: STRING,
                  dateTime: TIMESTAMP, extra: STRING>,
    auction STRUCT<id: BIGINT, itemName: STRING, description: STRING, initialBid: BIGINT, reserve: BIGINT,
                   dateTime: TIMESTAMP, expires: TIMESTAMP, seller: BIGINT, category: BIGINT, extra: STRING>,
    bid STRUCT<auction: BIGINT, bidder: BIGINT, price: BIGINT, channel: STRING, url: STRING, dateTime: TIMESTAMP,
               extra: STRING>')
      WHERE event_type = 2) WATERMARK dateTime DELAY OF INTERVAL 4 SECONDS
  GROUP BY window(dateTime, '10 seconds')
) AS B1
ON B.price = B1.maxprice
WHERE B.dateTime BETWEEN B1.dateTime - INTERVAL 10 SECONDS AND B1.dateTime;
