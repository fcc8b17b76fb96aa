#!/usr/bin/env python3
"""Delta Lake benchmark: lakestream side by side with delta-rs and DuckDB.

Workloads (issue 8, Speed):
  write  10M rows of a 10-column event schema (same Parquet input for all):
         lakestream `CREATE TABLE delta.`..` AS SELECT * FROM read_files(..)`,
         delta-rs `write_deltalake` fed a streamed pyarrow dataset reader, and
         DuckDB `COPY (SELECT * FROM read_parquet(..)) TO .. (FORMAT PARQUET)`
         (one Parquet file, no Delta log: the floor for a writer).
  scan   a full aggregate touching several columns, and a selective aggregate
         whose event_id range is exactly one data file's range so per-file
         stats prune 90% of the files. The lakestream table scanned is written
         as 10 appends of consecutive event_id tenths (a CTAS over the sorted
         input does not keep its order, see ctas_table_layout in the JSON).
         Engines: lakestream over delta.`path`, delta-rs (DataFusion through
         deltalake.QueryBuilder,
         which prunes with the log's stats) and DuckDB over read_parquet of the
         table's live files (the DuckDB delta extension cannot be installed
         offline; DuckDB still skips row groups by their footer stats).
         Both over the table lakestream wrote and the one delta-rs wrote.

Every engine runs with --threads (default 2, the whole machine here). We
report the median of --repeat runs (fresh target folder per write run), wall
seconds, process CPU seconds, rows/s, MB/s (input in Arrow bytes; output bytes
on disk) and lakestream/peer time ratios (< 1 means lakestream is faster).
All engines must return the same scan answers and write the same rows: the
benchmark fails loudly otherwise.

Writes bench/results/delta-<date>[-quick].json, .md (with the section proposed
for BENCHMARKS.md) and a plain SVG bar chart. Input data is generated once into
bench/data/delta-v1-<rows>/src/ (gitignored).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
sys.path.insert(0, os.path.join(REPO, "tests", "sqllogic"))

DATA_VERSION = "delta-v1"
EVENT_TYPES = ["view", "click", "add_to_cart", "purchase", "search", "login", "logout", "share"]
EVENT_WEIGHTS = [0.40, 0.25, 0.10, 0.05, 0.12, 0.04, 0.03, 0.01]
COUNTRIES = ["US", "DE", "FR", "GB", "JP", "CN", "IN", "BR", "CA", "AU", "ES", "IT", "NL", "SE",
             "PL", "MX", "KR", "RU", "TR", "AR", "ZA", "NG", "EG", "ID", "TH", "VN", "PH", "CH",
             "AT", "BE"]
DEVICES = ["mobile", "desktop", "tablet", "tv"]
TS_BASE_US = 1_767_225_600_000_000  # 2026-01-01 00:00:00 UTC

# Aggregates both scans compute; the same SQL text runs on all three engines.
AGGS = ("count(*) AS n, sum(amount) AS s_amount, sum(quantity) AS s_qty, max(user_id) AS max_user, "
        "sum(CASE WHEN device = 'mobile' THEN 1 ELSE 0 END) AS mobile, "
        "count(DISTINCT country) AS countries")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------
# Data


def data_dir(rows: int) -> str:
    return os.path.join(HERE, "data", f"{DATA_VERSION}-{rows}")


def generate(folder: str, rows: int) -> dict:
    """Sorted-by-event_id event data as Parquet files under folder/src; returns meta."""
    meta_path = os.path.join(folder, "meta.json")
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            return json.load(f)
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    src = os.path.join(folder, "src")
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    log(f"generating {rows:,} event rows into {src}")
    rng = np.random.default_rng(8)
    chunk = 1_000_000 if rows >= 4_000_000 else max(1, rows // 4)
    arrow_bytes = 0
    schema = None
    for i, start in enumerate(range(0, rows, chunk)):
        n = min(chunk, rows - start)
        ids = np.arange(start, start + n, dtype=np.int64)
        ts = TS_BASE_US + ids * 20_000 + rng.integers(0, 20_000, n)  # strictly increasing
        etype = np.array(EVENT_TYPES, dtype=object)[rng.choice(len(EVENT_TYPES), n, p=EVENT_WEIGHTS)]
        url = pc.binary_join_element_wise(
            "https://shop.example.com/",
            pa.array(np.array(["product", "cart", "search", "home"], dtype=object)[rng.integers(0, 4, n)],
                     pa.string()),
            "/", pc.cast(pa.array(rng.integers(0, 50_000, n)), pa.string()), "")
        session = pc.binary_join_element_wise(
            "s-", pc.cast(pa.array(rng.integers(10**11, 10**12, n)), pa.string()), "")
        t = pa.table({
            "event_id": pa.array(ids),
            "user_id": pa.array(rng.integers(1, 2_000_000, n, dtype=np.int64)),
            "event_type": pa.array(etype, pa.string()),
            "url": url,
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "amount": pa.array(rng.integers(0, 100_000, n) / 100.0),
            "quantity": pa.array(rng.integers(1, 11, n).astype(np.int32)),
            "country": pa.array(np.array(COUNTRIES, dtype=object)[rng.integers(0, len(COUNTRIES), n)],
                                pa.string()),
            "device": pa.array(np.array(DEVICES, dtype=object)[rng.integers(0, len(DEVICES), n)],
                               pa.string()),
            "session_id": session,
        })
        schema = t.schema
        arrow_bytes += t.nbytes
        pq.write_table(t, os.path.join(src, f"part-{i:05d}.parquet"), row_group_size=256 * 1024)
    meta = {"rows": rows, "files": len(os.listdir(src)), "arrow_bytes": arrow_bytes,
            "parquet_bytes": dir_bytes(src), "schema": str(schema)}
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=2)
    return meta


def dir_bytes(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def data_files(path: str) -> int:
    return sum(1 for root, _, files in os.walk(path) if "_delta_log" not in root
               for name in files if name.endswith(".parquet"))


# ----------------------------------------------------------------------------
# Engines. write(src, out) and scan(table, sql) -> (wall s, cpu s, result rows)


def proc_cpu(pid: int) -> float:
    """utime + stime of a process (all threads), seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def self_cpu() -> float:
    t = os.times()
    return t.user + t.system


class Lakestream:
    name = "lakestream"

    def __init__(self, binary: str, threads: int, timeout: float):
        import run as sqllogic
        self.sqllogic = sqllogic
        self.engine = sqllogic.LakestreamEngine(binary, timeout)
        self.engine.start()
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=False).stdout.strip()
        built = dt.datetime.fromtimestamp(os.path.getmtime(binary), dt.timezone.utc)
        self.version = (f"binary built {built:%Y-%m-%d %H:%M} UTC" +
                        (f" (repo HEAD {head} at run time)" if head else ""))
        self.sql(f"SET lakestream.threads = {threads}")

    def sql(self, text: str):
        try:
            res = self.engine.run(text)
        except self.sqllogic.EngineFailure as e:
            raise SystemExit(f"lakestream failed on {text[:200]!r}: {e}")
        if res[0] != "ok":
            raise SystemExit(f"lakestream error on {text[:200]!r}: {res[1][:2000]}")
        return res[3]

    def timed(self, text: str):
        pid = self.engine.proc.pid
        c0, t0 = proc_cpu(pid), time.perf_counter()
        rows = self.sql(text)
        return time.perf_counter() - t0, proc_cpu(pid) - c0, rows

    def write(self, src: str, out: str):
        return self.timed(f"CREATE TABLE delta.`{out}` AS SELECT * FROM "
                          f"read_files('{src}', format => 'parquet')")

    def scan(self, table: str, sql: str):
        wall, cpu, rows = self.timed(sql.format(t=f"delta.`{table}`"))
        return wall, cpu, [tuple(r) for r in rows]

    def explain(self, table: str, sql: str) -> dict:
        rows = self.sql("EXPLAIN " + sql.format(t=f"delta.`{table}`"))
        text = "\n".join(str(c) for r in rows for c in r)
        m = re.search(r"DeltaScan .*?files=(\d+) pruned=(\d+) \(partition=(\d+) stats=(\d+)\) "
                      r"total=(\d+)", text)
        if not m:
            return {"plan": text}
        keys = ("files_scanned", "files_pruned", "pruned_by_partition", "pruned_by_stats",
                "files_total")
        out = dict(zip(keys, map(int, m.groups())))
        # Row groups of the kept files (printed when a filter touches a data column).
        rg = re.search(r"row_groups=(\d+) row_groups_pruned=(\d+)", text)
        if rg:
            out["row_groups_scanned"], out["row_groups_pruned"] = map(int, rg.groups())
        return out

    def close(self):
        self.engine.stop()


class DeltaRs:
    name = "delta-rs"

    def __init__(self, threads: int):
        import deltalake
        self.deltalake = deltalake
        self.version = deltalake.__version__

    def write(self, src: str, out: str):
        import pyarrow.dataset as ds
        c0, t0 = self_cpu(), time.perf_counter()
        reader = ds.dataset(src, format="parquet").scanner().to_reader()  # streamed batches
        self.deltalake.write_deltalake(out, reader, mode="error")
        return time.perf_counter() - t0, self_cpu() - c0, None

    def scan(self, table: str, sql: str):
        c0, t0 = self_cpu(), time.perf_counter()
        qb = self.deltalake.QueryBuilder().register("t", self.deltalake.DeltaTable(table))
        res = qb.execute(sql.format(t="t")).read_all()
        wall, cpu = time.perf_counter() - t0, self_cpu() - c0
        import pyarrow as pa
        return wall, cpu, [tuple(r.values()) for r in pa.table(res).to_pylist()]

    def close(self):
        pass


class DuckDB:
    name = "duckdb"

    def __init__(self, threads: int):
        import duckdb
        self.con = duckdb.connect()
        self.con.execute(f"SET threads = {threads}")
        self.version = duckdb.__version__
        self.files = {}

    def write(self, src: str, out: str):
        os.makedirs(out)
        c0, t0 = self_cpu(), time.perf_counter()
        self.con.execute(f"COPY (SELECT * FROM read_parquet('{src}/*.parquet')) TO "
                         f"'{out}/data.parquet' (FORMAT PARQUET, COMPRESSION snappy)")
        return time.perf_counter() - t0, self_cpu() - c0, None

    def scan(self, table: str, sql: str):
        # The live files of the table's latest version (log replay by delta-rs,
        # outside the timing: DuckDB's delta extension is not available offline).
        if table not in self.files:
            import deltalake
            self.files[table] = deltalake.DeltaTable(table).file_uris()
        files = ", ".join("'" + f.replace("file://", "") + "'" for f in self.files[table])
        c0, t0 = self_cpu(), time.perf_counter()
        rows = self.con.execute(sql.format(t=f"read_parquet([{files}])")).fetchall()
        return time.perf_counter() - t0, self_cpu() - c0, [tuple(r) for r in rows]

    def close(self):
        self.con.close()


# ----------------------------------------------------------------------------
# Checks


def same_values(a, b) -> bool:
    if a is None or b is None or len(a) != len(b):
        return False
    for ra, rb in zip(a, b):
        if len(ra) != len(rb):
            return False
        for x, y in zip(ra, rb):
            if x is None or y is None:
                if x is not y:
                    return False
                continue
            try:
                fx, fy = float(x), float(y)
            except (TypeError, ValueError):
                if str(x) != str(y):
                    return False
                continue
            if not math.isclose(fx, fy, rel_tol=1e-9, abs_tol=1e-6):
                return False
    return True


def file_ranges(table: str) -> list[tuple[int, int, int]]:
    """(min event_id, max event_id, numRecords) per live file, sorted."""
    import deltalake
    adds = deltalake.DeltaTable(table).get_add_actions(flatten=True)
    d = adds.to_pydict() if hasattr(adds, "to_pydict") else None
    if d is None:  # arro3 table
        import pyarrow as pa
        d = pa.table(adds).to_pydict()
    return sorted(zip(d["min.event_id"], d["max.event_id"], d["num_records"]))


def selective_range(ranges) -> tuple[int, int, bool]:
    """The middle file's event_id range, and whether files are disjoint on it."""
    clustered = all(ranges[i][1] < ranges[i + 1][0] for i in range(len(ranges) - 1))
    lo, hi, _ = ranges[len(ranges) // 2]
    return lo, hi, clustered


# ----------------------------------------------------------------------------
# Machine


def machine_info(threads: int) -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gb = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gb": mem_gb, "threads": threads,
            "load_avg_start": [round(x, 2) for x in os.getloadavg()],
            "os": platform.platform(), "python": platform.python_version()}


# ----------------------------------------------------------------------------
# Reporting


def fmt_rate(x) -> str:
    if x is None:
        return "—"
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e3:
        return f"{x / 1e3:.0f}K"
    return f"{x:.0f}"


def ratio_text(x) -> str:
    return "—" if x is None else f"{x:.2f}x"


def markdown(r: dict) -> str:
    m = r["machine"]
    w = r["write"]
    lines = [
        "## Delta: write and scan",
        "",
        f"Run {r['time_utc'][:16]} UTC by `bench/bench_delta.py{' --quick' if r['quick'] else ''}` "
        f"on {m['cpu']}, {m['nproc']} cores, {m['memory_gb']} GB RAM, load average (1/5/15 min) "
        f"{' / '.join(str(x) for x in m['load_avg_start'])} at start and "
        f"{' / '.join(str(x) for x in m.get('load_avg_end', []))} at end (shared machine: other "
        f"agents were building and benchmarking, so wall times are inflated and noisy; CPU "
        f"seconds are the steadier comparison); {m['threads']} threads per engine; {r['rows']:,} rows x 10 columns "
        f"({r['input']['arrow_bytes'] / 1e6:.0f} MB as Arrow, {r['input']['files']} sorted "
        f"source Parquet files of {r['input']['parquet_bytes'] / 1e6:.0f} MB); median of "
        f"{r['repeat']} write runs and {r.get('scan_repeat', r['repeat'])} runs per scan. "
        "Versions: " +
        ", ".join(f"{k} {v}" for k, v in r["versions"].items() if v) + ".",
        "",
        "### Write",
        "",
        "Input MB/s counts the input's Arrow (uncompressed) bytes; output is bytes on disk "
        "(data + log). Ratio = lakestream time / peer time (target: <= 1.0 vs delta-rs, "
        "<= 1.2 vs DuckDB COPY).",
        "",
        "| writer | s | CPU s | rows/s | input MB/s | output MB | files | lakestream / this | "
        "same, CPU s | runs (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for e, d in w.items():
        lines.append(f"| {d['label']} | {d['seconds']:.2f} | {d['cpu_seconds']:.2f} | "
                     f"{fmt_rate(d['rows_per_s'])} | {d['input_mb_per_s']:.0f} | "
                     f"{d['output_bytes'] / 1e6:.0f} | {d['files']} | "
                     f"{ratio_text(d.get('lakestream_ratio'))} | "
                     f"{ratio_text(d.get('lakestream_cpu_ratio'))} | "
                     f"{', '.join(f'{x:.1f}' for x in d['runs'])} |")
    ct = r["ctas_table_layout"]
    if ct["files"] == 1:
        lines += ["", "The CTAS table is a single file (lakestream writes files of 1Mi rows)."]
    else:
        lines += ["", f"The CTAS table has {ct['files']} files; " +
                  ("they are disjoint on event_id." if ct["clustered_on_event_id"] else
                   "they are **not** disjoint on event_id although the input is sorted (the "
                   "CTAS reads it with several threads and does not keep its order), so stats "
                   "could not prune them.")]
    lines += ["", "### Scan", "",
              f"Tables: `lakestream-written` = {r['scan_table']['how']} "
              f"({r['selective']['files']} files, {r['scan_table']['write_seconds']:.1f} s to "
              "write), `delta-rs-written` = the last write_deltalake run. ",
              f"Full: `SELECT {AGGS} FROM t`. Selective: the same with `WHERE event_id BETWEEN lo "
              "AND hi`, the event_id range of exactly one data file (the middle one), so stats "
              "prune all other files. delta-rs = DataFusion via `deltalake.QueryBuilder`; DuckDB = "
              "`read_parquet` over the table's live files (no delta extension offline: no log "
              "stats, row-group stats only). Ratio = lakestream time / peer time (target for the "
              "selective scan: < 1.0 against both).", ""]
    lines += ["| table | scan | files scanned / total, row groups scanned / pruned (lakestream EXPLAIN) | " +
              " | ".join(f"{e} s" for e in r["scan_engines"]) + " | " +
              " | ".join(f"lakestream / {e}" for e in r["scan_engines"] if e != "lakestream") +
              " | CPU s (" + ", ".join(r["scan_engines"]) + ") | same answer |",
              "|---|---|---|" + "---:|" * (2 * len(r["scan_engines"]) - 1) + "---|---|"]
    for s in r["scan"]:
        ex = s.get("explain", {})
        files = (f"{ex['files_scanned']} / {ex['files_total']}" if "files_scanned" in ex else "?")
        if "row_groups_scanned" in ex:
            files += f", {ex['row_groups_scanned']} / {ex['row_groups_pruned']}"
        lines.append(f"| {s['table']} | {s['workload']} | {files} | " +
                     " | ".join(f"{s['engines'][e]['seconds']:.3f}" for e in r["scan_engines"]) +
                     " | " + " | ".join(ratio_text(s["ratios"].get(e)) for e in r["scan_engines"]
                                        if e != "lakestream") + " | " +
                     " / ".join(f"{s['engines'][e]['cpu_seconds']:.2f}" for e in r["scan_engines"]) +
                     f" | {'yes' if s['same_answer'] else '**NO**'} |")
    lines += ["", "### Targets", ""]
    lines += [f"- {t['target']}: {'met' if t['met'] else '**missed**'} ({t['detail']})"
              for t in r["targets"]]
    return "\n".join(lines) + "\n"


COLORS = {"lakestream": "#1f77b4", "delta-rs": "#ff7f0e", "duckdb": "#2ca02c"}


def svg_chart(r: dict, path: str) -> str:
    """Plain SVG bars (no matplotlib or gnuplot on this machine): seconds per engine."""
    groups = [("write|(DuckDB: no log)", {e: d["seconds"] for e, d in r["write"].items()})]
    for s in r["scan"]:
        groups.append((f"{s['workload']} scan|{s['table']}",
                       {e: d["seconds"] for e, d in s["engines"].items()}))
    W, H, L, B, T = 140 + 170 * len(groups), 340, 60, 270, 40
    bw = 40
    body = [f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14">Delta write and scan, '
            f'{r["rows"]:,} rows: seconds, lower is better ({r["date"]})</text>',
            f'<line x1="{L}" y1="{B}" x2="{W - 20}" y2="{B}" stroke="black"/>']
    for gi, (label, vals) in enumerate(groups):
        top = max(vals.values()) or 1
        x0 = L + 20 + gi * 170
        for i, e in enumerate(COLORS):
            if e not in vals:
                continue
            h = (B - T - 20) * vals[e] / top
            x = x0 + i * (bw + 4)
            body.append(f'<rect x="{x}" y="{B - h:.1f}" width="{bw}" height="{h:.1f}" '
                        f'fill="{COLORS[e]}"/>')
            body.append(f'<text x="{x + bw / 2}" y="{B - h - 4:.1f}" text-anchor="middle" '
                        f'font-size="10">{vals[e]:.2f}</text>')
        for li, part in enumerate(label.split("|")):
            body.append(f'<text x="{x0 + 64}" y="{B + 16 + 14 * li}" text-anchor="middle" '
                        f'font-size="11">{part}</text>')
    for i, (e, c) in enumerate(COLORS.items()):
        body.append(f'<rect x="{L + i * 120}" y="{H - 28}" width="12" height="12" fill="{c}"/>')
        body.append(f'<text x="{L + i * 120 + 16}" y="{H - 18}">{e}</text>')
    with open(path, "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
                f'font-family="sans-serif" font-size="12"><rect width="100%" height="100%" '
                f'fill="white"/>' + "".join(body) + "</svg>\n")
    return path


# ----------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "lakestream"))
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows (default 10M)")
    ap.add_argument("--quick", action="store_true", help="1M rows")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="write runs (median reported)")
    ap.add_argument("--scan-repeat", type=int, default=7,
                    help="runs per scan and engine (median reported): scans take 0.05-2 s, so "
                         "on a shared machine a few runs are mostly noise")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--work", help="folder for the written tables (default bench/data/<v>-<rows>/out)")
    ap.add_argument("--tag", default="", help="suffix of the result file names (delta-<date>-<tag>.*)")
    ap.add_argument("--notes", help="a markdown file (e.g. profile findings) appended to the .md")
    args = ap.parse_args(argv)
    if args.quick:
        args.rows = 1_000_000
    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        log(f"lakestream binary not found: {binary}")
        return 1

    folder = data_dir(args.rows)
    meta = generate(folder, args.rows)
    src = os.path.join(folder, "src")
    work = os.path.abspath(args.work or os.path.join(folder, "out"))
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    now = dt.datetime.now(dt.timezone.utc)
    report = {"date": now.strftime("%Y-%m-%d"), "time_utc": now.isoformat(), "quick": args.quick,
              "machine": machine_info(args.threads), "rows": args.rows, "repeat": args.repeat,
              "scan_repeat": args.scan_repeat,
              "input": meta, "binary": binary}
    ls = Lakestream(binary, args.threads, args.timeout)
    engines = [ls, DeltaRs(args.threads), DuckDB(args.threads)]
    report["versions"] = {e.name: e.version for e in engines}

    # ---- write: runs interleaved across engines so load changes hit all alike
    labels = {"lakestream": "lakestream CTAS -> Delta", "delta-rs": "delta-rs write_deltalake",
              "duckdb": "DuckDB COPY TO Parquet (no log)"}
    runs = {e.name: [] for e in engines}
    kept = {}
    for k in range(args.repeat):
        for e in engines:
            out = os.path.join(work, f"{e.name}-{k}")
            wall, cpu, _ = e.write(src, out)
            runs[e.name].append({"seconds": wall, "cpu_seconds": cpu, "output_bytes": dir_bytes(out),
                                 "files": data_files(out)})
            log(f"write {e.name:10} run {k}: {wall:7.2f}s  cpu {cpu:6.2f}s  "
                f"{dir_bytes(out) / 1e6:6.0f} MB  {data_files(out)} files")
            if k == args.repeat - 1:
                kept[e.name] = out
            else:
                shutil.rmtree(out)
    write = {}
    for name, rs in runs.items():
        secs = statistics.median(x["seconds"] for x in rs)
        write[name] = {"label": labels[name], "seconds": round(secs, 3),
                       "cpu_seconds": round(statistics.median(x["cpu_seconds"] for x in rs), 3),
                       "runs": [round(x["seconds"], 3) for x in rs],
                       "rows_per_s": round(args.rows / secs),
                       "input_mb_per_s": round(meta["arrow_bytes"] / 1e6 / secs, 1),
                       "output_bytes": rs[-1]["output_bytes"],
                       "output_mb_per_s": round(rs[-1]["output_bytes"] / 1e6 / secs, 1),
                       "files": rs[-1]["files"]}
    for name, d in write.items():
        if name != "lakestream":
            d["lakestream_ratio"] = round(write["lakestream"]["seconds"] / d["seconds"], 3)
            d["lakestream_cpu_ratio"] = round(write["lakestream"]["cpu_seconds"] / d["cpu_seconds"], 3)
    report["write"] = write

    # ---- the written tables hold the same rows
    tables = {"lakestream-written": kept["lakestream"], "delta-rs-written": kept["delta-rs"]}
    for label, path in tables.items():
        n = ls.sql(f"SELECT count(*), sum(event_id) FROM delta.`{path}`")[0]
        want = [args.rows, args.rows * (args.rows - 1) // 2]
        if [int(x) for x in n] != want:
            raise SystemExit(f"FAIL: {label} table {path} has count, sum(event_id) = {n}, "
                             f"expected {want}")
    # A selective scan needs >= 10 files clustered on event_id. The CTAS table
    # is not: lakestream reads the sorted input with several threads and does
    # not keep its order, so its files overlap on event_id (and a --quick table
    # is a single file: lakestream writes files of up to 1Mi rows by default).
    # The scan table is therefore written by lakestream as a CTAS plus 9
    # INSERT INTOs of consecutive event_id tenths: 10 disjoint files.
    ranges = file_ranges(tables["lakestream-written"])
    report["ctas_table_layout"] = {
        "files": len(ranges), "clustered_on_event_id": selective_range(ranges)[2],
        "event_id_ranges": [[a, b] for a, b, _ in ranges]}
    path = os.path.join(work, "lakestream-10-appends")
    step = -(-args.rows // 10)
    t0 = time.perf_counter()
    for k in range(10):
        head = (f"CREATE TABLE delta.`{path}` AS" if k == 0 else f"INSERT INTO delta.`{path}`")
        ls.sql(f"{head} SELECT * FROM read_files('{src}', format => 'parquet') "
               f"WHERE event_id >= {k * step} AND event_id < {(k + 1) * step}")
    report["scan_table"] = {"how": "CTAS + 9 INSERT INTO, one event_id tenth each",
                            "write_seconds": round(time.perf_counter() - t0, 3)}
    shutil.rmtree(tables["lakestream-written"])
    tables["lakestream-written"] = path
    ranges = file_ranges(path)
    lo, hi, clustered = selective_range(ranges)
    if not clustered or len(ranges) < 10:
        raise SystemExit(f"FAIL: the scan table {path} is not 10+ files disjoint on event_id: {ranges}")
    n = ls.sql(f"SELECT count(*) FROM delta.`{path}`")[0][0]
    if int(n) != args.rows:
        raise SystemExit(f"FAIL: the scan table {path} has {n} rows, expected {args.rows}")
    report["selective"] = {"lo": lo, "hi": hi, "clustered": clustered, "files": len(ranges)}

    # ---- scans
    workloads = {"full": f"SELECT {AGGS} FROM {{t}}",
                 "selective": f"SELECT {AGGS} FROM {{t}} WHERE event_id BETWEEN {lo} AND {hi}"}
    report["scan_sql"] = workloads
    report["scan_engines"] = [e.name for e in engines]
    scans = []
    for label, path in tables.items():
        for wname, sql in workloads.items():
            entry = {"table": label, "workload": wname, "engines": {},
                     "explain": ls.explain(path, sql)}
            answers = {}
            times = {e.name: [] for e in engines}
            cpus = {e.name: [] for e in engines}
            for _ in range(args.scan_repeat):
                for e in engines:
                    wall, cpu, rows = e.scan(path, sql)
                    times[e.name].append(wall)
                    cpus[e.name].append(cpu)
                    answers[e.name] = rows
            for e in engines:
                secs = statistics.median(times[e.name])
                entry["engines"][e.name] = {
                    "seconds": round(secs, 4), "cpu_seconds": round(statistics.median(cpus[e.name]), 3),
                    "runs": [round(x, 4) for x in times[e.name]],
                    "rows_per_s": round(args.rows / secs)}
            entry["answer"] = [list(map(str, r)) for r in answers["lakestream"]]
            entry["same_answer"] = all(same_values(answers["lakestream"], answers[e])
                                       for e in answers)
            entry["ratios"] = {e: round(entry["engines"]["lakestream"]["seconds"] / d["seconds"], 3)
                               for e, d in entry["engines"].items() if e != "lakestream"}
            log(f"scan {label:18} {wname:9} " +
                "  ".join(f"{e} {d['seconds']:.3f}s" for e, d in entry["engines"].items()) +
                f"  files {entry['explain'].get('files_scanned')}/{entry['explain'].get('files_total')}")
            if not entry["same_answer"]:
                raise SystemExit(f"FAIL: engines disagree on {label} {wname}: {answers}")
            scans.append(entry)
    report["scan"] = scans
    report["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    for e in engines:
        e.close()

    # ---- targets
    w = report["write"]
    sel = next(s for s in scans if s["table"] == "lakestream-written" and s["workload"] == "selective")
    report["targets"] = [
        {"target": "write at least as fast as delta-rs",
         "met": w["delta-rs"]["lakestream_ratio"] <= 1.0,
         "detail": f"lakestream/delta-rs = {w['delta-rs']['lakestream_ratio']:.2f}x wall, "
                   f"{w['delta-rs']['lakestream_cpu_ratio']:.2f}x CPU"},
        {"target": "write within 1.2x of DuckDB COPY",
         "met": w["duckdb"]["lakestream_ratio"] <= 1.2,
         "detail": f"lakestream/DuckDB = {w['duckdb']['lakestream_ratio']:.2f}x wall, "
                   f"{w['duckdb']['lakestream_cpu_ratio']:.2f}x CPU"},
        {"target": "selective scan faster than delta-rs and DuckDB",
         "met": all(v < 1.0 for v in sel["ratios"].values()),
         "detail": ", ".join(f"lakestream/{k} = {v:.2f}x wall, "
                             f"{sel['engines']['lakestream']['cpu_seconds'] / max(sel['engines'][k]['cpu_seconds'], 1e-3):.2f}x CPU"
                             for k, v in sel["ratios"].items()) +
                   f"; {sel['explain'].get('files_scanned')} of {sel['explain'].get('files_total')} "
                   "files scanned"},
    ]

    os.makedirs(RESULTS, exist_ok=True)
    tag = f"-{args.tag.lstrip('-')}" if args.tag else ""
    base = os.path.join(RESULTS, f"delta-{report['date']}{'-quick' if args.quick else ''}{tag}")
    svg = svg_chart(report, base + ".svg")
    md = markdown(report) + f"\n![Delta benchmark](bench/results/{os.path.basename(svg)})\n"
    if args.notes:
        with open(args.notes) as f:
            md += "\n" + f.read()
    report["chart"] = os.path.relpath(svg, REPO)
    with open(base + ".json", "w") as f:
        json.dump(report, f, indent=2)
    with open(base + ".md", "w") as f:
        f.write(md)
    print(md)
    log(f"wrote {base}.json, {base}.md, {svg}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
