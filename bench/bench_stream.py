#!/usr/bin/env python3
"""Streaming benchmark (issue 9, Speed): Kafka -> parse JSON -> filter -> Delta,
lakestream side by side with Spark Structured Streaming and a bare librdkafka
consumer, in one run, on the same real Kafka broker (scripts/kafka.sh; the
embedded mock broker only if the real one cannot start, and the results say so).

1. Throughput: a 4-partition topic pre-filled with N clickstream events
   (`lakestream generate`, --events, default 5M, --quick 500k) is drained with
   trigger availableNow by lakestream (lakestream.threads=2), by Spark local[2]
   (readStream kafka -> from_json -> filter -> writeStream delta, availableNow),
   and by bench/kafka_floor (consume and discard: the ceiling).
2. Freshness: `lakestream generate --rate R` stamps each event with its send
   time while the engine runs with its default trigger; a poller watches the
   table's _delta_log every ~10 ms and notes when each commit appeared; the
   commit's Parquet files are read afterwards (pyarrow) and each row's
   latency is visible time - event_time. The floor is kafka_floor's receive
   latency (receive time - message timestamp).

Every process shares the machine's cores with the broker and the producer;
"per core" divides by the 2 threads each engine is given. Writes
bench/results/stream-<date>.json and .md, PNG plots when matplotlib is
installed, and the "## Streaming: Kafka → Delta" section of BENCHMARKS.md.

  python bench/bench_stream.py [--quick] [--events N] [--rates 10000,100000]
                               [--seconds S] [--no-spark] [--binary PATH]
"""
from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

from common import machine  # bench/ is sys.path[0] when a script runs

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
THREADS = 2
WARMUP_S = 1.0
VALUE_SCHEMA = "event_id BIGINT, event_time TIMESTAMP, user_id BIGINT, event_type STRING, price DOUBLE"
PIPELINE = """CREATE STREAMING TABLE delta.`${OUT}` AS
SELECT event_id, event_time, event_type, user_id, price
FROM STREAM read_kafka(bootstrapServers => '${BS}', subscribe => '${TOPIC}',
  startingOffsets => 'earliest', ${EXTRA} valueSchema => '%s')
WHERE event_type <> 'search';
""" % VALUE_SCHEMA
SECTION_TITLE = "## Streaming: Kafka → Delta"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------
# Infrastructure: broker, topics, producer, floor binary


class Broker:
    """The real Kafka broker of scripts/kafka.sh in a private folder, or the
    embedded mock broker when the real one cannot start."""

    def __init__(self, work: str, binary: str, force_mock: bool):
        self.kind = "kafka"
        self.dir = os.path.join(work, "kafka")
        self.proc = None
        self.note = ""
        if not force_mock:
            p = subprocess.run(["bash", os.path.join(REPO, "scripts", "kafka.sh"), "start", "--dir", self.dir],
                               capture_output=True, text=True, timeout=300)
            m = re.search(r"bootstrap\.servers=(\S+)", p.stdout)
            if p.returncode == 0 and m:
                self.bs = m.group(1)
                return
            self.note = f"the real broker did not start ({p.stderr.strip()[-300:]}); used the mock"
            log(self.note)
        self.kind = "mock"
        self.proc = subprocess.Popen([binary, "broker"], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        self.bs = line.strip().split("=", 1)[1]

    def stop(self) -> None:
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)
        else:
            subprocess.run(["bash", os.path.join(REPO, "scripts", "kafka.sh"), "stop", "--dir", self.dir],
                           capture_output=True, timeout=120)

    def version(self) -> str:
        if self.kind == "mock":
            return "librdkafka mock cluster (lakestream broker)"
        return "Apache Kafka " + os.environ.get("KAFKA_VERSION", "4.1.1") + " (KRaft, scripts/kafka.sh)"


def create_topic(bs: str, topic: str, partitions: int = 4) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bs})
    for _, f in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)]).items():
        f.result(30)
    # Wait until the leaders are known, so the first produce does not stall.
    deadline = time.time() + 30
    while time.time() < deadline:
        md = admin.list_topics(topic, timeout=10)
        t = md.topics.get(topic)
        if t and not t.error and len(t.partitions) == partitions and all(p.leader >= 0 for p in t.partitions.values()):
            return
        time.sleep(0.2)
    raise RuntimeError(f"topic {topic} has no leaders after 30 s")


def generate(binary: str, bs: str, topic: str, rate: float, count: int) -> subprocess.Popen:
    return subprocess.Popen([binary, "generate", "--bootstrap-servers", bs, "--topic", topic,
                             "--rate", str(rate), "--count", str(count), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def build_floor(work: str) -> str:
    out = os.path.join(work, "kafka_floor")
    src = os.path.join(HERE, "kafka_floor.c")
    # The librdkafka lakestream links (scripts/install-deps.sh), so both read
    # with the same client library.
    rdk = os.path.join(REPO, ".deps", "librdkafka")
    subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", src, "-o", out, f"-I{rdk}/include", f"-L{rdk}/lib",
                    f"-Wl,-rpath,{rdk}/lib", "-lrdkafka"], check=True)
    return out


def run_timed(cmd: list[str], **kw) -> tuple[subprocess.CompletedProcess, float, float]:
    """Runs cmd; returns (completed process, wall seconds, CPU seconds of the child)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    out, err = p.stdout.read(), p.stderr.read()
    global LAST_SYS_S
    LAST_SYS_S = ru.ru_stime  # kernel share (page faults, I/O) of the CPU seconds, for the analysis
    return subprocess.CompletedProcess(cmd, p.returncode, out, err), wall, ru.ru_utime + ru.ru_stime


LAST_SYS_S = 0.0


# ----------------------------------------------------------------------------
# Delta log poller (freshness)


class DeltaPoller(threading.Thread):
    """Notes the wall time at which each commit file of a Delta table first
    exists (checked every `interval` s; a commit appears atomically)."""

    def __init__(self, table: str, interval: float = 0.01):
        super().__init__(daemon=True)
        self.log_dir = os.path.join(table, "_delta_log")
        self.interval = interval
        self.commits: list[tuple[int, float]] = []  # (version, seen at, epoch s)
        self.stop_flag = threading.Event()
        self.next_version = 0

    def poll_once(self) -> None:
        while os.path.exists(os.path.join(self.log_dir, f"{self.next_version:020d}.json")):
            self.commits.append((self.next_version, time.time()))
            self.next_version += 1

    def run(self) -> None:
        while not self.stop_flag.is_set():
            self.poll_once()
            time.sleep(self.interval)

    def stop(self) -> None:
        self.stop_flag.set()
        self.join()
        self.poll_once()


def latencies_from_commits(table: str, commits: list[tuple[int, float]], t_lo: float, t_hi: float):
    """Per valid row of every added file: (send time epoch s, visible - send time in ms).

    `lakestream generate` stamps event_time with the send time, except for its
    late events (3%, up to 5 s in the past by design, for watermark demos) and
    malformed ones. Single-threaded, its on-time stamps never decrease with
    event_id, so the send time of any event is the running maximum of
    event_time in event_id order (exact for on-time events, at most one
    inter-event gap early for late ones). Rows without an event_id or with an
    event_time outside [t_lo, t_hi] (garbage from malformed records) are
    dropped."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    ids, ev, seen_at = [], [], []
    for version, seen in commits:
        with open(os.path.join(table, "_delta_log", f"{version:020d}.json")) as f:
            for line in f:
                action = json.loads(line)
                if "add" not in action:
                    continue
                path = os.path.join(table, action["add"]["path"])
                # Spark writes INT96 timestamps; read them as us (ns overflows
                # on the garbage years of malformed records).
                t = pq.read_table(path, columns=["event_id", "event_time"], coerce_int96_timestamp_unit="us")
                us = t.column("event_time").cast(pa.timestamp("us", tz="UTC"), safe=False).cast(pa.int64())
                us = us.fill_null(0).to_numpy(zero_copy_only=False).astype(np.float64)
                eid = t.column("event_id").fill_null(-1).to_numpy(zero_copy_only=False)
                ok = (eid >= 0) & (us >= t_lo * 1e6) & (us <= t_hi * 1e6)
                ids.append(eid[ok])
                ev.append(us[ok] / 1e6)
                seen_at.append(np.full(int(ok.sum()), seen))
    if not ev:
        return np.array([]), np.array([])
    ids, ev, seen_at = np.concatenate(ids), np.concatenate(ev), np.concatenate(seen_at)
    order = np.argsort(ids, kind="stable")
    send = np.empty_like(ev)
    send[order] = np.maximum.accumulate(ev[order])
    return send, (seen_at - send) * 1e3


def batch_stats(progress: list[dict]) -> dict:
    """Distribution of batch sizes and phase durations over batches with data."""
    import numpy as np
    rows = [r for r in progress if r.get("numInputRows")]
    if not rows:
        return {}
    out = {"batches": len(rows)}
    n = np.array([r["numInputRows"] for r in rows], dtype=np.float64)
    out["rows_per_batch"] = {"p50": float(np.percentile(n, 50)), "max": float(n.max())}
    for k in ("triggerExecution", "addBatch", "walCommit", "commitOffsets", "latestOffset"):
        v = np.array([int(r.get("durationMs", {}).get(k, 0)) for r in rows], dtype=np.float64)
        out[k] = {"p50": float(np.percentile(v, 50)), "p99": float(np.percentile(v, 99)), "max": float(v.max())}
    # The Delta write alone (sink metric writeMs: files, commit, checkpoint);
    # addBatch minus it is reading, parsing and filtering.
    w = [r.get("sink", {}).get("metrics", {}).get("writeMs") for r in rows]
    if all(x is not None for x in w):
        v = np.array([int(x) for x in w], dtype=np.float64)
        out["deltaWrite"] = {"p50": float(np.percentile(v, 50)), "p99": float(np.percentile(v, 99)),
                             "max": float(v.max())}
        ck = [r for r in rows if r.get("sink", {}).get("metrics", {}).get("checkpointWritten") == "true"]
        out["checkpoint_batches"] = len(ck)
    return out


def summarize(lat_ms, ev=None, warmup_until=None) -> dict:
    import numpy as np
    lat = np.asarray(lat_ms, dtype=np.float64)
    if ev is not None and warmup_until is not None:
        lat = lat[np.asarray(ev) >= warmup_until]
    if lat.size == 0:
        return {"rows": 0}
    return {"rows": int(lat.size), "p50_ms": round(float(np.percentile(lat, 50)), 1),
            "p90_ms": round(float(np.percentile(lat, 90)), 1),
            "p99_ms": round(float(np.percentile(lat, 99)), 1), "max_ms": round(float(lat.max()), 1)}


def cdf_points(lat_ms, n: int = 200) -> list[list[float]]:
    import numpy as np
    lat = np.sort(np.asarray(lat_ms, dtype=np.float64))
    if lat.size == 0:
        return []
    qs = np.linspace(0, 1, n)
    return [[round(float(np.quantile(lat, q)), 2), round(float(q), 4)] for q in qs]


# ----------------------------------------------------------------------------
# lakestream


def write_pipeline(work: str, extra: str) -> str:
    path = os.path.join(work, f"pipeline-{abs(hash(extra)) % 10**6}.sql")
    with open(path, "w") as f:
        f.write(PIPELINE.replace("${EXTRA}", extra))
    return path


def lakestream_cmd(binary: str, pipeline: str, out: str, ck: str, bs: str, topic: str, trigger: str | None):
    cmd = [binary, "run", pipeline, "--checkpoint", ck, "--var", f"OUT={out}", "--var", f"BS={bs}",
           "--var", f"TOPIC={topic}", "-c", f"lakestream.threads={THREADS}", "-q"]
    if trigger:
        cmd += ["--trigger", trigger]
    return cmd


def read_progress(ck: str) -> list[dict]:
    rows = []
    for p in glob.glob(os.path.join(ck, "*", "progress.jsonl")):
        with open(p) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows


def progress_breakdown(progress: list[dict]) -> dict:
    """Sums durationMs over batches with input (where does the time go)."""
    tot: dict[str, int] = {}
    n = 0
    for r in progress:
        if not r.get("numInputRows"):
            continue
        n += 1
        for k, v in r.get("durationMs", {}).items():
            tot[k] = tot.get(k, 0) + int(v)
        w = r.get("sink", {}).get("metrics", {}).get("writeMs")
        if w is not None:  # part of addBatch: the Delta write alone
            tot["addBatch.deltaWrite"] = tot.get("addBatch.deltaWrite", 0) + int(w)
    out = {"batches_with_data": n, "durationMs_sum": tot,
           "pipelined": sum(1 for r in progress if r.get("numInputRows") and r.get("pipelined"))}
    if n:
        out["durationMs_mean"] = {k: round(v / n, 1) for k, v in tot.items()}
    return out


def throughput_lakestream(binary: str, work: str, bs: str, topic: str, run: int) -> dict:
    pipeline = write_pipeline(work, "maxOffsetsPerTrigger => 500000,")
    out, ck = os.path.join(work, f"tp-lakestream-{run}"), os.path.join(work, f"tp-lakestream-{run}-ck")
    p, wall, cpu = run_timed(lakestream_cmd(binary, pipeline, out, ck, bs, topic, "availableNow"))
    if p.returncode != 0:
        raise RuntimeError(f"lakestream run failed: {p.stderr[-2000:]}")
    progress = read_progress(ck)
    rows = sum(int(r.get("numInputRows", 0)) for r in progress)
    out_rows = sum(int(r.get("sink", {}).get("numOutputRows", 0) or 0) for r in progress)
    query_s = sum(int(r["durationMs"].get("triggerExecution", 0)) for r in progress) / 1e3
    return {"engine": "lakestream", "input_rows": rows, "output_rows": out_rows, "seconds": round(wall, 3),
            "seconds_in_batches": round(query_s, 3), "cpu_seconds": round(cpu, 3),
            "sys_cpu_seconds": round(LAST_SYS_S, 3),
            "events_per_s": round(rows / wall), "events_per_s_per_core": round(rows / wall / THREADS),
            "events_per_cpu_s": round(rows / cpu) if cpu else None,
            "progress": progress_breakdown(progress),
            "batches": [[int(r["numInputRows"]), int(r["durationMs"].get("addBatch", 0))] for r in progress]}


def freshness_lakestream(binary: str, work: str, bs: str, rate: int, seconds: float, tag: str) -> dict:
    topic = f"fresh-{tag}-{rate}"
    create_topic(bs, topic)
    pipeline = write_pipeline(work, "")
    out, ck = os.path.join(work, f"fr-ls-{rate}"), os.path.join(work, f"fr-ls-{rate}-ck")
    eng = subprocess.Popen(lakestream_cmd(binary, pipeline, out, ck, bs, topic, None),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)  # consumer up and positioned before the first event
    res = _drive_freshness(binary, bs, topic, out, rate, seconds, lambda: eng.poll() is not None,
                           lambda: read_progress(ck))
    eng.send_signal(signal.SIGINT)
    try:
        _, status, ru = os.wait4(eng.pid, 0)
        eng.returncode = os.waitstatus_to_exitcode(status)
        res["engine_cpu_seconds"] = round(ru.ru_utime + ru.ru_stime, 2)
    except ChildProcessError:
        pass
    if eng.returncode not in (0, -signal.SIGINT, 130):
        res["error"] = f"lakestream exited {eng.returncode}: {eng.stderr.read()[-1000:]}"
    res["progress"] = progress_breakdown(read_progress(ck))
    return res


def _drive_freshness(binary: str, bs: str, topic: str, table: str, rate: int, seconds: float, died,
                     progress_of) -> dict:
    poller = DeltaPoller(table)
    poller.start()
    count = int(rate * seconds)
    t_start = time.time()
    prod = generate(binary, bs, topic, rate, count)
    prod.wait()
    t_end = time.time()
    # Let the tail land: wait until no new commit for 2 s or for twice the
    # longest gap between commits so far (a slow engine), at most 30 s.
    last_n, last_change = len(poller.commits), time.time()

    def quiet_for() -> float:
        seen = [c[1] for c in poller.commits]
        gaps = [b - a for a, b in zip(seen, seen[1:])]
        return max([2.0] + [2 * g for g in gaps])

    while time.time() - last_change < quiet_for() and time.time() - t_end < 30 and not died():
        time.sleep(0.1)
        if len(poller.commits) != last_n:
            last_n, last_change = len(poller.commits), time.time()
    poller.stop()
    ev, lat = latencies_from_commits(table, poller.commits, t_start - 10, time.time() + 10)
    # Warm-up: events sent before the first commit appeared, plus WARMUP_S
    # (the producer's own start-up, e.g. acquiring its idempotent PID, stamps
    # events it cannot send yet).
    warm = (poller.commits[0][1] if poller.commits else t_start) + WARMUP_S
    window = [c for c in poller.commits if t_start <= c[1] <= t_end]
    return {"rate": rate, "seconds": round(t_end - t_start, 2), "produced": count,
            "producer_rc": prod.returncode, "rows_seen": int(lat.size),
            "commits": len(poller.commits),
            "commits_per_s": round(len(window) / max(t_end - t_start, 1e-9), 2),
            "all": summarize(lat), "steady": summarize(lat, ev, warm),
            "cdf": cdf_points(lat[ev >= warm]) if lat.size else [],
            "batches": batch_stats(progress_of())}


# ----------------------------------------------------------------------------
# Floor


def throughput_floor(floor: str, bs: str, topic: str) -> dict:
    p, wall, cpu = run_timed([floor, "drain", bs, topic])
    if p.returncode != 0:
        raise RuntimeError(f"kafka_floor drain failed: {p.stderr[-2000:]}")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    n = r["messages"]
    return {"engine": "librdkafka floor", "input_rows": n, "bytes": r["bytes"], "seconds": round(wall, 3),
            "seconds_consuming": round(r["seconds"], 3), "cpu_seconds": round(cpu, 3),
            "events_per_s": round(n / wall), "events_per_s_per_core": round(n / wall / THREADS),
            "events_per_cpu_s": round(n / cpu) if cpu else None}


def freshness_floor(binary: str, floor: str, work: str, bs: str, rate: int, seconds: float, tag: str) -> dict:
    import numpy as np
    topic = f"fresh-floor-{tag}-{rate}"
    create_topic(bs, topic)
    out = os.path.join(work, f"floor-lat-{rate}.bin")
    cons = subprocess.Popen([floor, "latency", bs, topic, str(seconds + 4.0), out],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    prod = generate(binary, bs, topic, rate, int(rate * seconds))
    prod.wait()
    cons.wait()
    rec = np.fromfile(out, dtype=np.int64).reshape(-1, 2)
    ev = rec[:, 0] / 1e3
    lat = rec[:, 1] / 1e3 - rec[:, 0].astype(np.float64)
    warm = float(rec[0, 1]) / 1e6 + WARMUP_S if len(rec) else 0.0
    return {"rate": rate, "produced": int(rate * seconds), "rows_seen": int(lat.size),
            "all": summarize(lat), "steady": summarize(lat, ev, warm), "cdf": cdf_points(lat[ev >= warm])}


# ----------------------------------------------------------------------------
# Spark


class Spark:
    def __init__(self, work: str):
        sys.path.insert(0, os.path.join(REPO, "tests", "python"))
        from spark_fixtures import _java_home, spark_jars  # noqa: E402
        jh = _java_home()
        if jh:
            os.environ.setdefault("JAVA_HOME", jh)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        from pyspark.sql import SparkSession
        t0 = time.perf_counter()
        self.session = (SparkSession.builder.master(f"local[{THREADS}]").appName("lakestream-stream-bench")
                        .config("spark.jars", ",".join(spark_jars()))
                        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
                        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
                        .config("spark.sql.session.timeZone", "UTC")
                        .config("spark.sql.shuffle.partitions", str(THREADS))
                        .config("spark.default.parallelism", str(THREADS))
                        .config("spark.ui.enabled", "false")
                        .config("spark.ui.showConsoleProgress", "false")
                        .config("spark.sql.warehouse.dir", os.path.join(work, "spark-warehouse"))
                        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={work}")
                        .config("spark.driver.memory", "2g")
                        .config("spark.sql.streaming.numRecentProgressUpdates", "100000")
                        .config("spark.databricks.delta.snapshotPartitions", "2")
                        .getOrCreate())
        self.session.sparkContext.setLogLevel("ERROR")
        self.startup_s = time.perf_counter() - t0
        self.pid = int(self.session._jvm.java.lang.ProcessHandle.current().pid())

    def cpu(self) -> float:
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def start(self, bs: str, topic: str, out: str, ck: str, available_now: bool, max_offsets: int | None):
        from pyspark.sql import functions as F
        r = (self.session.readStream.format("kafka").option("kafka.bootstrap.servers", bs)
             .option("subscribe", topic).option("startingOffsets", "earliest"))
        if max_offsets:
            r = r.option("maxOffsetsPerTrigger", str(max_offsets))
        df = (r.load().select(F.from_json(F.col("value").cast("string"), VALUE_SCHEMA).alias("j"))
              .select("j.event_id", "j.event_time", "j.event_type", "j.user_id", "j.price")
              .where("event_type <> 'search'"))
        w = df.writeStream.format("delta").option("checkpointLocation", ck)
        w = w.trigger(availableNow=True) if available_now else w.trigger(processingTime="0 seconds")
        return w.start(out)

    def stop(self) -> None:
        self.session.stop()


def spark_breakdown(progress: list[dict]) -> dict:
    return progress_breakdown(progress)


def throughput_spark(spark: Spark, work: str, bs: str, topic: str) -> dict:
    out, ck = os.path.join(work, "tp-spark"), os.path.join(work, "tp-spark-ck")
    cpu0 = spark.cpu()
    t0 = time.perf_counter()
    q = spark.start(bs, topic, out, ck, True, 500000)
    q.awaitTermination()
    wall = time.perf_counter() - t0
    cpu = spark.cpu() - cpu0
    progress = [json.loads(p.json) for p in q.recentProgress]
    rows = sum(int(r.get("numInputRows", 0)) for r in progress)
    return {"engine": "spark", "input_rows": rows, "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
            "session_startup_s": round(spark.startup_s, 1),
            "events_per_s": round(rows / wall), "events_per_s_per_core": round(rows / wall / THREADS),
            "events_per_cpu_s": round(rows / cpu) if cpu else None, "progress": spark_breakdown(progress)}


def freshness_spark(spark: Spark, binary: str, work: str, bs: str, rate: int, seconds: float, tag: str) -> dict:
    topic = f"fresh-spark-{tag}-{rate}"
    create_topic(bs, topic)
    out, ck = os.path.join(work, f"fr-spark-{rate}"), os.path.join(work, f"fr-spark-{rate}-ck")
    q = spark.start(bs, topic, out, ck, False, None)
    # Wait for the first (empty) batch, so the query is up before the first event.
    deadline = time.time() + 60
    while time.time() < deadline and q.lastProgress is None and q.isActive:
        time.sleep(0.2)
    time.sleep(1.0)
    cpu0 = spark.cpu()
    res = _drive_freshness(binary, bs, topic, out, rate, seconds, lambda: not q.isActive,
                           lambda: [json.loads(p.json) for p in q.recentProgress])
    res["engine_cpu_seconds"] = round(spark.cpu() - cpu0, 2)
    progress = [json.loads(p.json) for p in q.recentProgress]
    q.stop()
    res["progress"] = spark_breakdown(progress)
    return res


# ----------------------------------------------------------------------------
# Reporting


def fmt_rate(x) -> str:
    if x is None:
        return "—"
    return f"{x / 1e6:.2f}M" if x >= 1e6 else f"{x / 1e3:.0f}k"


def fmt_ms(s: dict, k: str) -> str:
    return f"{s[k]:,.0f}" if s and k in s else "—"


def render_markdown(r: dict) -> str:
    m = r["machine"]
    tp = r["throughput"]
    lines = [f"Run {r['date']} on {m['cpu']}, {m['nproc']} cores, {m['memory_gb']} GB RAM; broker: {r['broker']}"
             f"{' (' + r['broker_note'] + ')' if r.get('broker_note') else ''}. "
             f"Engines get {THREADS} threads (lakestream.threads=2, Spark local[2]); the broker, the producer "
             f"and the engine share the machine's {m['nproc']} cores. Pipeline: Kafka (4 partitions) → parse JSON "
             f"(5 of 11 fields) → `WHERE event_type <> 'search'` → Delta append; Spark with its fastest trigger "
             "(availableNow for the drain, processingTime 0 for freshness). `--quick`: "
             f"{r['quick']}. The machine was shared with other work: load average "
             f"{r.get('loadavg_start', [0])[0]:.1f} at start, {r.get('loadavg_end', [0])[0]:.1f} at end "
             f"(on {m['nproc']} cores), so absolute numbers are noisy; the peers ran back to back in the same run.",
             "", f"### Throughput: drain {r['events']:,} events with trigger availableNow", "",
             f"Best of {r.get('repeat', 1)} runs for lakestream and the floor (all runs in the JSON), one for "
             "Spark. maxOffsetsPerTrigger 500,000 for both engines.", "",
             "| engine | seconds | events/s | events/s/core | events per CPU-second | vs ceiling | lakestream vs it |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    ceil = tp.get("floor", {}).get("events_per_s")
    ls = tp.get("lakestream", {}).get("events_per_s")
    for key in ("floor", "lakestream", "spark"):
        t = tp.get(key)
        if not t:
            continue
        name = {"floor": "librdkafka consume+discard (ceiling)", "lakestream": "lakestream",
                "spark": "Spark 4.0.1 Structured Streaming"}[key]
        vs_ceil = f"{t['events_per_s'] / ceil:.0%}" if ceil else "—"
        vs_ls = f"{ls / t['events_per_s']:.2f}x" if ls and key != "lakestream" else ""
        lines.append(f"| {name} | {t['seconds']:.2f} | {fmt_rate(t['events_per_s'])} | "
                     f"{fmt_rate(t['events_per_s_per_core'])} | {fmt_rate(t.get('events_per_cpu_s'))} | "
                     f"{vs_ceil} | {vs_ls} |")
    lines += ["", "Targets: lakestream ≥ 50% of the ceiling → "
              f"**{r['ratios'].get('lakestream_vs_ceiling', 0):.0%}**; ≥ 5x Spark → "
              f"**{r['ratios'].get('lakestream_vs_spark', float('nan')):.2f}x**. Lakestream's seconds are the "
              "whole `lakestream run` process (start to exit); Spark's are the query alone "
              f"(start() to awaitTermination(), after a {tp.get('spark', {}).get('session_startup_s', '?')} s "
              "session start-up not counted).", ""]
    lines += ["### Freshness: visible in the Delta log − event time (send time)", "",
              "Producer `lakestream generate --rate R` for "
              f"{r['freshness_seconds']:.0f} s; poller checks `_delta_log` every 10 ms (a commit is visible when "
              "its log file exists). Percentiles over events sent from 1 s after the first row became visible "
              "(warm-up: producer and consumer start-up, e.g. the producer acquiring its idempotent PID, "
              "stamps events it cannot send yet); `max (all)` includes the warm-up. Send time = running maximum of "
              "event_time in event_id order (the generator back-dates 3% of events by up to 5 s on purpose, "
              "for watermark demos); the floor uses the Kafka CreateTime.", "",
              "| rate/s | engine | p50 ms | p90 ms | p99 ms | max ms | max (all) ms | commits/s | rows seen |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    notes = []
    for rate_key, fr in sorted(r["freshness"].items(), key=lambda kv: int(kv[0])):
        # Same seed and count for every peer, so the same valid rows.
        expected = max(fr[k].get("rows_seen", 0) for k in ("lakestream", "spark") if k in fr)
        for key in ("floor", "lakestream", "spark"):
            f = fr.get(key)
            if not f:
                continue
            if key != "floor" and f.get("rows_seen", 0) < expected:
                notes.append(f"- At {int(rate_key):,}/s {key} did not keep up: {f['rows_seen']:,} of {expected:,} "
                             "rows visible 30 s after the producer stopped; its percentiles leave the rest out "
                             "and so understate its latency.")
            if key != "floor" and f.get("seconds") and f["produced"] / f["seconds"] < 0.95 * int(rate_key):
                notes.append(f"- At {int(rate_key):,}/s the producer for {key} reached only "
                             f"{f['produced'] / f['seconds']:,.0f} events/s.")
            s, a = f.get("steady", {}), f.get("all", {})
            name = {"floor": "librdkafka receive (floor)", "lakestream": "lakestream", "spark": "Spark"}[key]
            cps = f"{f['commits_per_s']:.1f}" if "commits_per_s" in f else "—"
            lines.append(f"| {int(rate_key):,} | {name} | {fmt_ms(s, 'p50_ms')} | {fmt_ms(s, 'p90_ms')} | "
                         f"{fmt_ms(s, 'p99_ms')} | {fmt_ms(s, 'max_ms')} | {fmt_ms(a, 'max_ms')} | {cps} | "
                         f"{f.get('rows_seen', 0):,} |")
    if notes:
        lines += [""] + notes
    t100 = r["freshness"].get("100000", {})
    if t100.get("lakestream"):
        p99 = t100["lakestream"].get("steady", {}).get("p99_ms")
        sp = t100.get("spark", {}).get("steady", {}).get("p99_ms")
        lines += ["", f"Targets at 100k/s: p99 < 250 ms → **{p99:,.0f} ms**"
                  + (f"; < 1/10 of Spark's p99 ({sp:,.0f} ms) → **{p99 / sp:.2f}** of it" if sp else "") + "."]
    if r.get("plots"):
        lines += [""] + [f"![{os.path.basename(p)}](bench/results/{os.path.basename(p)})" for p in r["plots"]]
    else:
        lines += ["", "(No plots in this run; the CDF points are in the JSON.)"]
    if r.get("analysis"):
        lines += ["", "### Where lakestream's time goes", ""] + r["analysis"]
    return "\n".join(lines) + "\n"


def tp_floor(r: dict) -> float:
    return float(r["throughput"].get("floor", {}).get("events_per_s", 0)) or float("nan")


def analysis(r: dict) -> list[str]:
    out = []
    ls = r["throughput"].get("lakestream")
    if ls:
        pb = ls["progress"].get("durationMs_sum", {})
        tot = pb.get("triggerExecution", 0) or 1
        parts = ", ".join(f"{k} {v / 1e3:.2f} s ({v / tot:.0%})" for k, v in pb.items() if k != "triggerExecution"
                          and v)
        piped = ls["progress"].get("pipelined", 0)
        out.append(f"- Throughput run: {ls['progress']['batches_with_data']} batches"
                   + (f" ({piped} pipelined: a batch's Delta write and commit overlap the next batch's read, so "
                      f"the phases add up to more than the wall time)" if piped else "")
                   + f", triggerExecution "
                   f"{tot / 1e3:.2f} s of {ls['seconds']:.2f} s wall: {parts}. CPU {ls['cpu_seconds']:.2f} s "
                   + (f"(of which kernel {ls['sys_cpu_seconds']:.2f} s) " if "sys_cpu_seconds" in ls else "")
                   + f"for "
                   f"{ls['seconds']:.2f} s wall ({ls['cpu_seconds'] / ls['seconds']:.2f} cores busy of {THREADS}).")
        full = [b for b in ls.get("batches", []) if b[0] >= 100_000]
        if full:
            ms = sorted(b[1] for b in full)
            fastest = min(full, key=lambda b: b[1])
            rate = fastest[0] / max(fastest[1], 1) * 1e3
            extra = sum(m - ms[0] for m in ms) / 1e3
            out.append(f"- addBatch per full batch (ms, sorted): {ms}. The fastest ran at {rate / 1e3:,.0f}k "
                       f"events/s ({rate / tp_floor(r):.0%} of the ceiling); the time the others spent beyond it is "
                       f"{extra:.1f} s of the {ls['seconds']:.1f} s run.")
    for rate, fr in sorted(r["freshness"].items(), key=lambda kv: int(kv[0])):
        f = fr.get("lakestream")
        if not f:
            continue
        b = f.get("batches", {})
        if not b:
            continue
        phases = ", ".join(f"{k} {b[k]['p50']:.0f}/{b[k]['p99']:.0f}/{b[k]['max']:.0f}"
                           for k in ("triggerExecution", "addBatch", "deltaWrite", "walCommit", "commitOffsets",
                                     "latestOffset") if k in b)
        out.append(f"- Freshness {int(rate):,}/s: {b['batches']} batches with data, "
                   f"{b['rows_per_batch']['p50']:.0f} rows per batch (p50; max {b['rows_per_batch']['max']:.0f}); "
                   f"durationMs p50/p99/max: {phases}"
                   + (f" (deltaWrite: the Delta write alone, part of addBatch; {b['checkpoint_batches']} batches "
                      f"also started a Delta checkpoint, written in the background)" if "deltaWrite" in b else "")
                   + f"; engine CPU {f.get('engine_cpu_seconds', '?')} s over {f['seconds']:.0f} s.")
    return out


COLORS = {"floor": "#7f7f7f", "lakestream": "#1f77b4", "spark": "#ff7f0e"}


def _svg(path: str, w: int, h: int, body: list[str]) -> str:
    with open(path, "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
                f'font-size="12"><rect width="100%" height="100%" fill="white"/>' + "".join(body) + "</svg>\n")
    return path


def svg_plots(r: dict, date: str) -> list[str]:
    """Plain SVG charts (no matplotlib in .venv): throughput bars, latency CDFs."""
    import math
    paths = []
    tp = r["throughput"]
    keys = [k for k in ("floor", "lakestream", "spark") if k in tp]
    W, H, L, B = 560, 300, 70, 250
    top = max(tp[k]["events_per_s_per_core"] for k in keys) or 1
    body = ['<text x="280" y="20" text-anchor="middle">Kafka → Delta drain (availableNow): events/s/core</text>']
    for i, k in enumerate(keys):
        v = tp[k]["events_per_s_per_core"]
        bh = (B - 40) * v / top
        x = L + 30 + i * 150
        body.append(f'<rect x="{x}" y="{B - bh:.1f}" width="100" height="{bh:.1f}" fill="{COLORS[k]}"/>')
        body.append(f'<text x="{x + 50}" y="{B - bh - 5:.1f}" text-anchor="middle">{fmt_rate(v)}</text>')
        body.append(f'<text x="{x + 50}" y="{B + 18}" text-anchor="middle">{k}</text>')
    body.append(f'<line x1="{L}" y1="{B}" x2="{W - 20}" y2="{B}" stroke="black"/>')
    paths.append(_svg(os.path.join(RESULTS, f"stream-{date}-throughput.svg"), W, H, body))
    for rate, fr in sorted(r["freshness"].items(), key=lambda kv: int(kv[0])):
        curves = {k: fr[k]["cdf"] for k in ("floor", "lakestream", "spark") if k in fr and fr[k].get("cdf")}
        if not curves:
            continue
        xmax = max(max(x for x, _ in c) for c in curves.values())
        lo, hi = 0.0, math.log10(max(xmax, 10)) + 0.05  # log10(ms), from 1 ms
        X0, X1, Y0, Y1 = 60, 540, 260, 40
        sx = lambda ms: X0 + (X1 - X0) * (math.log10(max(ms, 1.0)) - lo) / (hi - lo)  # noqa: E731
        sy = lambda q: Y0 - (Y0 - Y1) * q  # noqa: E731
        body = [f'<text x="300" y="20" text-anchor="middle">Freshness CDF at {int(rate):,} events/s '
                "(visible − send time)</text>",
                f'<line x1="{X0}" y1="{Y0}" x2="{X1}" y2="{Y0}" stroke="black"/>',
                f'<line x1="{X0}" y1="{Y0}" x2="{X0}" y2="{Y1}" stroke="black"/>']
        for d in range(0, int(hi) + 1):
            x = sx(10 ** d)
            body.append(f'<line x1="{x:.1f}" y1="{Y0}" x2="{x:.1f}" y2="{Y1}" stroke="#ddd"/>')
            body.append(f'<text x="{x:.1f}" y="{Y0 + 16}" text-anchor="middle">{10 ** d:,} ms</text>')
        for q in (0.5, 0.9, 0.99):
            body.append(f'<line x1="{X0}" y1="{sy(q):.1f}" x2="{X1}" y2="{sy(q):.1f}" stroke="#eee"/>')
            body.append(f'<text x="{X0 - 5}" y="{sy(q) + 4:.1f}" text-anchor="end">p{q * 100:g}</text>')
        for i, (k, c) in enumerate(curves.items()):
            pts = " ".join(f"{sx(x):.1f},{sy(q):.1f}" for x, q in c)
            body.append(f'<polyline points="{pts}" fill="none" stroke="{COLORS[k]}" stroke-width="2"/>')
            body.append(f'<text x="{X1 - 100}" y="{Y0 - 60 + 15 * i}" fill="{COLORS[k]}">{k}</text>')
        paths.append(_svg(os.path.join(RESULTS, f"stream-{date}-freshness-{rate}.svg"), 600, 290, body))
    return paths


def plots(r: dict, date: str) -> list[str]:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return svg_plots(r, date)
    paths = []
    tp = r["throughput"]
    keys = [k for k in ("floor", "lakestream", "spark") if k in tp]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(keys, [tp[k]["events_per_s_per_core"] / 1e3 for k in keys], color=["grey", "tab:blue", "tab:orange"])
    ax.set_ylabel("thousand events/s/core")
    ax.set_title("Kafka → Delta drain (availableNow), 2 cores")
    p = os.path.join(RESULTS, f"stream-{date}-throughput.png")
    fig.tight_layout()
    fig.savefig(p, dpi=110)
    plt.close(fig)
    paths.append(p)
    for rate, fr in sorted(r["freshness"].items(), key=lambda kv: int(kv[0])):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for k in ("floor", "lakestream", "spark"):
            if k in fr and fr[k].get("cdf"):
                xs, ys = zip(*fr[k]["cdf"])
                ax.plot([max(x, 0.1) for x in xs], ys, label=k)
        ax.set_xscale("log")
        ax.set_xlabel("latency ms (log)")
        ax.set_ylabel("fraction of events")
        ax.set_title(f"Freshness CDF at {int(rate):,} events/s")
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
        p = os.path.join(RESULTS, f"stream-{date}-freshness-{rate}.png")
        fig.tight_layout()
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    return paths


def update_benchmarks_md(section_body: str) -> None:
    path = os.path.join(REPO, "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    block = f"{SECTION_TITLE}\n\n<!-- stream-bench:start -->\n{section_body}<!-- stream-bench:end -->\n"
    start = text.find(SECTION_TITLE)
    if start >= 0:
        nxt = text.find("\n## ", start + len(SECTION_TITLE))
        text = text[:start] + block + (text[nxt + 1:] if nxt >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    with open(path, "w") as f:
        f.write(text)


# ----------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="500k events, 10k and 100k/s for 8 s")
    ap.add_argument("--events", type=int, help="events pre-filled for the throughput run (default 5M)")
    ap.add_argument("--rates", help="freshness producer rates, comma-separated (default 10000,100000,200000; "
                    "--quick 10000,100000)")
    ap.add_argument("--seconds", type=float, help="freshness producer duration per rate (default 20)")
    ap.add_argument("--no-spark", action="store_true", help="skip Spark")
    ap.add_argument("--repeat", type=int, help="throughput runs of lakestream and the floor, best kept "
                    "(default 2, --quick 1); Spark runs once")
    ap.add_argument("--mock", action="store_true", help="use the embedded mock broker, not real Kafka")
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "lakestream"))
    ap.add_argument("--work", default="/tmp/lakestream-bench-stream")
    ap.add_argument("--no-md", action="store_true", help="do not touch BENCHMARKS.md")
    ap.add_argument("--tag", default="", help="suffix of the result file names")
    ap.add_argument("--keep-work", action="store_true", help="keep the work folder (broker data, "
                    "tables, checkpoints: about 2 GB) after the run")
    ap.add_argument("--render", metavar="JSON", help="only redo the plots, .md and BENCHMARKS.md section "
                    "from an earlier run's results JSON")
    a = ap.parse_args()
    if a.render:
        with open(a.render) as f:
            r = json.load(f)
        write_reports(r, a.render[:-len(".json")], not a.no_md and not r["quick"])
        return 0
    events = a.events or (500_000 if a.quick else 5_000_000)
    seconds = a.seconds or (8.0 if a.quick else 20.0)
    repeat = a.repeat or (1 if a.quick else 2)
    rates = [int(x) for x in (a.rates or ("10000,100000" if a.quick else "10000,100000,200000")).split(",") if x]
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    # A private copy, so a rebuild during the run neither breaks it nor mixes builds.
    src = os.path.abspath(a.binary)
    deadline = time.time() + 120
    while not os.access(src, os.X_OK) and time.time() < deadline:
        time.sleep(2)  # being relinked
    if not os.access(src, os.X_OK):
        print(f"bench_stream.py: {src} is not built (make build)", file=sys.stderr)
        return 1
    binary = os.path.join(a.work, "lakestream")
    shutil.copy2(src, binary)
    os.makedirs(RESULTS, exist_ok=True)
    tag = str(int(time.time()))
    t_begin = time.time()
    floor = build_floor(a.work)
    broker = Broker(a.work, binary, a.mock)
    log(f"broker {broker.kind} at {broker.bs}")
    r: dict = {"date": dt.date.today().isoformat(), "quick": a.quick, "machine": machine(),
               "loadavg_start": os.getloadavg(),
               "broker": broker.version(), "broker_note": broker.note, "events": events,
               "freshness_seconds": seconds, "repeat": repeat, "throughput": {}, "freshness": {}, "ratios": {}}
    spark = None
    try:
        topic = f"bench-{tag}"
        create_topic(broker.bs, topic)
        log(f"pre-filling {topic} with {events:,} events")
        t0 = time.perf_counter()
        p = generate(binary, broker.bs, topic, 0, events)
        if p.wait() != 0:
            raise RuntimeError(f"generate failed: {p.stderr.read()[-1000:]}")
        r["prefill_seconds"] = round(time.perf_counter() - t0, 1)
        runs: dict[str, list] = {"floor": [], "lakestream": []}
        for i in range(repeat):  # interleaved, best of `repeat` for each
            runs["floor"].append(throughput_floor(floor, broker.bs, topic))
            log(f"floor: {runs['floor'][-1]['events_per_s']:,} ev/s")
            runs["lakestream"].append(throughput_lakestream(binary, a.work, broker.bs, topic, i))
            log(f"lakestream: {runs['lakestream'][-1]['events_per_s']:,} ev/s")
        for k, v in runs.items():
            best = max(v, key=lambda x: x["events_per_s"])
            best["all_runs_events_per_s"] = [x["events_per_s"] for x in v]
            r["throughput"][k] = best
        for rate in rates:
            fr = r["freshness"].setdefault(str(rate), {})
            fr["floor"] = freshness_floor(binary, floor, a.work, broker.bs, rate, seconds, tag)
            log(f"floor freshness {rate}/s: {fr['floor']['steady']}")
            fr["lakestream"] = freshness_lakestream(binary, a.work, broker.bs, rate, seconds, tag)
            log(f"lakestream freshness {rate}/s: {fr['lakestream']['steady']}")
        if not a.no_spark:
            try:
                spark = Spark(a.work)
                r["throughput"]["spark"] = throughput_spark(spark, a.work, broker.bs, topic)
                log(f"spark: {r['throughput']['spark']['events_per_s']:,} ev/s")
                for rate in rates:
                    r["freshness"][str(rate)]["spark"] = freshness_spark(spark, binary, a.work, broker.bs, rate,
                                                                         seconds, tag)
                    log(f"spark freshness {rate}/s: {r['freshness'][str(rate)]['spark']['steady']}")
            except Exception as e:  # noqa: BLE001 - report what ran
                r["spark_error"] = repr(e)[-2000:]
                log(f"Spark failed: {e!r}"[:2000])
    finally:
        if spark:
            spark.stop()
        broker.stop()
    tp = r["throughput"]
    if "floor" in tp and "lakestream" in tp:
        r["ratios"]["lakestream_vs_ceiling"] = round(tp["lakestream"]["events_per_s"] / tp["floor"]["events_per_s"], 3)
    if "spark" in tp and "lakestream" in tp:
        r["ratios"]["lakestream_vs_spark"] = round(tp["lakestream"]["events_per_s"] / tp["spark"]["events_per_s"], 2)
    r["total_seconds"] = round(time.time() - t_begin, 1)
    r["loadavg_end"] = os.getloadavg()
    suffix = ("-quick" if a.quick else "") + (f"-{a.tag}" if a.tag else "")
    base = os.path.join(RESULTS, f"stream-{r['date']}{suffix}")
    write_reports(r, base, not a.no_md and not a.quick)
    log(f"done in {r['total_seconds']} s; results in {base}.json/.md")
    if not a.keep_work:
        shutil.rmtree(a.work, ignore_errors=True)  # the broker is stopped; its data and the tables go
    return 0


def write_reports(r: dict, base: str, benchmarks_md: bool) -> None:
    r["analysis"] = analysis(r)
    r["plots"] = [] if r["quick"] else plots(r, os.path.basename(base)[len("stream-"):])
    with open(base + ".json", "w") as f:
        json.dump(r, f, indent=1)
    md = render_markdown(r)
    with open(base + ".md", "w") as f:
        f.write(f"# Streaming benchmark {os.path.basename(base)[len('stream-'):]}\n\n"
                + md.replace("](bench/results/", "]("))
    if benchmarks_md:
        update_benchmarks_md(md)
    print(md)


if __name__ == "__main__":
    sys.exit(main())
