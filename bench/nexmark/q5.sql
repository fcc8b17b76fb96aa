-- Nexmark q5 on lakestream, the same query as Flink nexmark's q5.sql.
--
--   lakestream run bench/nexmark/q5.sql --checkpoint DIR --trigger availableNow \
--       --var BOOTSTRAP=127.0.0.1:9092 --var TOPIC=nexmark --var MAX_OFFSETS=1000000
-- Events come from `lakestream generate --kind nexmark` (Flink nexmark's
-- one-topic JSON layout). The console sink with numRows 0 prints one header
-- per batch: a no-op sink, as Spark's noop and Flink's blackhole.
-- q5 (hot items): the auctions with the most bids in each sliding window of
-- 10 seconds every 2 seconds. Two windowed aggregates over the bids, one of
-- them aggregated again (max per window), joined on the window: chained
-- stateful operators and a stream-stream join. Watermark: 4 s, as Flink
-- nexmark's source table.
CREATE STREAMING TABLE console.`q5` OPTIONS ('numRows' = '0') AS
SELECT AuctionBids.auction, AuctionBids.num
FROM (
  SELECT auction, count(*) AS num, window.start AS starttime, window.end AS endtime
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
  GROUP BY window(dateTime, '10 seconds', '2 seconds'), auction
) AS AuctionBids
JOIN (
  SELECT max(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime
  FROM (
    SELECT count(*) AS num, window.start AS starttime, window.end AS endtime
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
    GROUP BY window(dateTime, '10 seconds', '2 seconds'), auction
  ) AS CountBids
  GROUP BY CountBids.starttime, CountBids.endtime
) AS MaxBids
ON AuctionBids.starttime = MaxBids.starttime AND AuctionBids.endtime = MaxBids.endtime
   AND AuctionBids.num >= MaxBids.maxn;
