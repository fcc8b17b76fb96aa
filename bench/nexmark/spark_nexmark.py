"""Nexmark q0, q1, q2, q5, q7, q8 on Spark Structured Streaming (PySpark
local[N]): the same queries as bench/nexmark/qN.sql (lakestream) and
bench/nexmark/flink/qN.sql, over the topic that `lakestream generate --kind
nexmark` wrote (Flink nexmark's one-topic JSON layout), read with Spark's
Kafka source and from_json, trigger availableNow, sink noop.

    python bench/nexmark/spark_nexmark.py --query q5 --bootstrap 127.0.0.1:9092 --topic nexmark --cores 1

Prints one JSON line on stdout: batches, input and output rows, the span
from the first batch's start to the last batch's end (excludes JVM start and
query planning), the sum of batch durations, and the JVM's CPU time over the
run; or {"error": ...} when Spark refuses the query.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

SCHEMA = (
    "event_type INT, "
    "person STRUCT<id: BIGINT, name: STRING, emailAddress: STRING, creditCard: STRING, city: STRING, "
    "state: STRING, dateTime: TIMESTAMP, extra: STRING>, "
    "auction STRUCT<id: BIGINT, itemName: STRING, description: STRING, initialBid: BIGINT, reserve: BIGINT, "
    "dateTime: TIMESTAMP, expires: TIMESTAMP, seller: BIGINT, category: BIGINT, extra: STRING>, "
    "bid STRUCT<auction: BIGINT, bidder: BIGINT, price: BIGINT, channel: STRING, url: STRING, "
    "dateTime: TIMESTAMP, extra: STRING>")

# Flink nexmark's queries in Spark SQL: window(ts, size[, slide]) for
# TUMBLE/HOP, `%` for MOD. The views bid, person, auction carry a 4 s
# watermark on dateTime, as Flink nexmark's source table. q5, q7 and q8 are
# written the way Spark accepts chained stateful operators: the windowed
# aggregates keep their `window` column (which carries the watermark; a
# projected window.start does not) and the join is on it, and q7's max per
# window is joined on window_time(window), the window's event time (end - 1
# microsecond). Same results as the Flink forms.
QUERIES = {
    "q0": "SELECT auction, bidder, price, dateTime, extra FROM bid",
    "q1": "SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM bid",
    "q2": "SELECT auction, price FROM bid WHERE auction % 123 = 0",
    "q5": """
SELECT AuctionBids.auction, AuctionBids.num
FROM (
  SELECT window, auction, count(*) AS num
  FROM bid GROUP BY window(dateTime, '10 seconds', '2 seconds'), auction
) AS AuctionBids
JOIN (
  SELECT window, max(num) AS maxn
  FROM (
    SELECT window, auction, count(*) AS num
    FROM bid GROUP BY window(dateTime, '10 seconds', '2 seconds'), auction
  ) AS CountBids
  GROUP BY window
) AS MaxBids
ON AuctionBids.window = MaxBids.window AND AuctionBids.num >= MaxBids.maxn""",
    "q7": """
SELECT B.auction, B.price, B.bidder, B.dateTime, B.extra
FROM bid B
JOIN (
  SELECT maxprice, window_time(window) AS wtime
  FROM (SELECT window, max(price) AS maxprice FROM bid GROUP BY window(dateTime, '10 seconds'))
) B1
ON B.price = B1.maxprice
   AND B.dateTime BETWEEN B1.wtime - INTERVAL 10 SECONDS AND B1.wtime + INTERVAL 1 MICROSECOND""",
    "q8": """
SELECT P.id, P.name, P.window.start AS starttime
FROM (
  SELECT window, id, name FROM person GROUP BY window(dateTime, '10 seconds'), id, name
) P
JOIN (
  SELECT window, seller FROM auction GROUP BY window(dateTime, '10 seconds'), seller
) A
ON P.id = A.seller AND P.window = A.window""",
}


def spark_jars():
    folder = subprocess.run(["bash", os.path.join(REPO, "scripts", "spark-jars.sh")], check=True,
                            capture_output=True, text=True).stdout.strip()
    return [os.path.join(folder, j) for j in sorted(os.listdir(folder)) if j.endswith(".jar")]


def parse_ts(text):
    return datetime.datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--query", required=True, choices=sorted(QUERIES))
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--cores", type=int, default=1, help="local[N] and shuffle partitions")
    ap.add_argument("--max-offsets", type=int, default=1_000_000, help="maxOffsetsPerTrigger")
    ap.add_argument("--checkpoint", help="checkpoint folder (default: a temporary one)")
    args = ap.parse_args()

    from pyspark.sql import SparkSession
    from pyspark.sql.functions import col, from_json

    spark = (SparkSession.builder.master(f"local[{args.cores}]").appName(f"nexmark-{args.query}")
             .config("spark.jars", ",".join(spark_jars()))
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.shuffle.partitions", str(args.cores))
             .config("spark.default.parallelism", str(args.cores))
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.memory", "2g")
             .config("spark.sql.streaming.numRecentProgressUpdates", "10000")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    jvm_pid = spark._jvm.java.lang.ProcessHandle.current().pid()

    def jvm_cpu_s():
        # utime + stime of the Spark JVM (fields 14 and 15 of /proc/PID/stat, in clock ticks).
        with open(f"/proc/{jvm_pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    raw = (spark.readStream.format("kafka")
           .option("kafka.bootstrap.servers", args.bootstrap)
           .option("subscribe", args.topic)
           .option("startingOffsets", "earliest")
           .option("maxOffsetsPerTrigger", str(args.max_offsets))
           .option("failOnDataLoss", "false")
           .load())
    events = raw.select(from_json(col("value").cast("string"), SCHEMA).alias("e")).select("e.*")
    views = {
        "bid": "bid.auction AS auction, bid.bidder AS bidder, bid.price AS price, bid.channel AS channel, "
               "bid.url AS url, bid.dateTime AS dateTime, bid.extra AS extra",
        "person": "person.id AS id, person.name AS name, person.emailAddress AS emailAddress, "
                  "person.creditCard AS creditCard, person.city AS city, person.state AS state, "
                  "person.dateTime AS dateTime, person.extra AS extra",
        "auction": "auction.id AS id, auction.itemName AS itemName, auction.description AS description, "
                   "auction.initialBid AS initialBid, auction.reserve AS reserve, auction.dateTime AS dateTime, "
                   "auction.expires AS expires, auction.seller AS seller, auction.category AS category, "
                   "auction.extra AS extra",
    }
    for kind, (name, fields) in enumerate([("person", views["person"]), ("auction", views["auction"]),
                                          ("bid", views["bid"])]):
        (events.where(f"event_type = {kind}").selectExpr(*[f.strip() for f in fields.split(", ")])
         .withWatermark("dateTime", "4 seconds").createOrReplaceTempView(name))

    result = {"engine": "spark", "query": args.query, "cores": args.cores}
    checkpoint = args.checkpoint or tempfile.mkdtemp(prefix=f"nexmark-spark-{args.query}-")
    cpu_before = jvm_cpu_s()
    wall_before = time.time()
    try:
        query = (spark.sql(QUERIES[args.query]).writeStream.format("noop").outputMode("append")
                 .option("checkpointLocation", checkpoint).trigger(availableNow=True).start())
        query.awaitTermination()
    except Exception as e:  # AnalysisException and friends: Spark refuses the query
        result["error"] = str(e).strip().splitlines()[0][:500]
        print(json.dumps(result), flush=True)
        spark.stop()
        return 0
    wall_after = time.time()
    cpu_after = jvm_cpu_s()
    progress = [json.loads(p.json) for p in query.recentProgress]
    batches = [p for p in progress if p.get("numInputRows", 0) > 0 or p.get("batchId") is not None]
    if not batches:
        result["error"] = "no batch ran"
    else:
        first, last = batches[0], batches[-1]
        start = parse_ts(first["timestamp"])
        end = parse_ts(last["timestamp"]) + last["batchDuration"] / 1000.0
        out_rows = [p.get("sink", {}).get("numOutputRows", -1) for p in batches]
        result.update({
            "batches": len(batches),
            "input_rows": sum(p.get("numInputRows", 0) for p in batches),
            "output_rows": sum(out_rows) if all(r >= 0 for r in out_rows) else None,
            "processing_s": end - start,
            "sum_batch_s": sum(p["batchDuration"] for p in batches) / 1000.0,
            "run_wall_s": wall_after - wall_before,
            "cpu_s": cpu_after - cpu_before,
        })
    print(json.dumps(result), flush=True)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
