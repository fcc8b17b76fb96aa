#!/usr/bin/env python3
"""SQL logic test runner for lakestream (DuckDB's dialect of sqllogictest).

Runs tests/sql/**/*.test against `lakestream sql --jsonl` (one process per
file, so SET and temp views persist within a file), or with --spark against
PySpark 4 (one new Spark session per file) to validate expected results;
--update rewrites expected results from the engine's output (with --spark:
fills them from Spark, the semantics we copy).

Record syntax (blank line ends a record):
  statement ok | statement error          then SQL; for error, optionally
                                          `----` and a message substring
                                          (or `<REGEX>:pattern`)
  query <typechars> [nosort|rowsort|valuesort]
                                          then SQL, `----`, expected rows with
                                          values separated by TAB; NULL for
                                          NULL, (empty) for ''
  skipif <engine> / onlyif <engine>       engine is `lakestream` or `spark`
  halt, require ..., mode skip|unskip, loop var a b ... endloop, # comments
Type chars: I integer, R float/double/decimal, T string, B boolean,
D date/timestamp; any other char accepts any type.

Closing line: "N passed, N failed" (N = records); exit 1 on any failure.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The shared test data sits beside the checkout (../shared/testdata).
TESTDATA = os.environ.get("LAKESTREAM_TESTDATA", os.path.join(os.path.dirname(REPO), "shared", "testdata"))
SQLDATA = os.path.join(REPO, "tests", "sql", "data")
REL_TOL = 1e-9


# ----------------------------------------------------------------------------
# Parsing


@dataclass
class Record:
    kind: str  # "statement_ok", "statement_error", "query", "halt"
    line: int  # 1-based line of the record header
    sql: str = ""
    typechars: str = ""
    sortmode: str = "nosort"
    expected: list[str] = field(default_factory=list)  # raw result lines
    has_result_block: bool = False
    # 0-based [start, end) line span of the expected block in the file, for --update
    result_span: tuple[int, int] | None = None
    header_index: int = 0  # 0-based line index of the header
    skipif: list[str] = field(default_factory=list)
    onlyif: list[str] = field(default_factory=list)
    loop_vars: dict = field(default_factory=dict)


class ParseError(Exception):
    pass


def parse_file(path: str) -> list[Record]:
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    records: list[Record] = []
    i = 0
    n = len(lines)
    skipif: list[str] = []
    onlyif: list[str] = []
    skipping = False
    loop_stack: list[tuple[str, list[str]]] = []  # (var, values)
    loop_body_start: list[int] = []

    def block_end(j: int) -> int:
        while j < n and lines[j].strip() != "":
            j += 1
        return j

    while i < n:
        raw = lines[i]
        s = raw.strip()
        if s == "" or s.startswith("#"):
            i += 1
            continue
        words = s.split()
        head = words[0]
        if head == "skipif":
            skipif.append(words[1] if len(words) > 1 else "")
            i += 1
            continue
        if head == "onlyif":
            onlyif.append(words[1] if len(words) > 1 else "")
            i += 1
            continue
        if head in ("require", "load", "set", "restart", "reconnect", "unzip"):
            i = block_end(i)
            continue
        if head == "mode":
            if len(words) > 1 and words[1] == "skip":
                skipping = True
            elif len(words) > 1 and words[1] == "unskip":
                skipping = False
            i += 1
            continue
        if head in ("loop", "foreach"):
            # loop var start end  |  foreach var v1 v2 ...
            if head == "loop":
                var, a, b = words[1], int(words[2]), int(words[3])
                values = [str(v) for v in range(a, b)]
            else:
                var, values = words[1], words[2:]
            loop_stack.append((var, values))
            loop_body_start.append(len(records))
            i += 1
            continue
        if head == "endloop":
            if not loop_stack:
                raise ParseError(f"{path}:{i + 1}: endloop without loop")
            var, values = loop_stack.pop()
            start = loop_body_start.pop()
            body = records[start:]
            del records[start:]
            for v in values:
                for r in body:
                    c = Record(**{**r.__dict__})
                    c.loop_vars = {**r.loop_vars, var: v}
                    c.result_span = None  # not updatable
                    records.append(c)
            i += 1
            continue
        if head == "halt":
            rec = Record("halt", i + 1, header_index=i, skipif=skipif, onlyif=onlyif)
            skipif, onlyif = [], []
            if not skipping:
                records.append(rec)
            i += 1
            continue
        if head not in ("statement", "query"):
            raise ParseError(f"{path}:{i + 1}: unknown record header {s!r}")
        header_index = i
        if head == "statement":
            if len(words) < 2 or words[1] not in ("ok", "error", "maybe"):
                raise ParseError(f"{path}:{i + 1}: expected 'statement ok' or 'statement error'")
            kind = "statement_ok" if words[1] == "ok" else "statement_error"
            rec = Record(kind, i + 1, header_index=i)
        else:
            typechars = words[1] if len(words) > 1 else ""
            sortmode = words[2] if len(words) > 2 else "nosort"
            if sortmode not in ("nosort", "rowsort", "valuesort"):
                raise ParseError(f"{path}:{i + 1}: unknown sort mode {sortmode!r}")
            rec = Record("query", i + 1, typechars=typechars, sortmode=sortmode, header_index=i)
        rec.skipif, rec.onlyif = skipif, onlyif
        skipif, onlyif = [], []
        i += 1
        sql_lines = []
        while i < n and lines[i].strip() != "" and lines[i].strip() != "----":
            sql_lines.append(lines[i])
            i += 1
        rec.sql = "\n".join(sql_lines).strip()
        if rec.sql.endswith(";"):
            rec.sql = rec.sql[:-1].rstrip()
        if not rec.sql:
            raise ParseError(f"{path}:{rec.line}: record without SQL")
        if i < n and lines[i].strip() == "----":
            rec.has_result_block = True
            i += 1
            start = i
            while i < n and lines[i] != "" and lines[i].strip() != "":
                rec.expected.append(lines[i])
                i += 1
            rec.result_span = (start, i)
        elif rec.kind == "query":
            rec.result_span = None
        if not skipping:
            records.append(rec)
    if loop_stack:
        raise ParseError(f"{path}: loop without endloop")
    return records


def substitute(sql: str, loop_vars: dict) -> str:
    sql = sql.replace("__TESTDATA__", TESTDATA).replace("__DATA__", SQLDATA)
    for k, v in loop_vars.items():
        sql = sql.replace("${" + k + "}", v)
    return sql


# ----------------------------------------------------------------------------
# Engines: each returns ("ok", columns, types, rows) or ("error", message)


class EngineFailure(Exception):
    """The engine itself broke (crash, timeout, protocol violation)."""


class LakestreamEngine:
    name = "lakestream"

    def __init__(self, binary: str, timeout: float):
        self.binary = binary
        self.timeout = timeout
        self.proc = None
        self.lines: queue.Queue = queue.Queue()
        self.stderr_file = None

    def start(self):
        if self.stderr_file:
            self.stderr_file.close()
        self.stderr_file = tempfile.TemporaryFile(mode="w+b")
        self.proc = subprocess.Popen(
            [self.binary, "sql", "--jsonl"], cwd=REPO, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.stderr_file)
        self.lines = queue.Queue()
        proc, q = self.proc, self.lines

        def reader():
            for line in proc.stdout:
                q.put(line)
            q.put(None)

        threading.Thread(target=reader, daemon=True).start()
        # Same session defaults as the Spark side (spark_session()): UTC.
        try:
            self.run("SET spark.sql.session.timeZone = UTC")
        except EngineFailure:
            pass  # reported by the first record

    def stderr_tail(self, limit=2000) -> str:
        if not self.stderr_file:
            return ""
        self.stderr_file.seek(0)
        data = self.stderr_file.read().decode("utf-8", "replace")
        return data[-limit:]

    def stop(self):
        if self.proc:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.stderr_file:
            self.stderr_file.close()
            self.stderr_file = None

    def run(self, sql: str):
        if self.proc is None:
            self.start()
            if self.proc is None:
                raise EngineFailure(f"lakestream exited right after start\n"
                                    f"stderr: {self.stderr_tail()}")
        try:
            self.proc.stdin.write((json.dumps({"sql": sql}) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the reader sees EOF and we report the exit below
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                tail = self.stderr_tail()
                self.proc.kill()
                self.proc.wait()
                self.proc = None  # the next record starts a new process
                raise EngineFailure(f"timeout after {self.timeout:.0f}s (process killed; "
                                    f"session state lost)\nstderr: {tail}")
            if line is None:
                self.proc.wait()
                code = self.proc.returncode
                tail = self.stderr_tail()
                self.proc = None  # the next record starts a new process
                raise EngineFailure(f"lakestream exited with code {code} (session state "
                                    f"lost)\nstderr tail:\n{tail}")
            text = line.decode("utf-8", "replace").strip()
            if not text:
                continue
            try:
                msg = json.loads(text)
            except json.JSONDecodeError:
                raise EngineFailure(f"protocol error: not a JSON line on stdout: {text[:500]!r}")
            if not isinstance(msg, dict) or "ok" not in msg:
                raise EngineFailure(f"protocol error: no 'ok' in {text[:500]!r}")
            if msg["ok"]:
                return ("ok", msg.get("columns", []), msg.get("types", []), msg.get("rows", []))
            return ("error", str(msg.get("error", "")))


_SPARK = None


def spark_session():
    global _SPARK
    if _SPARK is None:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        from pyspark.sql import SparkSession
        _SPARK = (SparkSession.builder.master("local[1]").appName("sqllogic")
                  .config("spark.ui.enabled", "false")
                  .config("spark.ui.showConsoleProgress", "false")
                  .config("spark.sql.session.timeZone", "UTC")
                  .config("spark.sql.shuffle.partitions", "1")
                  .config("spark.driver.memory", "2g")
                  .getOrCreate())
        _SPARK.sparkContext.setLogLevel("OFF")
        import logging  # PySpark 4 logs every SQL error as JSON on stderr: silence it
        logging.getLogger("SQLQueryContextLogger").disabled = True
        logging.getLogger("DataFrameQueryContextLogger").disabled = True
        logging.getLogger("pyspark").setLevel(logging.CRITICAL)
    return _SPARK


_READ_FILES_COUNTER = [0]
_TOKEN = re.compile(r"""\s*(?:'((?:[^'\\]|\\.|'')*)'|"((?:[^"\\]|\\.)*)"|(=>)|(,)|(\))|([A-Za-z_][A-Za-z0-9_]*)|([-+]?[0-9.]+))""")


def rewrite_read_files(session, sql: str) -> str:
    """OSS Spark has no read_files table function (Databricks does): turn each
    read_files('path', option => value, ...) into a temp view over
    DataFrameReader with the same option names, so tests run on Spark."""
    out = []
    pos = 0
    pattern = re.compile(r"\bread_files\s*\(", re.I)
    while True:
        m = pattern.search(sql, pos)
        if not m:
            out.append(sql[pos:])
            return "".join(out)
        out.append(sql[pos:m.start()])
        j = m.end()
        args: list = []
        name = None
        while True:
            t = _TOKEN.match(sql, j)
            if not t:
                raise ValueError(f"read_files: cannot parse arguments at {sql[j:j + 30]!r}")
            j = t.end()
            sq, dq, arrow, comma, close, ident, num = t.groups()
            if close:
                break
            if comma:
                continue
            if arrow:
                name = args.pop()[1]
                continue
            if sq is not None:
                val = sq.replace("''", "'")
            elif dq is not None:
                val = dq
            elif num is not None:
                val = num
            else:
                val = ident
            kind = "ident" if ident is not None else "value"
            if name is None and kind == "ident":
                args.append(("ident", val))
            else:
                args.append((name or "", val))
                name = None
        path = None
        opts = {}
        for k, v in args:
            if k == "" and path is None:
                path = v
            elif k:
                opts[k.lower()] = v
        reader = session.read
        fmt = opts.pop("format", None)
        if fmt:
            reader = reader.format(fmt)
        schema = opts.pop("schema", None)
        if schema:
            reader = reader.schema(schema)
        for k, v in opts.items():
            reader = reader.option(k, v)
        _READ_FILES_COUNTER[0] += 1
        view = f"__read_files_{_READ_FILES_COUNTER[0]}"
        reader.load(path).createOrReplaceTempView(view)
        out.append(view)
        pos = j


class SparkEngine:
    name = "spark"

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.session = None

    def start(self):
        self.session = spark_session().newSession()

    def stop(self):
        self.session = None

    def _execute(self, sql):
        from pyspark.sql.functions import col
        sql = rewrite_read_files(self.session, sql)
        df = self.session.sql(sql)
        cols = list(df.columns)
        types = [f.dataType.simpleString() for f in df.schema.fields]
        if not cols:
            return ("ok", [], [], [])
        tmp = [f"c{i}" for i in range(len(cols))]
        rows = df.toDF(*tmp).select([col(c).cast("string") for c in tmp]).collect()
        return ("ok", cols, types, [list(r) for r in rows])

    def run(self, sql: str):
        if self.session is None:
            self.start()
        result: list = []

        def work():
            try:
                result.append(self._execute(sql))
            except Exception as e:  # noqa: BLE001 - report every Spark error as a SQL error
                result.append(("error", str(e)))

        t = threading.Thread(target=work, daemon=True)
        t.start()
        t.join(self.timeout)
        if t.is_alive():
            spark_session().sparkContext.cancelAllJobs()
            t.join(10)
            raise EngineFailure(f"timeout after {self.timeout:.0f}s in Spark")
        return result[0]


# ----------------------------------------------------------------------------
# Comparison


def fmt_value(v) -> str:
    if v is None:
        return "NULL"
    if v == "":
        return "(empty)"
    return str(v)


def to_float(s: str):
    t = s.strip()
    low = t.lower()
    if low in ("nan",):
        return math.nan
    if low in ("infinity", "inf", "+infinity"):
        return math.inf
    if low in ("-infinity", "-inf"):
        return -math.inf
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", t):
        return None
    try:
        return float(t)
    except ValueError:
        return None


def values_equal(expected: str, actual: str, numeric: bool = True) -> bool:
    """Exact text match, or (unless the column is text) numbers within REL_TOL."""
    if expected == actual:
        return True
    if not numeric:
        return False
    a, b = to_float(expected), to_float(actual)
    if a is None or b is None:
        return False
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-300)


TYPE_CLASSES = {
    "I": ("tinyint", "smallint", "int", "bigint", "integer", "long", "short", "byte"),
    "R": ("float", "double", "decimal", "real"),
    "T": ("string", "varchar", "char"),
    "B": ("boolean",),
    "D": ("date", "timestamp", "timestamp_ntz", "timestamp_ltz"),
}


def base_type(t: str) -> str:
    """The type's name without parameters or collation: "decimal(10,2)" -> "decimal",
    "string collate UTF8_LCASE" -> "string"."""
    return t.split("(")[0].split(" collate ")[0].lower()


def typechar_for(t: str) -> str:
    base = base_type(t)
    for ch, names in TYPE_CLASSES.items():
        if base in names:
            return ch
    return "?"


def type_ok(ch: str, t: str) -> bool:
    if ch not in TYPE_CLASSES or t is None:
        return True
    return base_type(t) in TYPE_CLASSES[ch]


def sort_rows(rows: list[list[str]], mode: str) -> list[list[str]]:
    if mode == "rowsort":
        return sorted(rows)
    if mode == "valuesort":
        return [[v] for v in sorted(v for r in rows for v in r)]
    return rows


def expected_rows(rec: Record, ncols: int, nrows_actual: int) -> list[list[str]]:
    rows = [line.split("\t") for line in rec.expected]
    # DuckDB also allows one value per line.
    if (ncols > 1 and rows and all(len(r) == 1 for r in rows)
            and len(rows) == ncols * nrows_actual):
        flat = [r[0] for r in rows]
        rows = [flat[k:k + ncols] for k in range(0, len(flat), ncols)]
    return rows


def check_query(rec: Record, cols, types, rows) -> str | None:
    """Returns None when the result matches, else a description of the mismatch."""
    ncols = len(cols)
    problems = []
    if rec.typechars and len(rec.typechars) != ncols:
        problems.append(f"expected {len(rec.typechars)} columns ({rec.typechars}), "
                        f"got {ncols}: {cols}")
    elif rec.typechars and types:
        for k, (ch, t) in enumerate(zip(rec.typechars, types)):
            if not type_ok(ch, t):
                problems.append(f"column {k + 1} ({cols[k]}) has type {t}, expected type char {ch}")
    actual = [[fmt_value(v) for v in r] for r in rows]
    exp = expected_rows(rec, ncols, len(actual))
    # Only floating point values compare with a tolerance; integers, decimals
    # (whose scale is part of Spark's text) and strings must match exactly.
    tolerant = []
    for k in range(ncols):
        t = (types[k] if types and k < len(types) else "") or ""
        base = t.split("(")[0].lower()
        ch = rec.typechars[k] if k < len(rec.typechars) else "?"
        tolerant.append(base in ("float", "double", "real") if base else ch not in "TIB")
    if rec.sortmode == "valuesort":
        exp = sort_rows(exp, "valuesort")
        actual = sort_rows(actual, "valuesort")
        tolerant = [any(tolerant)] if tolerant else []
    elif rec.sortmode == "rowsort":
        actual = sorted(actual)
        exp = sorted(exp)
    if len(exp) != len(actual):
        problems.append(f"expected {len(exp)} rows, got {len(actual)}")
    else:
        for k, (e, a) in enumerate(zip(exp, actual)):
            if len(e) != len(a) or not all(values_equal(x, y, tolerant[j] if j < len(tolerant)
                                                        else True)
                                           for j, (x, y) in enumerate(zip(e, a))):
                problems.append(f"row {k + 1} differs: expected {e} got {a}")
                break
    if not problems:
        return None
    shown_exp = "\n".join("\t".join(r) for r in exp[:30])
    shown_act = "\n".join("\t".join(r) for r in actual[:30])
    more = "\n...(truncated)" if max(len(exp), len(actual)) > 30 else ""
    return ("; ".join(problems) + f"\n  expected:\n{indent(shown_exp)}{more}"
            f"\n  actual (columns {cols}, types {types}):\n{indent(shown_act)}{more}")


def indent(text: str, pad="    ") -> str:
    return "\n".join(pad + line for line in text.split("\n")) if text else pad + "(no rows)"


def error_matches(expected_lines: list[str], message: str) -> bool:
    want = "\n".join(expected_lines).strip()
    if not want:
        return True
    if want.startswith("<REGEX>:"):
        return re.search(want[len("<REGEX>:"):], message, re.S) is not None
    return want.lower() in message.lower()


# ----------------------------------------------------------------------------
# Running


@dataclass
class FileResult:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)
    updates: dict = field(default_factory=dict)  # result_span -> (new lines, header_index, new header)


def should_run(rec: Record, engine: str) -> bool:
    if engine in rec.skipif:
        return False
    if rec.onlyif and engine not in rec.onlyif:
        return False
    return True


def run_file(path: str, engine, args) -> FileResult:
    res = FileResult()
    try:
        records = parse_file(path)
    except ParseError as e:
        res.failed += 1
        res.failures.append(f"parse error: {e}")
        return res
    engine.start()
    try:
        for rec in records:
            if not should_run(rec, engine.name):
                if rec.kind != "halt":
                    res.skipped += 1
                continue
            if rec.kind == "halt":
                break
            sql = substitute(rec.sql, rec.loop_vars)
            where = f"{os.path.relpath(path, REPO)}:{rec.line}"
            try:
                outcome = engine.run(sql)
            except EngineFailure as e:
                res.failed += 1
                res.failures.append(f"{where}: {e}\n  sql: {sql}")
                continue
            failure = None
            if rec.kind == "statement_ok":
                if outcome[0] == "error":
                    failure = f"statement failed: {outcome[1]}"
            elif rec.kind == "statement_error":
                if outcome[0] == "ok":
                    failure = "statement succeeded but an error was expected"
                    if outcome[1]:
                        failure += f" (got {len(outcome[3])} rows: {outcome[3][:5]})"
                elif not error_matches(rec.expected, outcome[1]):
                    failure = (f"error message does not match\n  expected: "
                               f"{chr(10).join(rec.expected)}\n  actual: {outcome[1]}")
            else:  # query
                if outcome[0] == "error":
                    failure = f"query failed: {outcome[1]}"
                else:
                    _, cols, types, rows = outcome
                    unwritable = any(isinstance(v, str) and ("\n" in v or "\t" in v)
                                     for r in rows for v in r)
                    if args.update and unwritable:
                        failure = ("a value contains a newline or TAB and cannot be written "
                                   "into a .test file; change the query (e.g. hex() it)")
                    elif args.update and rec.result_span is not None:
                        new_lines = ["\t".join(fmt_value(v) for v in r) for r in
                                     sort_rows([[fmt_value(v) for v in r] for r in rows],
                                               "rowsort" if rec.sortmode == "rowsort" else "nosort")]
                        if rec.sortmode == "valuesort":
                            new_lines = [r[0] for r in sort_rows(
                                [[fmt_value(v) for v in r] for r in rows], "valuesort")]
                        typechars = rec.typechars
                        if len(typechars) != len(cols) or (types and not all(
                                type_ok(c, t) for c, t in zip(typechars, types))):
                            typechars = "".join(typechar_for(t) for t in types) if types \
                                else "T" * len(cols)
                        res.updates[rec.result_span] = (new_lines, rec.header_index, typechars,
                                                        rec.sortmode)
                    else:
                        failure = check_query(rec, cols, types, rows)
            if failure:
                res.failed += 1
                res.failures.append(f"{where}: {failure}\n  sql: {sql}")
            else:
                res.passed += 1
    finally:
        engine.stop()
    return res


def apply_updates(path: str, updates: dict):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for (start, end), (new_lines, header_index, typechars, sortmode) in sorted(
            updates.items(), reverse=True):
        lines[start:end] = new_lines
        header = "query " + typechars + ("" if sortmode == "nosort" else " " + sortmode)
        lines[header_index] = header
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def collect(paths: list[str], k: str | None) -> list[str]:
    out = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, files in os.walk(p):
                out += [os.path.join(root, f) for f in files if f.endswith(".test")]
        else:
            out.append(p)
    out = sorted(set(os.path.abspath(p) for p in out))
    if k:
        out = [p for p in out if k in os.path.relpath(p, REPO)]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="*", default=[os.path.join(REPO, "tests", "sql")])
    ap.add_argument("--binary", default=os.environ.get("LAKESTREAM_BIN",
                                                       os.path.join(REPO, "build", "lakestream")))
    ap.add_argument("-k", dest="k", help="only files whose path contains this substring")
    ap.add_argument("--update", action="store_true",
                    help="rewrite expected query results from the engine's output")
    ap.add_argument("--spark", action="store_true", help="run against PySpark instead")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per record")
    ap.add_argument("-q", "--quiet", action="store_true", help="only print failures")
    ap.add_argument("--known-failures", help="file of 'path:line' records that are known to fail "
                    "(features not built yet); they are reported but do not fail the run, and a "
                    "listed record that passes fails the run so the list can only shrink")
    ap.add_argument("--write-known-failures", help="write the failing records to this file")
    args = ap.parse_args(argv)
    known = set()
    if args.known_failures and os.path.exists(args.known_failures):
        with open(args.known_failures) as fh:
            known = {l.split("#")[0].strip() for l in fh if l.split("#")[0].strip()}
    seen_failing = set()
    all_failing = []
    known_hit = 0

    files = collect(args.paths, args.k)
    if not files:
        print("no .test files found", file=sys.stderr)
        return 1
    if args.spark:
        engine = SparkEngine(args.timeout)
    else:
        binary = os.path.abspath(args.binary)
        if not os.access(binary, os.X_OK):
            print(f"lakestream binary not found or not executable: {binary}", file=sys.stderr)
            return 1
        engine = LakestreamEngine(binary, args.timeout)
    total_pass = total_fail = total_skip = 0
    t0 = time.monotonic()
    for path in files:
        t1 = time.monotonic()
        res = run_file(path, engine, args)
        total_pass += res.passed
        total_fail += res.failed
        total_skip += res.skipped
        rel = os.path.relpath(path, REPO)
        kept = []
        for f in res.failures:
            key = f.split(": ", 1)[0]
            all_failing.append(key)
            if key in known:
                seen_failing.add(key)
                known_hit += 1
                res.failed -= 1
                total_fail -= 1
            else:
                kept.append(f)
        res.failures = kept
        for key in sorted(k for k in known if k.rsplit(":", 1)[0] == rel and k not in seen_failing):
            res.failed += 1
            total_fail += 1
            res.failures.append(f"{key}: listed in {args.known_failures} but passes now: remove it from the list")
        status = "ok" if res.failed == 0 else "FAIL"
        if not args.quiet or res.failed:
            print(f"{status:4} {rel}: {res.passed} passed, {res.failed} failed, "
                  f"{res.skipped} skipped ({time.monotonic() - t1:.1f}s)", flush=True)
        for f in res.failures:
            print("  " + f.replace("\n", "\n  "), flush=True)
        if args.update and res.updates:
            apply_updates(path, res.updates)
            print(f"     updated {len(res.updates)} query results in {rel}")
    print(f"{len(files)} files, {total_skip} records skipped, "
          f"{time.monotonic() - t0:.1f}s on {engine.name}")
    if args.write_known_failures:
        with open(args.write_known_failures, "w") as fh:
            fh.write("# SQL logic test records known to fail (features not built yet).\n"
                     "# Generated by run.py --write-known-failures; this list may only shrink.\n")
            for key in all_failing:
                fh.write(key + "\n")
    if known_hit:
        print(f"{known_hit} known failures (listed in {args.known_failures})")
    print(f"{total_pass} passed, {total_fail} failed")
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main())
