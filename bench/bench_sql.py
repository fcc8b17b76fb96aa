#!/usr/bin/env python3
"""SQL batch benchmark: lakestream side by side with DuckDB (and optionally
Spark local) on the same CSV and Parquet files.

Workloads (issue 7, Speed): a filter+projection scan, group-by with 10 and
with 1M groups, a 10M x 1M hash join and a top-N sort, each over CSV and
Parquet. Every engine gets the same number of threads (--threads, default 2);
we report the best of --repeat runs, rows/s/core (input rows / seconds /
threads) and the ratio lakestream time / DuckDB time (lower is better; the
target is <= 1.5).

Writes bench/results/sql-<date>.json and .md, a bar chart PNG when
matplotlib is installed, and regenerates the SQL section of BENCHMARKS.md.
Data is generated once into bench/data/sql-v1-<rows>/ (gitignored).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "sqllogic"))
sys.path.insert(0, os.path.join(REPO, "tests", "python"))

DATA_VERSION = "sql-v1"
FACT_SCHEMA = "id BIGINT, k10 INT, k1m INT, dkey INT, v DOUBLE, q INT, cat STRING"
DIM_SCHEMA = "dkey INT, name STRING, w DOUBLE"

# name -> (description, SQL over views `fact` and `dim`, input rows: "fact" or "fact+dim")
WORKLOADS = {
    "scan": ("filter + projection scan",
             "SELECT count(*), sum(v2), max(id) FROM (SELECT id, v * 2 AS v2 FROM fact "
             "WHERE q < 100 AND cat <> 'c3')", "fact"),
    "groupby_10": ("group-by, 10 groups",
                   "SELECT k10, count(*), sum(v), avg(q) FROM fact GROUP BY k10", "fact"),
    "groupby_1m": ("group-by, 1M groups",
                   "SELECT count(*), sum(s), max(c) FROM (SELECT k1m, sum(v) AS s, count(*) AS c "
                   "FROM fact GROUP BY k1m)", "fact"),
    "join": ("hash join fact x dim (10M x 1M)",
             "SELECT count(*), sum(f.v * d.w) FROM fact f JOIN dim d ON f.dkey = d.dkey",
             "fact+dim"),
    "topn": ("top-N sort (ORDER BY ... LIMIT 100)",
             "SELECT id, v FROM fact ORDER BY v DESC, id LIMIT 100", "fact"),
}
FORMATS = ("parquet", "csv")


# ----------------------------------------------------------------------------
# Data


def data_dir(fact_rows: int) -> str:
    return os.path.join(HERE, "data", f"{DATA_VERSION}-{fact_rows}")


def generate(folder: str, fact_rows: int, dim_rows: int):
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    if os.path.exists(os.path.join(folder, "COMPLETE")):
        return
    os.makedirs(folder, exist_ok=True)
    print(f"generating {fact_rows:,} fact rows and {dim_rows:,} dim rows into {folder}",
          file=sys.stderr)
    rng = np.random.default_rng(42)
    cats = np.array([f"c{k}" for k in range(16)], dtype=object)
    chunk = 1_000_000
    writer = None
    csv_writer = None
    for start in range(0, fact_rows, chunk):
        n = min(chunk, fact_rows - start)
        t = pa.table({
            "id": pa.array(np.arange(start, start + n, dtype=np.int64)),
            "k10": pa.array(rng.integers(0, 10, n).astype(np.int32)),
            "k1m": pa.array(rng.integers(0, 1_000_000, n).astype(np.int32)),
            "dkey": pa.array(rng.integers(0, dim_rows, n).astype(np.int32)),
            "v": pa.array(rng.integers(0, 1 << 20, n) / 1024.0),
            "q": pa.array(rng.integers(0, 1000, n).astype(np.int32)),
            "cat": pa.array(cats[rng.integers(0, 16, n)], pa.string()),
        })
        if writer is None:
            writer = pq.ParquetWriter(os.path.join(folder, "fact.parquet"), t.schema)
            csv_writer = pacsv.CSVWriter(os.path.join(folder, "fact.csv"), t.schema,
                                         write_options=pacsv.WriteOptions(quoting_style="needed"))
        writer.write_table(t, row_group_size=256 * 1024)
        csv_writer.write_table(t)
    writer.close()
    csv_writer.close()
    dim = pa.table({
        "dkey": pa.array(np.arange(dim_rows, dtype=np.int32)),
        "name": pa.array([f"n{k % 1000}" for k in range(dim_rows)], pa.string()),
        "w": pa.array((np.arange(dim_rows) % 100) / 100.0),
    })
    pq.write_table(dim, os.path.join(folder, "dim.parquet"), row_group_size=256 * 1024)
    pacsv.write_csv(dim, os.path.join(folder, "dim.csv"),
                    pacsv.WriteOptions(quoting_style="needed"))
    with open(os.path.join(folder, "COMPLETE"), "w") as f:
        f.write(f"{fact_rows} {dim_rows}\n")


# ----------------------------------------------------------------------------
# Engines: views(folder, fmt) then timed run(sql) -> (seconds, rows | None, error | None)


class LakestreamBench:
    name = "lakestream"

    def __init__(self, binary: str, threads: int, timeout: float):
        import run as sqllogic
        self.sqllogic = sqllogic
        self.engine = sqllogic.LakestreamEngine(binary, timeout)
        self.engine.start()

    def views(self, folder, fmt):
        if fmt == "parquet":
            stmts = [f"CREATE OR REPLACE TEMP VIEW {v} AS SELECT * FROM read_files("
                     f"'{folder}/{v}.parquet', format => 'parquet')" for v in ("fact", "dim")]
        else:
            stmts = [f"CREATE OR REPLACE TEMP VIEW {v} AS SELECT * FROM read_files("
                     f"'{folder}/{v}.csv', format => 'csv', header => true, schema => '{s}')"
                     for v, s in (("fact", FACT_SCHEMA), ("dim", DIM_SCHEMA))]
        for s in stmts:
            res = self._run(s)[1]
            if res[0] != "ok":
                return res[1]
        return None

    def _run(self, sql):
        t0 = time.perf_counter()
        try:
            res = self.engine.run(sql)
        except self.sqllogic.EngineFailure as e:
            res = ("error", str(e))
        return time.perf_counter() - t0, res

    def run(self, sql):
        secs, res = self._run(sql)
        if res[0] != "ok":
            return secs, None, res[1][:300]
        return secs, res[3], None

    def cpu_seconds(self):
        """CPU seconds (user + system) of the engine process so far."""
        try:
            with open(f"/proc/{self.engine.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, AttributeError, IndexError, ValueError):
            return None

    def close(self):
        self.engine.stop()


class DuckDBBench:
    name = "duckdb"

    def __init__(self, threads: int):
        import duckdb
        self.con = duckdb.connect()
        self.con.execute(f"SET threads = {threads}")
        self.version = duckdb.__version__

    def views(self, folder, fmt):
        def cols(schema):
            m = {"STRING": "VARCHAR", "INT": "INTEGER"}
            return "{" + ", ".join(f"'{p.split()[0]}': '{m.get(p.split()[1], p.split()[1])}'"
                                   for p in schema.split(", ")) + "}"
        for v, s in (("fact", FACT_SCHEMA), ("dim", DIM_SCHEMA)):
            if fmt == "parquet":
                src = f"read_parquet('{folder}/{v}.parquet')"
            else:
                src = f"read_csv('{folder}/{v}.csv', header = true, columns = {cols(s)})"
            self.con.execute(f"CREATE OR REPLACE VIEW {v} AS SELECT * FROM {src}")
        return None

    def cpu_seconds(self):
        """CPU seconds of this process (DuckDB runs in it; the harness is idle meanwhile)."""
        import resource
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    def run(self, sql):
        from test_duckdb_oracle import spark_text
        t0 = time.perf_counter()
        try:
            rows = self.con.execute(sql).fetchall()
        except Exception as e:  # noqa: BLE001
            return time.perf_counter() - t0, None, str(e)[:300]
        secs = time.perf_counter() - t0
        return secs, [[spark_text(v) for v in r] for r in rows], None

    def close(self):
        self.con.close()


class SparkBench:
    name = "spark"

    def __init__(self, threads: int):
        from oracle_common import start_spark
        self.spark = start_spark(f"local[{threads}]", "lakestream-bench")
        self.version = self.spark.version

    def cpu_seconds(self):
        return None  # the JVM is another process; not measured

    def views(self, folder, fmt):
        for v, s in (("fact", FACT_SCHEMA), ("dim", DIM_SCHEMA)):
            if fmt == "parquet":
                df = self.spark.read.parquet(f"{folder}/{v}.parquet")
            else:
                df = self.spark.read.schema(s).option("header", "true").csv(f"{folder}/{v}.csv")
            df.createOrReplaceTempView(v)
        return None

    def run(self, sql):
        t0 = time.perf_counter()
        try:
            rows = self.spark.sql(sql).collect()
        except Exception as e:  # noqa: BLE001
            return time.perf_counter() - t0, None, str(e)[:300]
        secs = time.perf_counter() - t0
        return secs, [[None if v is None else str(v) for v in r] for r in rows], None

    def close(self):
        pass


# ----------------------------------------------------------------------------
# Reporting


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
            "os": platform.platform(), "python": platform.python_version()}


def same_result(a, b) -> bool:
    from oracle_common import compare
    if a is None or b is None:
        return False
    ncols = len(a[0]) if a else 0
    res = compare(("ok", ["c"] * ncols, ["double"] * ncols, a),
                  ("ok", ["c"] * ncols, ["double"] * ncols, b), "", check_types=False)
    return res is None


def fmt_rate(x):
    if x is None:
        return "—"
    if x >= 1e6:
        return f"{x / 1e6:.1f}M"
    if x >= 1e3:
        return f"{x / 1e3:.0f}K"
    return f"{x:.0f}"


def load(values) -> str:
    return "unknown" if not values else " / ".join(f"{v:.2f}" for v in values)


def markdown(report: dict) -> str:
    m = report["machine"]
    engines = report["engines"]
    lines = [
        f"Run {report['date']} on {m['cpu']}, {m['nproc']} cores, {m['memory_gb']} GB RAM; "
        f"{m['threads']} threads per engine; {report['fact_rows']:,} fact rows, "
        f"{report['dim_rows']:,} dim rows; best of {report['repeat']} runs. "
        f"rows/s/core = input rows / seconds / threads. Ratio = lakestream time / DuckDB time "
        f"(target <= 1.5); CPU = user + system seconds of the query (best run), the steadier "
        f"figure on a shared machine. Engines take turns within each repeat. Load average "
        f"(1/5/15 min) {load(report.get('load_start'))} at start, "
        f"{load(report.get('load_end'))} at end.",
        "",
        "| workload | format | " + " | ".join(f"{e} s" for e in engines) + " | " +
        " | ".join(f"{e} CPU s" for e in engines) + " | " +
        " | ".join(f"{e} rows/s/core" for e in engines) +
        " | lakestream/DuckDB | lakestream/DuckDB CPU | same result |",
        "|---|---|" + "---:|" * (3 * len(engines) + 2) + "---|",
    ]
    for r in report["results"]:
        secs = [r["engines"].get(e, {}).get("seconds") for e in engines]
        rates = [r["engines"].get(e, {}).get("rows_per_sec_per_core") for e in engines]
        errs = [r["engines"].get(e, {}).get("error") for e in engines]
        cells = [("error" if err else ("—" if s is None else f"{s:.3f}"))
                 for s, err in zip(secs, errs)]
        cpus = [r["engines"].get(e, {}).get("cpu_seconds") for e in engines]
        ratio = r.get("ratio_vs_duckdb")
        cpu_ratio = r.get("cpu_ratio_vs_duckdb")
        same = r.get("same_result_as_duckdb")
        lines.append(f"| {r['workload']} | {r['format']} | " + " | ".join(cells) + " | " +
                     " | ".join("—" if c is None else f"{c:.2f}" for c in cpus) + " | " +
                     " | ".join(fmt_rate(x) for x in rates) + " | " +
                     ("—" if ratio is None else f"{ratio:.2f}x") + " | " +
                     ("—" if cpu_ratio is None else f"{cpu_ratio:.2f}x") + " | " +
                     ("—" if same is None else ("yes" if same else "**NO**")) + " |")
    errors = [(r["workload"], r["format"], e, d["error"]) for r in report["results"]
              for e, d in r["engines"].items() if d.get("error")]
    if errors:
        lines += ["", "Errors:", ""]
        lines += [f"- {w}/{f} on {e}: `{msg[:200]}`" for w, f, e, msg in errors]
    return "\n".join(lines) + "\n"


def chart(report: dict, path: str) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    engines = report["engines"]
    labels = [f"{r['workload']}\n{r['format']}" for r in report["results"]]
    fig, ax = plt.subplots(figsize=(max(8, len(labels) * 1.1), 4.5))
    width = 0.8 / len(engines)
    for i, e in enumerate(engines):
        vals = [(r["engines"].get(e, {}).get("rows_per_sec_per_core") or 0) / 1e6
                for r in report["results"]]
        ax.bar([k + i * width for k in range(len(labels))], vals, width, label=e)
    ax.set_xticks([k + width * (len(engines) - 1) / 2 for k in range(len(labels))])
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("M rows / s / core (higher is better)")
    ax.set_title(f"lakestream SQL benchmark ({report['date']})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def update_benchmarks_md(section: str):
    path = os.path.join(REPO, "BENCHMARKS.md")
    start, end = "<!-- sql-bench:start -->", "<!-- sql-bench:end -->"
    block = f"{start}\n{section}{end}"
    if os.path.exists(path):
        text = open(path, encoding="utf-8").read()
    else:
        text = ("# Benchmarks\n\nGenerated by `make bench`; do not edit the generated "
                "sections by hand.\n\n## SQL (batch)\n\n")
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        if "## SQL (batch)" not in text:
            text += "\n## SQL (batch)\n\n"
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# ----------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "lakestream"))
    ap.add_argument("--rows", type=int, default=10_000_000, help="fact rows (default 10M)")
    ap.add_argument("--dim-rows", type=int, default=1_000_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--spark", action="store_true", help="also run Spark local[threads]")
    ap.add_argument("--no-lakestream", action="store_true", help="peers only (harness check)")
    ap.add_argument("-k", dest="only", help="only workloads whose name contains this")
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--no-update", action="store_true", help="do not touch BENCHMARKS.md")
    ap.add_argument("--tag", default="", help="suffix of the result file names (a run a day otherwise "
                    "overwrites the last)")
    args = ap.parse_args(argv)

    folder = data_dir(args.rows)
    generate(folder, args.rows, args.dim_rows)
    engines = []
    if not args.no_lakestream:
        if not os.access(args.binary, os.X_OK):
            print(f"lakestream binary not found: {args.binary}", file=sys.stderr)
            return 1
        engines.append(LakestreamBench(os.path.abspath(args.binary), args.threads, args.timeout))
    engines.append(DuckDBBench(args.threads))
    if args.spark:
        try:
            engines.append(SparkBench(args.threads))
        except Exception as e:  # noqa: BLE001
            print(f"Spark unavailable, running without it: {e}", file=sys.stderr)

    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    report = {"date": date, "time_utc": dt.datetime.now(dt.timezone.utc).isoformat(),
              "machine": machine_info(args.threads), "fact_rows": args.rows,
              "dim_rows": args.dim_rows, "repeat": args.repeat,
              "engines": [e.name for e in engines],
              "versions": {e.name: getattr(e, "version", None) for e in engines},
              "load_start": [round(x, 2) for x in os.getloadavg()],
              "results": []}
    for fmt in [f for f in args.formats.split(",") if f]:
        view_errors = {e.name: e.views(folder, fmt) for e in engines}
        for name, (desc, sql, inputs) in WORKLOADS.items():
            if args.only and args.only not in name:
                continue
            in_rows = args.rows + (args.dim_rows if inputs == "fact+dim" else 0)
            entry = {"workload": name, "description": desc, "format": fmt, "sql": sql,
                     "input_rows": in_rows, "engines": {}}
            results = {}
            # Engines take turns within each repeat, so that a burst of load
            # from other processes on a shared machine hits them alike; CPU
            # seconds are recorded beside wall seconds as the steadier figure.
            state = {e.name: {"best": None, "cpu": None, "rows": None, "err": None}
                     for e in engines}
            for e in engines:
                if view_errors.get(e.name):
                    state[e.name]["err"] = f"views: {view_errors[e.name]}"
            for _ in range(args.repeat):
                for e in engines:
                    st = state[e.name]
                    if st["err"]:
                        continue
                    cpu0 = e.cpu_seconds()
                    secs, rows_k, err = e.run(sql)
                    cpu1 = e.cpu_seconds()
                    if err:
                        st["err"] = err
                        continue
                    st["rows"] = rows_k
                    st["best"] = secs if st["best"] is None else min(st["best"], secs)
                    if cpu0 is not None and cpu1 is not None:
                        c = cpu1 - cpu0
                        st["cpu"] = c if st["cpu"] is None else min(st["cpu"], c)
            for e in engines:
                st = state[e.name]
                best, err = st["best"], st["err"]
                if err:
                    entry["engines"][e.name] = {"error": err}
                else:
                    entry["engines"][e.name] = {
                        "seconds": round(best, 4),
                        "cpu_seconds": None if st["cpu"] is None else round(st["cpu"], 3),
                        "rows_per_sec_per_core": round(in_rows / best / args.threads)}
                    results[e.name] = st["rows"]
                print(f"{fmt:8} {name:12} {e.name:10} "
                      + (f"ERROR {err[:120]}" if err else
                         f"{best:8.3f}s  cpu {entry['engines'][e.name]['cpu_seconds']}"),
                      file=sys.stderr, flush=True)
            ls = entry["engines"].get("lakestream", {})
            dk = entry["engines"].get("duckdb", {})
            if ls.get("seconds") and dk.get("seconds"):
                entry["ratio_vs_duckdb"] = round(ls["seconds"] / dk["seconds"], 3)
            if ls.get("cpu_seconds") and dk.get("cpu_seconds"):
                entry["cpu_ratio_vs_duckdb"] = round(ls["cpu_seconds"] / dk["cpu_seconds"], 3)
            if "lakestream" in results and "duckdb" in results:
                entry["same_result_as_duckdb"] = same_result(results["duckdb"],
                                                             results["lakestream"])
            report["results"].append(entry)
    for e in engines:
        e.close()

    report["load_end"] = [round(x, 2) for x in os.getloadavg()]
    out_dir = os.path.join(HERE, "results")
    os.makedirs(out_dir, exist_ok=True)
    base = os.path.join(out_dir, f"sql-{date}" + (f"-{args.tag}" if args.tag else ""))
    with open(base + ".json", "w") as f:
        json.dump(report, f, indent=2)
    md = markdown(report)
    png = base + ".png"
    if chart(report, png):
        md += f"\n![SQL benchmark](bench/results/{os.path.basename(png)})\n"
    else:
        md += "\n(No chart: matplotlib is not installed.)\n"
    with open(base + ".md", "w") as f:
        f.write(md)
    print(md)
    if not args.no_update:
        update_benchmarks_md(md)
    print(f"wrote {base}.json, {base}.md" + (" and BENCHMARKS.md" if not args.no_update else ""),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
