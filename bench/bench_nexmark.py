#!/usr/bin/env python3
"""Nexmark benchmark (issue 10, Speed): q0, q1, q2, q5, q7, q8 on lakestream,
Spark Structured Streaming 4.x and Flink 2.x SQL, side by side in one run, all
draining the same topic of a real Kafka broker (scripts/kafka.sh).

1. `lakestream generate --kind nexmark --rate 0 --count N` writes N events
   (default 10M, --quick 1M) once into a 2-partition topic (Flink nexmark's
   one-topic JSON layout; the generator's own rate is recorded).
2. For each query, engine and parallelism P (default 1 and 2), the engine
   drains the topic from the earliest offset to the end, pinned to P cores
   with taskset:
   - lakestream: `lakestream run bench/nexmark/qN.sql --trigger availableNow`
     with lakestream.threads=P; time = first batch start to last batch end of
     progress.jsonl (process start excluded);
   - Spark: bench/nexmark/spark_nexmark.py, local[P], shuffle partitions P,
     noop sink, availableNow; time = first batch start to last batch end of
     the query's progress (JVM start and planning excluded);
   - Flink: bench/nexmark/flink/NexmarkFlink.java in a local MiniCluster,
     parallelism P, blackhole sink, 'scan.bounded.mode' = 'latest-offset';
     time = the job's net runtime (JVM start, planning, submission excluded).
   events/s/core = N / time / P. CPU seconds of the engine process over the
   same span are recorded too (less sensitive to other load on the machine).
   A query an engine refuses is recorded as "unsupported: <error>".
3. Output counts are compared where cheap: q0, q1, q2 (lakestream and Spark
   from their progress, Flink by a count(*) of the same SELECT in batch mode).

Writes bench/results/nexmark-<date>.json, .md (with the proposed
"## Nexmark" section of BENCHMARKS.md and the published per-core figures)
and .svg (bar chart). Does not touch BENCHMARKS.md.

  python bench/bench_nexmark.py [--quick] [--events N] [--queries q0,q1]
      [--engines lakestream,spark,flink] [--parallelism 1,2] [--binary PATH]
      [--reuse-topic] [--tag NAME]
"""
from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from common import machine  # bench/ is sys.path[0] when a script runs

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
NEXMARK = os.path.join(HERE, "nexmark")
RESULTS = os.path.join(HERE, "results")
QUERIES = ["q0", "q1", "q2", "q5", "q7", "q8"]
ENGINES = ["lakestream", "spark", "flink"]
COUNTED = {"q0", "q1", "q2"}  # queries whose output counts are compared
COLORS = {"lakestream": "#1f77b4", "spark": "#ff7f0e", "flink": "#2ca02c"}
TIMEOUT_S = 3600

# Published per-core figures (events/s per core) with their sources; see
# published_section(). Only figures found in a citable source are listed.
PUBLISHED = {
    "flink": {
        "source": "Flink 1.13, nexmark/nexmark README (github.com/nexmark/nexmark), 'Nexmark Benchmark Result': "
                  "100M events from the in-process datagen source (no Kafka), 8 TaskManagers x 1 slot, "
                  "'Throughput/Cores' column (cores measured by a CPU collector)",
        "figures": {"q0": 155_020, "q1": 157_940, "q2": 175_210, "q5": 22_140, "q7": 12_330, "q8": 146_140},
    },
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def cpu_list(p: int) -> str:
    n = os.cpu_count() or 1
    return ",".join(str(i % n) for i in range(p))


def pinned(cmd: list[str], p: int) -> list[str]:
    return (["taskset", "-c", cpu_list(p)] + cmd) if shutil.which("taskset") else cmd


def run(cmd: list[str], timeout: float = TIMEOUT_S, **kw) -> tuple[subprocess.CompletedProcess, float, float]:
    """Runs cmd; returns (result, wall seconds, CPU seconds of the child and its waited-for children)."""
    before = os.times()
    t0 = time.time()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired as e:
        proc = subprocess.CompletedProcess(cmd, -9, e.stdout or "", (e.stderr or "") + f"\ntimeout after {timeout}s")
    wall = time.time() - t0
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return proc, wall, cpu


def first_error(text: str) -> str:
    # A JVM failure's root cause is its last "Caused by:" line.
    causes = [l.strip() for l in text.splitlines() if l.strip().startswith("Caused by:")]
    if causes:
        return causes[-1][:400]
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("Error:") or "Exception:" in s or s.startswith("error"):
            return s[:400]
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1][:400] if lines else "no output"


# ------------------------------------------------------------------ broker

class Kafka:
    def __init__(self, run_dir: str):
        self.dir = run_dir
        proc, _, _ = run(["bash", os.path.join(REPO, "scripts", "kafka.sh"), "start", "--dir", run_dir], timeout=600)
        m = re.search(r"bootstrap\.servers=(\S+)", proc.stdout)
        if proc.returncode != 0 or not m:
            raise SystemExit(f"scripts/kafka.sh start failed: {proc.stderr[-2000:]}")
        self.bootstrap = m.group(1)

    def stop(self) -> None:
        run(["bash", os.path.join(REPO, "scripts", "kafka.sh"), "stop", "--dir", self.dir], timeout=120)


def topic_count(bs: str, topic: str) -> int:
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bs, "group.id": "nexmark-count"})
    try:
        md = c.list_topics(topic, timeout=30)
        if topic not in md.topics or md.topics[topic].error is not None:
            return -1
        total = 0
        for p in md.topics[topic].partitions:
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
            total += hi - lo
        return total
    finally:
        c.close()


def create_topic(bs: str, topic: str, partitions: int) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bs})
    for t, f in admin.create_topics([NewTopic(topic, partitions, 1)]).items():
        f.result(timeout=60)


def generate(binary: str, bs: str, topic: str, events: int, seed: int) -> dict:
    cmd = pinned([binary, "generate", "--kind", "nexmark", "--bootstrap-servers", bs, "--topic", topic,
                  "--rate", "0", "--count", str(events), "--seed", str(seed), "-q"], 1)
    load = loadavg()
    proc, wall, cpu = run(cmd)
    if proc.returncode != 0:
        raise SystemExit(f"lakestream generate failed: {proc.stderr[-2000:]}")
    return {"events": events, "wall_s": round(wall, 2), "events_per_s": round(events / wall),
            "cpu_s": round(cpu, 2), "events_per_cpu_s": round(events / cpu) if cpu > 0 else None,
            "loadavg_before": load, "core": "taskset -c 0"}


# ------------------------------------------------------------------ engines

def iso_ts(s: str) -> float:
    return dt.datetime.strptime(s.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def lakestream_pipeline(query: str, options: list[str], work: str) -> str:
    """The query's pipeline file; with options (KEY=VALUE), a copy with them added to read_kafka."""
    path = os.path.join(NEXMARK, f"{query}.sql")
    if not options:
        return path
    extra = " ".join(f"`{o.split('=', 1)[0]}` => '{o.split('=', 1)[1]}'," for o in options)
    with open(path) as f:
        text = f.read().replace("startingOffsets => 'earliest',", f"startingOffsets => 'earliest', {extra}")
    out = os.path.join(work, f"{query}-options.sql")
    with open(out, "w") as f:
        f.write(text)
    return out


def run_lakestream(binary: str, query: str, p: int, bs: str, topic: str, max_offsets: int, work: str,
                   options: list[str] | None = None) -> dict:
    ck = tempfile.mkdtemp(prefix=f"ls-{query}-p{p}-", dir=work)
    cmd = pinned([binary, "run", lakestream_pipeline(query, options or [], work), "--checkpoint", ck,
                  "--trigger", "availableNow", "-q",
                  "-c", f"lakestream.threads={p}", "-c", f"spark.sql.shuffle.partitions={p}",
                  "--var", f"BOOTSTRAP={bs}", "--var", f"TOPIC={topic}", "--var", f"MAX_OFFSETS={max_offsets}"], p)
    proc, wall, cpu = run(cmd)
    if proc.returncode != 0:
        return {"error": first_error(proc.stderr + "\n" + proc.stdout), "wall_s": round(wall, 2)}
    progress = []
    for path in glob.glob(os.path.join(ck, "*", "progress.jsonl")):
        with open(path) as f:
            progress += [json.loads(l) for l in f if l.strip()]
    shutil.rmtree(ck, ignore_errors=True)
    if not progress:
        return {"error": "no progress.jsonl written", "wall_s": round(wall, 2)}
    progress.sort(key=lambda p_: p_["batchId"])
    start = iso_ts(progress[0]["timestamp"])
    end = max(iso_ts(b["timestamp"]) + b["batchDuration"] / 1000.0 for b in progress)
    out = [b.get("sink", {}).get("numOutputRows", -1) for b in progress]
    return {"time_s": end - start, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "batches": len(progress),
            "input_rows": sum(b.get("numInputRows", 0) for b in progress),
            "output_rows": sum(out) if all(o >= 0 for o in out) else None}


def run_spark(query: str, p: int, bs: str, topic: str, max_offsets: int, work: str) -> dict:
    python = os.path.join(REPO, ".venv", "bin", "python")
    if not os.path.exists(python):
        python = sys.executable
    cmd = pinned([python, os.path.join(NEXMARK, "spark_nexmark.py"), "--query", query, "--bootstrap", bs,
                  "--topic", topic, "--cores", str(p), "--max-offsets", str(max_offsets),
                  "--checkpoint", tempfile.mkdtemp(prefix=f"spark-{query}-p{p}-", dir=work)], p)
    proc, wall, _ = run(cmd)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    if not lines:
        return {"error": first_error(proc.stderr), "wall_s": round(wall, 2)}
    r = json.loads(lines[-1])
    if "error" in r:
        return {"error": r["error"], "wall_s": round(wall, 2)}
    return {"time_s": r["processing_s"], "wall_s": round(wall, 2), "cpu_s": round(r["cpu_s"], 2),
            "batches": r["batches"], "input_rows": r["input_rows"], "output_rows": r["output_rows"]}


def flink_classpath(work: str) -> str:
    jars = subprocess.run(["bash", os.path.join(REPO, "scripts", "flink.sh")], capture_output=True, text=True,
                          check=True).stdout.strip()
    classes = os.path.join(REPO, ".cache", "flink", "classes")
    os.makedirs(classes, exist_ok=True)
    src = os.path.join(NEXMARK, "flink", "NexmarkFlink.java")
    cls = os.path.join(classes, "NexmarkFlink.class")
    if not os.path.exists(cls) or os.path.getmtime(cls) < os.path.getmtime(src):
        subprocess.run(["javac", "-cp", f"{jars}/*", "-d", classes, src], check=True)
    return f"{jars}/*:{classes}"


def run_flink(cp: str, query: str, p: int, bs: str, topic: str, count: bool = False) -> dict:
    cmd = ["java", "-Xmx2g", "-cp", cp, "NexmarkFlink"] + (["--count"] if count else []) + [
        os.path.join(NEXMARK, "flink", "ddl.sql"), os.path.join(NEXMARK, "flink", f"{query}.sql"), str(p),
        f"BOOTSTRAP={bs}", f"TOPIC={topic}"]
    proc, wall, cpu = run(pinned(cmd, p))
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": first_error(proc.stderr), "wall_s": round(wall, 2)}
    r = json.loads(lines[-1])
    if count:
        return {"output_rows": r["rows"], "wall_s": round(wall, 2)}
    return {"time_s": r["net_runtime_ms"] / 1000.0, "wall_s": round(wall, 2), "cpu_s": r["job_cpu_s"],
            "process_cpu_s": round(cpu, 2), "jvm_start_to_submit_s": r["jvm_start_to_submit_ms"] / 1000.0}


# ------------------------------------------------------------------ report

def fmt_rate(x) -> str:
    if x is None:
        return "–"
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.0f} k"


def cell(r: dict | None) -> str:
    if r is None:
        return "not run"
    if "error" in r:
        return "unsupported" if r.get("unsupported") else "failed"
    return fmt_rate(r["events_per_s_per_core"])


def published_section(results: dict) -> list[str]:
    out = ["Best published per-core figures found (events/s per core):", ""]
    f = PUBLISHED["flink"]
    out.append("| query | " + " | ".join(QUERIES) + " |")
    out.append("|---" * (len(QUERIES) + 1) + "|")
    out.append("| Flink 1.13 (published) | " + " | ".join(fmt_rate(f["figures"].get(q)) for q in QUERIES) + " |")
    out += ["", f"Source: {f['source']}.", "",
            "Also published, for Alibaba Cloud's commercial Flink engine (Realtime Compute for Apache Flink, "
            "'Performance white paper: Nexmark benchmark', alibabacloud.com/help/en/flink/realtime-flink/support/"
            "nexmark-performance-testing): 4 to 6.5 M records/s for q0, q1, q2 and 150 k to 630 k records/s for "
            "q4, q5, q16 with 8 CU (compute units) and 100M records; an older version of the same page "
            "(alibabacloud.com/help/id/flink/nexmark-performance-testing) gives 40 k to 55 k records/s per CU "
            "for simple queries and 5 k to 10 k for joins, aggregations and windows. Neither states cores per CU, "
            "so no per-core figure is derived from them.", "",
            "Arroyo and RisingWave: no per-core Nexmark figure for these queries was found in a citable source "
            "during this run (RisingWave's published comparisons with Flink give relative speed-ups and "
            "cluster-level setups, not events/s per core; nothing for Arroyo), so none is given."]
    return out


def render_markdown(res: dict) -> str:
    date = res["date"]
    m = res["machine"]
    g = res["generator"]
    lines = [f"# Nexmark — {date}{' (' + res['tag'] + ')' if res.get('tag') else ''}", "",
             f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory_gb']} GB, kernel {m['kernel']}; "
             f"load average {res['loadavg_start']} at start, {res['loadavg_end']} at the end "
             "(the machine is shared: other work ran at the same time, so wall-clock figures carry noise; "
             "the CPU-second figures are less sensitive to it).", "",
             f"Input: {res['events']:,} events (`lakestream generate --kind nexmark --seed {res['seed']}`, "
             f"Flink nexmark's one-topic JSON, 1:3:46 persons:auctions:bids) in a {res['partitions']}-partition "
             f"topic of Apache Kafka {res['kafka_version']} on loopback. Generator: "
             f"{fmt_rate(g['events_per_s'])} events/s on one core ({g['wall_s']} s, {g['cpu_s']} CPU-s), "
             "idempotent producer, no compression.", "",
             "Engines: lakestream (`run --trigger availableNow`, console sink with numRows 0), "
             f"Spark {res['versions'].get('spark', '?')} Structured Streaming (local[P], from_json, noop sink, "
             f"availableNow), Flink {res['versions'].get('flink', '?')} SQL (local MiniCluster, Kafka connector "
             f"{res['versions'].get('flink_kafka', '?')}, json format, blackhole sink, bounded at the latest offsets). "
             "Each pinned to P cores with taskset. Time: first batch start to last batch end (lakestream, "
             "Spark), the job's net runtime (Flink): JVM and process start are excluded.", "",
             "Same queries everywhere (Flink nexmark's SQL; lakestream and Spark spell HOP/TUMBLE as window()). "
             "Spark's q5, q7, q8 keep the aggregate's `window` column and join on it (Spark accepts chained "
             "stateful operators only when the watermarked window column is kept). At the end of the input "
             "Flink's bounded source advances the watermark to +inf and closes every window; Spark's "
             "availableNow does not, so the last windows' rows are missing from Spark's q5, q7, q8 outputs "
             "(a few seconds of event time out of the whole input).", ""]
    for p in res["parallelism"]:
        lines += [f"## events/s/core, parallelism {p}", "",
                  "| query | " + " | ".join(res["engines"]) + " |", "|---" * (len(res["engines"]) + 1) + "|"]
        for q in res["queries"]:
            lines.append(f"| {q} | " + " | ".join(cell(res["runs"].get(f"{q}/{e}/{p}")) for e in res["engines"])
                         + " |")
        lines += ["", "events per CPU-second of the engine process (same runs):", "",
                  "| query | " + " | ".join(res["engines"]) + " |", "|---" * (len(res["engines"]) + 1) + "|"]
        for q in res["queries"]:
            row = []
            for e in res["engines"]:
                r = res["runs"].get(f"{q}/{e}/{p}")
                row.append(fmt_rate(r.get("events_per_cpu_s")) if r and "error" not in r else cell(r))
            lines.append(f"| {q} | " + " | ".join(row) + " |")
        lines.append("")
    errors = [(k, r["error"]) for k, r in res["runs"].items() if "error" in r]
    if errors:
        lines += ["## Unsupported or failed", ""]
        lines += [f"- {k}: `{e}`" for k, e in errors]
        lines.append("")
    if res.get("counts"):
        lines += ["## Output counts (q0, q1, q2)", "", "| query | " + " | ".join(res["engines"]) + " | agree |",
                  "|---" * (len(res["engines"]) + 2) + "|"]
        for q, c in res["counts"].items():
            vals = [c.get(e) for e in res["engines"]]
            known = {v for v in vals if isinstance(v, int)}
            lines.append(f"| {q} | " + " | ".join("–" if v is None else f"{v:,}" for v in vals) +
                         f" | {'yes' if len(known) == 1 else 'NO' if known else '–'} |")
        lines.append("")
    lines += ["## Raw runs", "",
              "time: the measured span; wall: the whole process (JVM start, planning included); CPU use: CPU "
              "seconds / (time x P), how busy the engine kept its cores (Flink's CPU counts from job submission, "
              "so it includes planning and job start).", "",
              "| run | time s | wall s | CPU s | CPU use | batches | input rows | output rows | load |",
              "|---|---|---|---|---|---|---|---|---|"]
    for k, r in res["runs"].items():
        if "error" in r:
            lines.append(f"| {k} | – | {r.get('wall_s', '–')} | – | – | – | – | – | {r.get('loadavg', '–')} |")
        else:
            p_ = int(k.rsplit("/", 1)[1])
            use = f"{r['cpu_s'] / r['time_s'] / p_:.0%}" if r.get("cpu_s") and r["time_s"] > 0 else "–"
            lines.append(f"| {k} | {r['time_s']:.2f} | {r['wall_s']} | {r.get('cpu_s', '–')} | {use} | "
                         f"{r.get('batches', '–')} | {r.get('input_rows', '–')} | {r.get('output_rows', '–')} | "
                         f"{r.get('loadavg', '–')} |")
    if res.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {n}" for n in res["notes"]]
    lines += ["", "---", "", "Proposed section for BENCHMARKS.md:", "", "## Nexmark", "",
              f"`python bench/bench_nexmark.py` ({res['events']:,} events, one topic of a real Kafka broker, "
              "every engine pinned to P cores; details and raw runs in bench/results/nexmark-*.md). "
              "events/s/core at parallelism 1:", "",
              "| query | " + " | ".join(res["engines"]) + " | Flink 1.13 published |",
              "|---" * (len(res["engines"]) + 2) + "|"]
    p1 = res["parallelism"][0]
    for q in res["queries"]:
        lines.append(f"| {q} | " + " | ".join(cell(res["runs"].get(f"{q}/{e}/{p1}")) for e in res["engines"]) +
                     f" | {fmt_rate(PUBLISHED['flink']['figures'].get(q))} |")
    lines += [""] + published_section(res) + [""]
    return "\n".join(lines)


def svg_chart(res: dict, path: str) -> None:
    p = res["parallelism"][0]
    qs, es = res["queries"], res["engines"]
    vals = {(q, e): (res["runs"].get(f"{q}/{e}/{p}") or {}).get("events_per_s_per_core") for q in qs for e in es}
    top = max([v for v in vals.values() if v] + [1])
    W, H, L, B, T = 140 + 110 * len(qs), 340, 70, 280, 40
    gw = 100 / max(len(es), 1)
    body = [f'<text x="{W / 2}" y="20" text-anchor="middle">Nexmark: events/s/core (parallelism {p}, '
            f'{res["events"]:,} events from Kafka)</text>',
            f'<line x1="{L}" y1="{B}" x2="{W - 20}" y2="{B}" stroke="black"/>']
    for i, q in enumerate(qs):
        x0 = L + 10 + i * 110
        body.append(f'<text x="{x0 + 50}" y="{B + 18}" text-anchor="middle">{q}</text>')
        for j, e in enumerate(es):
            v = vals[(q, e)]
            x = x0 + j * gw
            if not v:
                body.append(f'<text x="{x + gw / 2:.1f}" y="{B - 4}" text-anchor="middle" font-size="9" '
                            f'fill="{COLORS[e]}">n/a</text>')
                continue
            bh = (B - T) * v / top
            body.append(f'<rect x="{x:.1f}" y="{B - bh:.1f}" width="{gw - 4:.1f}" height="{bh:.1f}" '
                        f'fill="{COLORS[e]}"/>')
            body.append(f'<text x="{x + gw / 2:.1f}" y="{B - bh - 3:.1f}" text-anchor="middle" '
                        f'font-size="9">{fmt_rate(v)}</text>')
    for j, e in enumerate(es):
        body.append(f'<rect x="{L + j * 120}" y="{H - 24}" width="12" height="12" fill="{COLORS[e]}"/>'
                    f'<text x="{L + j * 120 + 16}" y="{H - 14}">{e}</text>')
    with open(path, "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" '
                f'font-size="12"><rect width="100%" height="100%" fill="white"/>' + "".join(body) + "</svg>\n")


# ------------------------------------------------------------------ main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--quick", action="store_true", help="1M events")
    ap.add_argument("--queries", default=",".join(QUERIES))
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--parallelism", default="1,2")
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "lakestream"))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--max-offsets", type=int, default=1_000_000, help="maxOffsetsPerTrigger (lakestream, Spark)")
    ap.add_argument("--kafka-dir", default=os.path.join(REPO, ".cache", "kafka", "nexmark-run"))
    ap.add_argument("--reuse-topic", action="store_true", help="keep a running broker and an already filled topic")
    ap.add_argument("--no-counts", action="store_true", help="skip the Flink count(*) runs of q0, q1, q2")
    ap.add_argument("--lakestream-option", action="append", default=[], metavar="KEY=VALUE",
                    help="extra read_kafka option for lakestream's pipelines (e.g. kafka.queued.min.messages=...)")
    ap.add_argument("--tag", default="")
    ap.add_argument("--render", metavar="JSON", help="only re-render the .md and .svg of an earlier run's JSON")
    ap.add_argument("--note", action="append", default=[], help="a note to add to the report (with --render)")
    args = ap.parse_args()
    if args.render:
        with open(args.render) as f:
            res = json.load(f)
        res.setdefault("notes", [])
        res["notes"] += [n for n in args.note if n not in res["notes"]]
        with open(args.render, "w") as f:
            json.dump(res, f, indent=2)
        base = args.render[:-len(".json")]
        with open(base + ".md", "w") as f:
            f.write(render_markdown(res))
        svg_chart(res, base + ".svg")
        return 0
    events = 1_000_000 if args.quick else args.events
    queries = [q for q in args.queries.split(",") if q]
    engines = [e for e in args.engines.split(",") if e]
    pars = [int(p) for p in args.parallelism.split(",") if p]
    for q in queries:
        if q not in QUERIES:
            raise SystemExit(f"unknown query {q}: expected one of {QUERIES}")
    for e in engines:
        if e not in ENGINES:
            raise SystemExit(f"unknown engine {e}: expected one of {ENGINES}")
    binary = os.path.abspath(args.binary)
    if not os.path.exists(binary):
        raise SystemExit(f"{binary} does not exist: build it first (or pass --binary)")
    os.makedirs(RESULTS, exist_ok=True)
    work = tempfile.mkdtemp(prefix="nexmark-bench-")
    date = dt.date.today().isoformat()
    res = {"date": date, "tag": args.tag, "machine": machine(), "events": events, "seed": args.seed,
           "partitions": 2, "queries": queries, "engines": engines, "parallelism": pars,
           "loadavg_start": loadavg(), "runs": {}, "counts": {}, "lakestream_options": args.lakestream_option,
           "versions": {"flink": os.environ.get("FLINK_VERSION", "2.2.0"),
                        "flink_kafka": os.environ.get("FLINK_KAFKA_VERSION", "5.0.0-2.2"),
                        "kafka": os.environ.get("KAFKA_VERSION", "4.1.1")}}
    res["kafka_version"] = res["versions"]["kafka"]
    try:
        import pyspark
        res["versions"]["spark"] = pyspark.__version__
    except ImportError:
        pass

    log("starting Kafka (scripts/kafka.sh)")
    kafka = Kafka(args.kafka_dir)
    bs = kafka.bootstrap
    topic = f"nexmark-{events}-s{args.seed}"
    try:
        have = topic_count(bs, topic) if args.reuse_topic else -1
        if have == events:
            log(f"reusing topic {topic} ({events:,} events)")
            res["generator"] = {"events": events, "wall_s": None, "events_per_s": None, "cpu_s": None,
                                "reused": True}
        else:
            if have >= 0:
                raise SystemExit(f"topic {topic} holds {have} records, expected {events}: use another --kafka-dir")
            create_topic(bs, topic, 2)
            log(f"generating {events:,} events into {topic}")
            res["generator"] = generate(binary, bs, topic, events, args.seed)
            log(f"generator: {res['generator']}")
            got = topic_count(bs, topic)
            if got != events:
                raise SystemExit(f"topic {topic} holds {got} records after generate, expected {events}")
        cp = flink_classpath(work) if "flink" in engines else None
        for q in queries:
            for p in pars:
                for e in engines:
                    key = f"{q}/{e}/{p}"
                    load = loadavg()
                    log(f"{key}: running (load {load})")
                    if e == "lakestream":
                        r = run_lakestream(binary, q, p, bs, topic, args.max_offsets, work, args.lakestream_option)
                    elif e == "spark":
                        r = run_spark(q, p, bs, topic, args.max_offsets, work)
                    else:
                        r = run_flink(cp, q, p, bs, topic)
                    r["loadavg"] = load
                    if "error" in r:
                        r["unsupported"] = bool(re.search(r"not supported|unsupported|not available|"
                                                          r"AnalysisException|is not supported", r["error"], re.I))
                        log(f"{key}: {'unsupported' if r['unsupported'] else 'failed'}: {r['error']}")
                    else:
                        r["events_per_s_per_core"] = round(events / r["time_s"] / p) if r["time_s"] > 0 else None
                        r["events_per_cpu_s"] = round(events / r["cpu_s"]) if r.get("cpu_s") else None
                        log(f"{key}: {r['time_s']:.2f} s, {fmt_rate(r['events_per_s_per_core'])} events/s/core, "
                            f"cpu {r.get('cpu_s')} s, out {r.get('output_rows')}")
                    res["runs"][key] = r
                    if q in COUNTED and r.get("output_rows") is not None:
                        res["counts"].setdefault(q, {})[e] = r["output_rows"]
            if q in COUNTED and "flink" in engines and not args.no_counts:
                log(f"{q}/flink: count(*) in batch mode")
                c = run_flink(cp, q, max(pars), bs, topic, count=True)
                res["counts"].setdefault(q, {})["flink"] = c.get("output_rows")
                if "error" in c:
                    log(f"{q}/flink count failed: {c['error']}")
            # Save after each query so that a long run interrupted keeps what it measured.
            res["loadavg_end"] = loadavg()
            write_results(res, date, args.tag)
    finally:
        if not args.reuse_topic:
            kafka.stop()
        shutil.rmtree(work, ignore_errors=True)
    res["loadavg_end"] = loadavg()
    paths = write_results(res, date, args.tag)
    log("wrote " + ", ".join(paths))
    return 0


def write_results(res: dict, date: str, tag: str) -> list[str]:
    base = os.path.join(RESULTS, f"nexmark-{date}{'-' + tag if tag else ''}")
    with open(base + ".json", "w") as f:
        json.dump(res, f, indent=2)
    with open(base + ".md", "w") as f:
        f.write(render_markdown(res))
    svg_chart(res, base + ".svg")
    return [base + ".json", base + ".md", base + ".svg"]


if __name__ == "__main__":
    sys.exit(main())
