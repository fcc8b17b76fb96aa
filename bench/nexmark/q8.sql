-- Nexmark q8 on lakestream, the same query as Flink nexmark's q8.sql.
--
--   lakestream run bench/nexmark/q8.sql --checkpoint DIR --trigger availableNow \
--       --var BOOTSTRAP=127.0.0.1:9092 --var TOPIC=nexmark --var MAX_OFFSETS=1000000
-- Events come from `lakestream generate --kind nexmark` (Flink nexmark's
-- one-topic JSON layout). The console sink with numRows 0 prints one header
-- per batch: a no-op sink, as Spark's noop and Flink's blackhole.
-- q8 (monitor new users): the persons who opened an auction in the same
-- tumbling window of 10 seconds in which they registered. Two windowed
-- aggregates (persons, auctions) joined on the window: a stream-stream join
-- of aggregates.
CREATE STREAMING TABLE console.`q8` OPTIONS ('numRows' = '0') AS
SELECT P.id, P.name, P.starttime
FROM (
  SELECT id, name, window.start AS starttime, window.end AS endtime
  FROM (SELECT person.id AS id, person.name AS name, person.dateTime AS dateTime
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
        WHERE event_type = 0) WATERMARK dateTime DELAY OF INTERVAL 4 SECONDS
  GROUP BY window(dateTime, '10 seconds'), id, name
) AS P
JOIN (
  SELECT seller, window.start AS starttime, window.end AS endtime
  FROM (SELECT auction.seller AS seller, auction.dateTime AS dateTime
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
        WHERE event_type = 1) WATERMARK dateTime DELAY OF INTERVAL 4 SECONDS
  GROUP BY window(dateTime, '10 seconds'), seller
) AS A
ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime;
