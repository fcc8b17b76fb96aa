#!/usr/bin/env python3
"""Stateful streaming benchmark (issue 10, Speed): lakestream side by side
with Spark Structured Streaming 4.x (PySpark local[1]) in one run, on the same
Parquet input files and the same query, trigger availableNow, one core each
(lakestream.threads=1; Spark local[1]), spark.sql.shuffle.partitions=1 for both.

1. Windowed count over 1M keys: --events events (default 2M), key = a
   permutation of i mod 1M, event time advancing 100k events per second, so a
   10-second tumbling window holds every key once;
   GROUP BY window(ts, '10 seconds'), key, watermark 5 s, append mode.
   Both engines: events/s/core (wall) and events per CPU-second.
2. State commit time at 1M vs 10M keys resident: GROUP BY key (no watermark,
   update mode) over --resident distinct keys (default 10M) arriving
   --per-batch (default 250k) per batch, so the state grows by the same amount
   each batch. commitTimeMs of every batch is read from the progress records;
   the figure is the median over the batches around 1M keys vs the last ones.
3. Stream-stream join: impressions JOIN clicks ON ad_id AND click_time BETWEEN
   imp_time AND imp_time + INTERVAL 10 MINUTES, both with watermarks. Run on
   both; an engine that refuses the query is recorded as "unsupported: <error>".

Sinks do no I/O so the stateful operator is what is measured: lakestream's
console sink printing one row per batch (to /dev/null), Spark's noop sink.
Spark's state store is RocksDB with changelog checkpointing (the design
lakestream's store follows); Spark runs one small warm-up query first (JIT).
CPU time: lakestream's from wait4 (all its threads: RocksDB's background
flushes included), Spark's from the JVM's /proc/<pid>/stat (JIT and GC
threads included).

Writes bench/results/stateful-<date>.json and .md (with the proposed
"## Stateful" section of BENCHMARKS.md) and an SVG of commit time per batch.

  python bench/bench_stateful.py [--quick] [--binary PATH] [--no-spark]
                                 [--events N] [--resident N] [--per-batch N]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from common import machine  # bench/ is sys.path[0] when a script runs

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
BASE_US = int(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).timestamp()) * 1_000_000
KEYS = 1_000_000
WINDOW_RATE = 100_000  # events per second of event time: a 10 s window holds every key once
SHUFFLE_PARTITIONS = 1
TIMEOUT_S = 3600.0  # per lakestream run (--timeout)
SPARK_PROVIDER = "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider"
COLORS = {"lakestream": "#1f77b4", "spark": "#d62728"}
PALETTE = ["#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
ENGINE_NAMES = {"lakestream": "lakestream (RocksDB store)", "spark": "Spark (RocksDB store)"}


def commit_engines(c: dict) -> list[tuple[str, dict]]:
    """The engine entries of the commit benchmark's results, in order."""
    return [(k, v) for k, v in c.items() if isinstance(v, dict) and ("series" in v or "error" in v)]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------
# Input files (deterministic; modification times increase with the file number
# so both engines' file sources take them in order)


def write_file(folder: str, index: int, table: pa.Table) -> None:
    path = os.path.join(folder, f"part-{index:05d}.parquet")
    pq.write_table(table, path, row_group_size=1 << 20)
    os.utime(path, ns=(1_700_000_000_000_000_000 + index * 10**9,) * 2)


def ts_array(us: np.ndarray) -> pa.Array:
    return pa.array(us, pa.timestamp("us", tz="UTC"))


def gen_windowed(folder: str, events: int, per_file: int) -> None:
    """key = (i * 7919 + 13) mod 1M (7919 is prime to 1M: every 1M
    consecutive events hold every key once); ts = BASE + i / 100k s."""
    os.makedirs(folder)
    for f, lo in enumerate(range(0, events, per_file)):
        i = np.arange(lo, min(events, lo + per_file), dtype=np.int64)
        write_file(folder, f, pa.table({"key": (i * 7919 + 13) % KEYS,
                                        "ts": ts_array(BASE_US + i * 1_000_000 // WINDOW_RATE)}))


def windowed_expected(events: int) -> int:
    """Rows the append-mode windowed count emits: the (window, key) groups of
    windows the final watermark (max ts - 5 s) has closed."""
    i = np.arange(events, dtype=np.int64)
    ts = BASE_US + i * 1_000_000 // WINDOW_RATE
    watermark = int(ts.max()) - 5_000_000
    window = (ts - BASE_US) // 10_000_000
    closed = (window + 1) * 10_000_000 + BASE_US <= watermark
    keys = (i * 7919 + 13) % KEYS
    return int(np.unique(window[closed] * KEYS + keys[closed]).size)


def gen_resident(folder: str, keys: int, per_file: int) -> None:
    """Distinct keys, shuffled within each file; ts = BASE + key µs."""
    os.makedirs(folder)
    rng = np.random.default_rng(3)
    for f, lo in enumerate(range(0, keys, per_file)):
        k = rng.permutation(np.arange(lo, min(keys, lo + per_file), dtype=np.int64))
        write_file(folder, f, pa.table({"key": k, "ts": ts_array(BASE_US + k)}))


def gen_join(imps: str, clicks: str, impressions: int, files: int) -> int:
    """Impressions with distinct ad_ids at 2k per second of event time; 20%
    are clicked 0-300 s later. File f of either side holds the rows whose
    event time falls in the f-th slice of the run. Returns the join's size."""
    os.makedirs(imps)
    os.makedirs(clicks)
    rng = np.random.default_rng(5)
    ad = np.arange(impressions, dtype=np.int64)
    imp_t = BASE_US + ad * 500  # 2k per second
    clicked = rng.random(impressions) < 0.2
    click_ad = ad[clicked]
    click_t = imp_t[clicked] + rng.integers(0, 300_000_000, click_ad.size)
    order = np.argsort(click_t, kind="stable")
    click_ad, click_t = click_ad[order], click_t[order]
    span = (int(max(imp_t.max(), click_t.max())) - BASE_US) // files + 1
    for f in range(files):
        lo, hi = BASE_US + f * span, BASE_US + (f + 1) * span
        m = (imp_t >= lo) & (imp_t < hi)
        write_file(imps, f, pa.table({"ad_id": ad[m], "imp_time": ts_array(imp_t[m])}))
        m = (click_t >= lo) & (click_t < hi)
        write_file(clicks, f, pa.table({"ad_id": click_ad[m], "click_time": ts_array(click_t[m])}))
    return int(click_ad.size)


# ----------------------------------------------------------------------------
# lakestream


LAKESTREAM_CONF: list[str] = []  # extra `-c KEY=VALUE` of every lakestream run (--ls-conf)


def run_lakestream(binary: str, work: str, name: str, table_sql: str) -> dict:
    """Runs one pipeline to completion, or kills it after --timeout seconds
    (then the batches it finished are kept and the result carries "error")."""
    sql = os.path.join(work, f"{name}.sql")
    with open(sql, "w") as f:
        f.write(table_sql + ";\n")
    ck = os.path.join(work, f"ls-{name}-ck")
    t0 = time.perf_counter()
    err_path = os.path.join(work, f"ls-{name}.stderr")
    with open(err_path, "w") as err_file:
        proc = subprocess.Popen([binary, "run", sql, "--checkpoint", ck, "--trigger", "availableNow", "-q",
                                 "-c", "lakestream.threads=1",
                                 "-c", f"spark.sql.shuffle.partitions={SHUFFLE_PARTITIONS}",
                                 *[x for kv in LAKESTREAM_CONF for x in ("-c", kv)]],
                                stdout=subprocess.DEVNULL, stderr=err_file)
        timed_out = False
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > TIMEOUT_S:
                proc.kill()
                timed_out = True
                _, status, ru = os.wait4(proc.pid, 0)
                break
            time.sleep(0.2)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    files = glob.glob(os.path.join(ck, "*", "progress.jsonl"))
    progress = [json.loads(l) for l in open(files[0]) if l.strip()] if files else []
    out = {"seconds": round(wall, 2), "cpu_seconds": round(ru.ru_utime + ru.ru_stime, 2),
           "peak_rss_mb": round(ru.ru_maxrss / 1024), "progress": progress}
    if timed_out:
        last = progress[-1] if progress else {}
        rows = (last.get("stateOperators") or [{}])[0].get("numRowsTotal", 0)
        out["error"] = (f"killed after {TIMEOUT_S:.0f} s (--timeout): {len(progress)} batches done, "
                        f"{rows:,} keys in state")
    elif proc.returncode != 0:
        err = open(err_path).read().strip()
        out["error"] = err.splitlines()[-1] if err else f"exit {proc.returncode}"
    return out


# ----------------------------------------------------------------------------
# Spark


class Spark:
    def __init__(self, work: str):
        sys.path.insert(0, os.path.join(REPO, "tests", "python"))
        from spark_fixtures import _java_home  # noqa: E402
        jh = _java_home()
        if jh:
            os.environ.setdefault("JAVA_HOME", jh)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        from pyspark.sql import SparkSession
        t0 = time.perf_counter()
        self.session = (SparkSession.builder.master("local[1]").appName("lakestream-stateful-bench")
                        .config("spark.sql.session.timeZone", "UTC")
                        .config("spark.sql.shuffle.partitions", str(SHUFFLE_PARTITIONS))
                        .config("spark.default.parallelism", "1")
                        .config("spark.sql.streaming.stateStore.providerClass", SPARK_PROVIDER)
                        .config("spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled", "true")
                        .config("spark.ui.enabled", "false")
                        .config("spark.ui.showConsoleProgress", "false")
                        .config("spark.sql.warehouse.dir", os.path.join(work, "spark-warehouse"))
                        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={work}")
                        .config("spark.driver.memory", "4g")
                        .config("spark.sql.streaming.numRecentProgressUpdates", "100000")
                        .getOrCreate())
        self.session.sparkContext.setLogLevel("ERROR")
        self.startup_s = time.perf_counter() - t0
        self.version = self.session.version
        self.pid = int(self.session._jvm.java.lang.ProcessHandle.current().pid())

    def cpu(self) -> float:
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def run(self, df, mode: str, ck: str) -> dict:
        cpu0 = self.cpu()
        t0 = time.perf_counter()
        try:
            q = (df.writeStream.format("noop").outputMode(mode).option("checkpointLocation", ck)
                 .trigger(availableNow=True).start())
            q.awaitTermination()
        except Exception as e:  # noqa: BLE001  (the error is the result)
            return {"error": str(e).strip().splitlines()[0][:500]}
        wall = time.perf_counter() - t0
        cpu = self.cpu() - cpu0
        progress = [json.loads(p.json) for p in q.recentProgress]
        return {"seconds": round(wall, 2), "cpu_seconds": round(cpu, 2), "progress": progress}

    def read(self, folder: str, schema: str, files_per_trigger: int):
        return (self.session.readStream.schema(schema).option("maxFilesPerTrigger", files_per_trigger)
                .parquet(folder))

    def stop(self) -> None:
        self.session.stop()


# ----------------------------------------------------------------------------
# Figures from progress records


def summarize(run: dict, events: int, expected_rows: int | None) -> dict:
    if "error" in run:
        refused = any(w in run["error"].lower() for w in ("unsupported", "not supported", "not available"))
        return {"unsupported" if refused else "error": run["error"]}
    p = run["progress"]
    rows_in = sum(int(x.get("numInputRows", 0)) for x in p)
    rows_out = sum(int((x.get("sink") or {}).get("numOutputRows", 0) or 0) for x in p)
    ops = [x["stateOperators"][0] for x in p if x.get("stateOperators")]
    out = {"input_rows": rows_in, "output_rows": rows_out, "batches": len(p),
           "seconds": run["seconds"], "cpu_seconds": run["cpu_seconds"],
           "events_per_s_per_core": round(rows_in / run["seconds"]) if run["seconds"] else None,
           "events_per_cpu_s": round(rows_in / run["cpu_seconds"]) if run["cpu_seconds"] else None,
           "max_state_rows": max((o.get("numRowsTotal", 0) for o in ops), default=0),
           "max_memory_used_mb": round(max((o.get("memoryUsedBytes", 0) for o in ops), default=0) / 2**20, 1),
           "commit_ms_total": sum(int(o.get("commitTimeMs", 0)) for o in ops)}
    if "peak_rss_mb" in run:
        out["peak_rss_mb"] = run["peak_rss_mb"]
    if rows_in != events:
        out["warning"] = f"read {rows_in} rows, expected {events}"
    if expected_rows is not None:
        out["expected_output_rows"] = expected_rows
        out["output_correct"] = rows_out == expected_rows
    return out


def commit_series(run: dict) -> list[dict]:
    """Per data batch: state rows after it, commitTimeMs, batch duration."""
    series = []
    for x in run.get("progress", []):
        if not x.get("stateOperators") or not x.get("numInputRows"):
            continue
        o = x["stateOperators"][0]
        d = x.get("durationMs", {})
        series.append({"batch": x["batchId"], "rows_total": o.get("numRowsTotal"),
                       "commit_ms": o.get("commitTimeMs"), "batch_ms": d.get("triggerExecution"),
                       "add_batch_ms": d.get("addBatch"), "memory_mb": round(o.get("memoryUsedBytes", 0) / 2**20, 1)})
    return series


def at_size(series: list[dict], lo: float, hi: float) -> dict | None:
    sel = [s for s in series if lo <= (s["rows_total"] or 0) <= hi]
    if not sel:
        return None
    return {"batches": len(sel), "rows_total": int(statistics.median(s["rows_total"] for s in sel)),
            "commit_ms": statistics.median(s["commit_ms"] for s in sel),
            "batch_ms": statistics.median(s["batch_ms"] for s in sel)}


def commit_figures(run: dict, resident: int) -> dict:
    if "error" in run and not run.get("progress"):
        return {"error": run["error"]}
    s = commit_series(run)
    small = at_size(s, 0.75e6, 1.25e6)
    large = at_size(s, 0.9 * resident, 1.1 * resident)
    out = {"series": s, "at_1m": small, "at_full": large, "seconds": run["seconds"],
           "cpu_seconds": run["cpu_seconds"]}
    if "error" in run:  # stopped early: the batches it finished
        out["error"] = run["error"]
    if small and large and small["commit_ms"]:
        out["commit_ratio_full_vs_1m"] = round(large["commit_ms"] / small["commit_ms"], 2)
    if small and large and small["batch_ms"]:
        out["batch_ratio_full_vs_1m"] = round(large["batch_ms"] / small["batch_ms"], 2)
    return out


# ----------------------------------------------------------------------------
# The benchmarks


def lakestream_source(folder: str, files: int, watermark: str | None) -> str:
    src = f"STREAM read_files('{folder}', format => 'parquet', maxFilesPerTrigger => {files})"
    return src + (f" WATERMARK {watermark}" if watermark else "")


CONSOLE = "console.`{name}` OPTIONS ('numRows' = '1')"
WINDOWED_SQL = ("CREATE STREAMING TABLE " + CONSOLE + " TBLPROPERTIES ('outputMode' = 'append') AS "
                "SELECT window.start AS wstart, key, count(*) AS n FROM {src} GROUP BY window(ts, '10 seconds'), key")
RESIDENT_SQL = ("CREATE STREAMING TABLE " + CONSOLE + " TBLPROPERTIES ('outputMode' = 'update') AS "
                "SELECT key, count(*) AS n FROM {src} GROUP BY key")
JOIN_SQL = ("CREATE STREAMING TABLE " + CONSOLE + " AS\n"
            "SELECT i.ad_id, i.imp_time, c.click_time\n"
            "FROM {imps} AS i\nJOIN {clicks} AS c\n"
            "  ON i.ad_id = c.ad_id AND c.click_time BETWEEN i.imp_time AND i.imp_time + INTERVAL 10 MINUTES")


def side_by_side(a, lakestream_fn, spark_fn) -> dict:
    """Runs both engines, one after the other, or at the same time with --parallel."""
    out = {}
    if a.parallel and spark_fn:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            ls = pool.submit(lakestream_fn)
            out["spark"] = spark_fn()
            out["lakestream"] = ls.result()
        return {"lakestream": out["lakestream"], "spark": out["spark"]}
    out["lakestream"] = lakestream_fn()
    if spark_fn:
        out["spark"] = spark_fn()
    return out


def bench_windowed(a, work: str, spark: Spark | None) -> dict:
    folder = os.path.join(work, "windowed")
    per_file = 250_000
    gen_windowed(folder, a.events, per_file)
    expected = windowed_expected(a.events)
    res = {"events": a.events, "keys": KEYS, "files": -(-a.events // per_file), "files_per_trigger": 2,
           "expected_output_rows": expected}
    log(f"windowed count over {a.events:,} events")
    src = lakestream_source(folder, 2, "ts DELAY OF INTERVAL 5 SECONDS")

    def spark_fn():
        from pyspark.sql import functions as F
        df = (spark.read(folder, "key BIGINT, ts TIMESTAMP", 2).withWatermark("ts", "5 seconds")
              .groupBy(F.window("ts", "10 seconds"), "key").count())
        return summarize(spark.run(df, "append", os.path.join(work, "sp-windowed-ck")), a.events, expected)

    res.update(side_by_side(
        a, lambda: summarize(run_lakestream(a.binary, work, "windowed", WINDOWED_SQL.format(name="windowed", src=src)),
                             a.events, expected), spark_fn if spark else None))
    return res


def bench_commit(a, work: str, spark: Spark | None) -> dict:
    folder = os.path.join(work, "resident")
    gen_resident(folder, a.resident, a.per_batch)
    res = {"resident_keys": a.resident, "keys_per_batch": a.per_batch}
    log(f"commit time up to {a.resident:,} resident keys")
    src = lakestream_source(folder, 1, None)

    def spark_fn():
        df = spark.read(folder, "key BIGINT, ts TIMESTAMP", 1).groupBy("key").count()
        return commit_figures(spark.run(df, "update", os.path.join(work, "sp-resident-ck")), a.resident)

    res.update(side_by_side(
        a, lambda: commit_figures(run_lakestream(a.binary, work, "resident",
                                                 RESIDENT_SQL.format(name="resident", src=src)), a.resident),
        spark_fn if spark else None))
    return res


def bench_join(a, work: str, spark: Spark | None) -> dict:
    imps, clicks = os.path.join(work, "imps"), os.path.join(work, "clicks")
    files = 40
    matches = gen_join(imps, clicks, a.impressions, files)
    events = a.impressions + matches
    res = {"impressions": a.impressions, "clicks": matches, "events": events, "files_per_side": files}
    sql = JOIN_SQL.format(name="joined",
                          imps=lakestream_source(imps, 1, "imp_time DELAY OF INTERVAL 10 SECONDS"),
                          clicks=lakestream_source(clicks, 1, "click_time DELAY OF INTERVAL 20 SECONDS"))
    res["sql"] = sql
    log(f"stream-stream join over {events:,} events")

    def spark_fn():
        from pyspark.sql import functions as F
        i = spark.read(imps, "ad_id BIGINT, imp_time TIMESTAMP", 1).withWatermark("imp_time", "10 seconds")
        c = (spark.read(clicks, "ad_id BIGINT, click_time TIMESTAMP", 1).withColumnRenamed("ad_id", "click_ad_id")
             .withWatermark("click_time", "20 seconds"))
        df = i.join(c, F.expr("click_ad_id = ad_id AND click_time BETWEEN imp_time AND "
                              "imp_time + INTERVAL 10 MINUTES"))
        return summarize(spark.run(df, "append", os.path.join(work, "sp-join-ck")), events, matches)

    res.update(side_by_side(a, lambda: summarize(run_lakestream(a.binary, work, "joined", sql), events, matches),
                            spark_fn if spark else None))
    return res


def spark_warmup(spark: Spark, work: str) -> None:
    from pyspark.sql import functions as F
    folder = os.path.join(work, "warmup")
    gen_windowed(folder, 400_000, 100_000)
    df = (spark.read(folder, "key BIGINT, ts TIMESTAMP", 1).withWatermark("ts", "5 seconds")
          .groupBy(F.window("ts", "10 seconds"), "key").count())
    spark.run(df, "append", os.path.join(work, "sp-warmup-ck"))


# ----------------------------------------------------------------------------
# Reporting


def fmt_rate(x) -> str:
    if x is None:
        return "—"
    return f"{x / 1e6:.2f}M" if x >= 1e6 else f"{x / 1e3:.0f}k"


def ratio(a, b) -> str:
    return f"{a / b:.2f}×" if a and b else "—"


def engine_cell(r: dict) -> str | None:
    if "unsupported" in r:
        return f"unsupported: {r['unsupported']}"
    if "error" in r:
        return f"error: {r['error']}"
    return None


def throughput_rows(block: dict, title: str) -> list[str]:
    lines = [f"| {title} | seconds | events/s/core | events per CPU-second | CPU s | peak state rows | "
             "output rows (expected) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for key, name in (("lakestream", "lakestream"), ("spark", "Spark (RocksDB store)")):
        r = block.get(key)
        if r is None:
            continue
        bad = engine_cell(r)
        if bad:
            lines.append(f"| {name} | {bad} | | | | | |")
            continue
        ok = "" if r.get("output_correct", True) else " **wrong**"
        lines.append(f"| {name} | {r['seconds']:.1f} | {fmt_rate(r['events_per_s_per_core'])} | "
                     f"{fmt_rate(r['events_per_cpu_s'])} | {r['cpu_seconds']:.1f} | {r['max_state_rows']:,} | "
                     f"{r['output_rows']:,} ({r.get('expected_output_rows', 0):,}){ok} |")
    ls, sp = block.get("lakestream", {}), block.get("spark", {})
    if ls.get("events_per_s_per_core") and sp.get("events_per_s_per_core"):
        lines += ["", f"lakestream / Spark: {ratio(ls['events_per_s_per_core'], sp['events_per_s_per_core'])} "
                      f"events/s/core, {ratio(ls['events_per_cpu_s'], sp['events_per_cpu_s'])} per CPU-second."]
    return lines


def section(r: dict) -> list[str]:
    m = r["machine"]
    w, c, j = r["windowed"], r["commit"], r["join"]
    lines = [f"Run {r['date']} on {m['cpu']}, {m['nproc']} cores, {m['memory_gb']} GB RAM; "
             f"{r.get('spark_version', 'Spark not run')}. One core each: lakestream.threads=1 and Spark "
             f"local[1], spark.sql.shuffle.partitions={SHUFFLE_PARTITIONS} for both, the same Parquet files, "
             "trigger availableNow, sinks that write nothing (lakestream console printing one row per batch, "
             "Spark noop). Spark's state store: RocksDB with changelog checkpointing. The machine was shared "
             f"with other work: load average {r['loadavg_start'][0]:.1f} at start, {r['loadavg_end'][0]:.1f} "
             f"at end on {m['nproc']} cores, so wall-clock figures (events/s/core) are noisy and lower than "
             "on an idle machine; events per CPU-second are steadier."
             + (" With --parallel lakestream and Spark ran at the same time (each query beside its peer), "
                "so compare CPU-seconds, not seconds." if r.get("parallel") else "")
             + f" `bench/bench_stateful.py{' --quick' if r['quick'] else ''}{' --parallel' if r.get('parallel') else ''}`."]
    if w:
        lines += ["", f"### Windowed count over {KEYS:,} keys", "",
                  f"{w['events']:,} events (every key once per 10-second window), `GROUP BY window(ts, "
                  f"'10 seconds'), key`, watermark 5 s, append; {w['files_per_trigger']} files of 250k events "
                  "per batch.", ""]
        lines += throughput_rows(w, "engine")
    if "lakestream" in c:
        lines += commit_section(r, c)
    if j.get("sql"):
        lines += ["", "### Stream-stream join", "",
                  f"{j['impressions']:,} impressions and {j['clicks']:,} clicks (20% clicked 0-300 s later), "
                  f"{j['files_per_side']} files per side, one per batch; watermarks 10 s (impressions) and 20 s "
                  "(clicks):", "", "```sql", j["sql"], "```", ""]
        lines += throughput_rows(j, "engine")
    return lines


def commit_section(r: dict, c: dict) -> list[str]:
    lines = ["", f"### State commit time at 1M vs {c['resident_keys'] / 1e6:g}M keys resident", "",
              f"`GROUP BY key` (no watermark, update mode) over {c['resident_keys']:,} distinct keys, "
              f"{c['keys_per_batch']:,} new keys per batch: the state grows by the same amount every batch. "
              "Medians of commitTimeMs (progress `stateOperators[0]`) and of the whole batch "
              "(`durationMs.triggerExecution`) over the batches around 1M keys and around the full size.", "",
              "| engine | commit ms @1M | commit ms @full | ratio | batch ms @1M | batch ms @full | ratio | "
              "total s | CPU s |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    notes = []
    for key, x in commit_engines(c):
        name = ENGINE_NAMES.get(key, key)
        if "series" not in x:
            lines.append(f"| {name} | error: {x['error']} | | | | | | | |")
            continue
        s, f = x.get("at_1m") or {}, x.get("at_full") or {}
        if "run" in x:
            notes.append(f"{name}: from {x['run']}, load average {x['loadavg'][0]:.1f} at start, "
                         f"{x['loadavg'][1]:.1f} at end.")
        lines.append(f"| {name}{' ¹' if 'error' in x else ''} | {s.get('commit_ms', '—')} | "
                     f"{f.get('commit_ms', '—')} | {x.get('commit_ratio_full_vs_1m', '—')} | "
                     f"{s.get('batch_ms', '—')} | {f.get('batch_ms', '—')} | {x.get('batch_ratio_full_vs_1m', '—')} | "
                     f"{x['seconds']:.0f} | {x['cpu_seconds']:.0f} |")
        if "error" in x:
            last = x["series"][-1] if x["series"] else {}
            notes.append(f"¹ {name}: {x['error']}; its last batch: {last.get('rows_total', 0):,} keys, "
                         f"commit {last.get('commit_ms')} ms, batch {last.get('batch_ms')} ms.")
    if notes:
        lines += [""] + notes
    if r.get("svg"):
        lines += ["", f"![commit time per batch](bench/results/{r['svg']})"]
    return lines


def findings(r: dict) -> list[str]:
    out = []
    ls, sp = r["windowed"].get("lakestream", {}), r["windowed"].get("spark", {})
    if ls.get("events_per_s_per_core") and sp.get("events_per_s_per_core"):
        verdict = "above" if ls["events_per_s_per_core"] > sp["events_per_s_per_core"] else "below"
        out.append(f"- Windowed count: lakestream is {verdict} Spark "
                   f"({ratio(ls['events_per_s_per_core'], sp['events_per_s_per_core'])} per core).")
    for k, c in commit_engines(r["commit"]):
        name = ENGINE_NAMES.get(k, k)
        if c.get("commit_ratio_full_vs_1m") is not None:
            out.append(f"- {name}: commitTimeMs at {r['commit']['resident_keys'] / 1e6:g}M vs 1M keys "
                       f"{c['commit_ratio_full_vs_1m']}× (flat means ≈1); whole batch "
                       f"{c.get('batch_ratio_full_vs_1m')}×.")
        if c.get("error"):
            out.append(f"- {name}: {c['error']}")
    js, jsp = r["join"].get("lakestream", {}), r["join"].get("spark", {})
    if js.get("events_per_s_per_core") and jsp.get("events_per_s_per_core"):
        out.append(f"- Stream-stream join: lakestream / Spark "
                   f"{ratio(js['events_per_s_per_core'], jsp['events_per_s_per_core'])} per core, "
                   f"{ratio(js['events_per_cpu_s'], jsp['events_per_cpu_s'])} per CPU-second.")
    if ls.get("events_per_cpu_s") and sp.get("events_per_cpu_s"):
        out.append(f"- Windowed count per CPU-second: lakestream / Spark "
                   f"{ratio(ls['events_per_cpu_s'], sp['events_per_cpu_s'])}.")
    j = r["join"].get("lakestream", {})
    if "unsupported" in j or "error" in j:
        out.append(f"- Stream-stream join on lakestream: {engine_cell(j)}")
    return out


def svg_commit_plot(r: dict, name: str) -> str | None:
    """Commit time (ms) against resident keys, one polyline per engine (plain SVG:
    neither matplotlib nor gnuplot is installed here)."""
    curves = {k: v["series"] for k, v in commit_engines(r["commit"]) if v.get("series")}
    if not curves:
        return None
    W, H, X0, X1, Y0, Y1 = 640, 340, 70, 610, 290, 40
    xmax = max(s["rows_total"] for c in curves.values() for s in c) or 1
    # Outliers (a stalled batch) are clipped to the top so the rest stays readable.
    values = sorted(s["commit_ms"] for c in curves.values() for s in c)
    ymax = max(10, min(values[-1], 4 * values[int(0.9 * (len(values) - 1))]) * 1.1)
    clipped = sum(1 for v in values if v > ymax)
    sx = lambda x: X0 + (X1 - X0) * x / xmax  # noqa: E731
    sy = lambda y: Y0 - (Y0 - Y1) * y / ymax  # noqa: E731
    body = [f'<text x="{W / 2}" y="20" text-anchor="middle">State commit time per batch vs keys resident '
            f'({r["commit"]["keys_per_batch"]:,} new keys per batch)</text>',
            f'<line x1="{X0}" y1="{Y0}" x2="{X1}" y2="{Y0}" stroke="black"/>',
            f'<line x1="{X0}" y1="{Y0}" x2="{X0}" y2="{Y1}" stroke="black"/>',
            f'<text x="{W / 2}" y="{H - 8}" text-anchor="middle">keys in state (millions)</text>',
            f'<text x="16" y="{(Y0 + Y1) / 2}" transform="rotate(-90 16 {(Y0 + Y1) / 2})" '
            'text-anchor="middle">commitTimeMs</text>']
    if clipped:
        body.append(f'<text x="{X0 + 10}" y="{Y1 - 5}" font-size="10">{clipped} point(s) above '
                    f'{ymax:,.0f} ms drawn at the top</text>')
    step = max(1, round(xmax / 1e6 / 10))
    for m in range(0, int(xmax / 1e6) + 1, step):
        body.append(f'<text x="{sx(m * 1e6):.1f}" y="{Y0 + 16}" text-anchor="middle">{m}</text>')
    for q in range(5):
        y = ymax * q / 4
        body.append(f'<line x1="{X0}" y1="{sy(y):.1f}" x2="{X1}" y2="{sy(y):.1f}" stroke="#eee"/>')
        body.append(f'<text x="{X0 - 5}" y="{sy(y) + 4:.1f}" text-anchor="end">{y:,.0f}</text>')
    for i, (k, c) in enumerate(curves.items()):
        pts = " ".join(f"{sx(s['rows_total']):.1f},{sy(min(s['commit_ms'], ymax)):.1f}" for s in c)
        color = COLORS.get(k) or PALETTE[i % len(PALETTE)]
        body.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        body.append(f'<text x="{X1 - 200}" y="{Y1 + 15 + 15 * i}" fill="{color}">{ENGINE_NAMES.get(k, k)}</text>')
    path = os.path.join(RESULTS, name)
    with open(path, "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" '
                f'font-size="12"><rect width="100%" height="100%" fill="white"/>' + "".join(body) + "</svg>\n")
    return path


def write_reports(r: dict, base: str) -> None:
    r["svg"] = os.path.basename(base) + "-commit.svg"
    if not svg_commit_plot(r, r["svg"]):
        r["svg"] = None
    md = ["# Stateful streaming benchmark", "", *section(r), "", "## Findings", "", *findings(r), "",
          "## Proposed BENCHMARKS.md section", "", "```markdown", "## Stateful", "", *section(r), "```", ""]
    with open(base + ".md", "w") as f:
        f.write("\n".join(md))
    with open(base + ".json", "w") as f:
        json.dump(r, f, indent=1, default=str)
    log(f"wrote {base}.json, {base}.md" + (f", {r['svg']}" if r["svg"] else ""))


def engine_key(run: dict, key: str) -> str:
    """The name of a commit-benchmark engine entry of `run` in a merged table."""
    if key == "lakestream" and any("providerClass=memory" in c for c in run.get("lakestream_conf", [])):
        return "lakestream (in-memory store)"
    return key


def merge_commit_runs(paths: list[str], tag: str) -> int:
    """One commit-time table and plot from several runs' JSON; later files win
    on the same engine. Each entry keeps the run it came from and its load."""
    runs = [json.load(open(p)) for p in paths]
    r = dict(runs[-1])
    r["commit"] = {"resident_keys": runs[-1]["commit"]["resident_keys"],
                   "keys_per_batch": runs[-1]["commit"]["keys_per_batch"]}
    r["windowed"], r["join"] = {}, {"sql": ""}
    r["merged_from"] = []
    for p, run in zip(paths, runs):
        for k, v in commit_engines(run["commit"]):
            v = dict(v, run=os.path.basename(p), loadavg=[run["loadavg_start"][0], run["loadavg_end"][0]])
            r["commit"][engine_key(run, k)] = v
        r["merged_from"].append(os.path.basename(p))
    r["loadavg_start"] = [min(x["loadavg_start"][0] for x in runs)] * 3
    r["loadavg_end"] = [max(x["loadavg_end"][0] for x in runs)] * 3
    write_reports(r, os.path.join(RESULTS, f"stateful-{r['date']}{tag}"))
    print("\n".join(findings(r)))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "lakestream"))
    ap.add_argument("--quick", action="store_true", help="2M resident keys, 200k impressions")
    ap.add_argument("--parallel", action="store_true",
                    help="run lakestream and Spark at the same time (fits a loaded machine; compare CPU-seconds)")
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--events", type=int, help="windowed count events (default 2M: two windows, one closed)")
    ap.add_argument("--resident", type=int, help="keys resident at the end of the commit benchmark (default 10M)")
    ap.add_argument("--per-batch", type=int, help="new keys per batch in the commit benchmark (default 250k)")
    ap.add_argument("--impressions", type=int, help="join impressions (default 1M)")
    ap.add_argument("--only", default="windowed,commit,join", help="subset of windowed,commit,join")
    ap.add_argument("--work", help="scratch folder (default a temp dir, removed afterwards)")
    ap.add_argument("--tag", default="", help="suffix of the result file names")
    ap.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per lakestream run (default 3600)")
    ap.add_argument("--ls-conf", action="append", default=[],
                    help="extra lakestream -c KEY=VALUE, e.g. spark.sql.streaming.stateStore.providerClass=memory")
    ap.add_argument("--merge-commit", nargs="+", metavar="JSON",
                    help="run nothing: merge the commit-time results of earlier runs (e.g. one per state store "
                         "provider, run at the same time, and one with Spark) into one table and plot, written "
                         "as stateful-<date><tag>.json/.md")
    a = ap.parse_args()
    if a.merge_commit:
        return merge_commit_runs(a.merge_commit, a.tag)
    a.events = a.events or 2_000_000
    a.resident = a.resident or (2_000_000 if a.quick else 10_000_000)
    a.per_batch = a.per_batch or (100_000 if a.quick else 250_000)
    a.impressions = a.impressions or (200_000 if a.quick else 1_000_000)
    LAKESTREAM_CONF.extend(a.ls_conf)
    globals()["TIMEOUT_S"] = a.timeout
    if not os.path.exists(a.binary):
        print(f"bench_stateful: {a.binary} not built", file=sys.stderr)
        return 1
    work = a.work or tempfile.mkdtemp(prefix="bench-stateful-")
    os.makedirs(work, exist_ok=True)
    os.makedirs(RESULTS, exist_ok=True)
    only = set(a.only.split(","))
    r: dict = {"date": dt.date.today().isoformat(), "quick": a.quick, "machine": machine(),
               "loadavg_start": os.getloadavg(), "binary": os.path.abspath(a.binary),
               "shuffle_partitions": SHUFFLE_PARTITIONS, "threads": 1, "parallel": a.parallel,
               "lakestream_conf": a.ls_conf}
    spark = None
    try:
        if not a.no_spark:
            log("starting Spark local[1]")
            spark = Spark(work)
            r["spark_version"] = f"Spark {spark.version} (PySpark local[1])"
            r["spark_startup_s"] = round(spark.startup_s, 1)
            spark_warmup(spark, work)
        r["windowed"] = bench_windowed(a, work, spark) if "windowed" in only else {}
        r["commit"] = (bench_commit(a, work, spark) if "commit" in only
                       else {"resident_keys": a.resident, "keys_per_batch": a.per_batch})
        r["join"] = (bench_join(a, work, spark) if "join" in only
                     else {"impressions": 0, "clicks": 0, "events": 0, "files_per_side": 0, "sql": ""})
    finally:
        if spark:
            spark.stop()
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)
    r["loadavg_end"] = os.getloadavg()
    base = os.path.join(RESULTS, f"stateful-{r['date']}{a.tag}")
    write_reports(r, base)
    print("\n".join(findings(r)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
