-- Nexmark q1 on lakestream, the same query as Flink nexmark's q1.sql.
--
--   lakestream run bench/nexmark/q1.sql --checkpoint DIR --trigger availableNow \
--       --var BOOTSTRAP=127.0.0.1:9092 --var TOPIC=nexmark --var MAX_OFFSETS=1000000
-- Events come from `lakestream generate --kind nexmark` (Flink nexmark's
-- one-topic JSON layout). The console sink with numRows 0 prints one header
-- per batch: a no-op sink, as Spark's noop and Flink's blackhole.
-- q1 (currency conversion): every bid with its price in euros.
--   SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM bid
CREATE STREAMING TABLE console.`q1` OPTIONS ('numRows' = '0') AS
SELECT bid.auction AS auction, bid.bidder AS bidder, 0.908 * bid.price AS price, bid.dateTime AS dateTime,
       bid.extra AS extra
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
WHERE event_type = 2;
