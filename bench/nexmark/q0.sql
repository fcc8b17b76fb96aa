-- Nexmark q0 on lakestream (pass through): every bid, projected. Measures the cost of
-- reading and parsing the events. Flink nexmark's q0:
--   SELECT auction, bidder, price, dateTime, extra FROM bid
--
--   lakestream run bench/nexmark/q0.sql --checkpoint DIR --trigger availableNow \
--       --var BOOTSTRAP=127.0.0.1:9092 --var TOPIC=nexmark --var MAX_OFFSETS=1000000
-- The console sink with numRows 0 prints one header per batch: a no-op sink.
CREATE STREAMING TABLE console.`q0` OPTIONS ('numRows' = '0') AS
SELECT bid.auction AS auction, bid.bidder AS bidder, bid.price AS price, bid.dateTime AS dateTime, bid.extra AS extra
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
