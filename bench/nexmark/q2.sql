-- Nexmark q2 on lakestream, the same query as Flink nexmark's q2.sql.
--
--   lakestream run bench/nexmark/q2.sql --checkpoint DIR --trigger availableNow \
--       --var BOOTSTRAP=127.0.0.1:9092 --var TOPIC=nexmark --var MAX_OFFSETS=1000000
-- Events come from `lakestream generate --kind nexmark` (Flink nexmark's
-- one-topic JSON layout). The console sink with numRows 0 prints one header
-- per batch: a no-op sink, as Spark's noop and Flink's blackhole.
-- q2 (selection): the bids on a few auctions.
--   SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0
CREATE STREAMING TABLE console.`q2` OPTIONS ('numRows' = '0') AS
SELECT bid.auction AS auction, bid.price AS price
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
WHERE event_type = 2 AND bid.auction % 123 = 0;
