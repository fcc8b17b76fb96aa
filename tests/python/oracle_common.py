"""Shared helpers of the oracle tests: a lakestream `sql --jsonl` client, a
Spark session factory and result comparison (values as Spark's CAST(... AS
STRING) text, floats within a relative tolerance, order-insensitive unless
the query orders its output)."""
from __future__ import annotations

import math
import os
import re
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "sqllogic"))

import run as sqllogic  # noqa: E402  (the SQL logic test runner's engines)

REL_TOL = 1e-9


def lakestream_binary() -> str:
    return os.path.abspath(os.environ.get("LAKESTREAM_BIN",
                                          os.path.join(REPO, "build", "lakestream")))


class Lakestream:
    """One `lakestream sql --jsonl` process; run() returns
    ("ok", columns, types, rows) or ("error", message)."""

    def __init__(self, timeout: float = 120.0):
        self.engine = sqllogic.LakestreamEngine(lakestream_binary(), timeout)
        self.engine.start()

    def run(self, sql: str):
        try:
            return self.engine.run(sql)
        except sqllogic.EngineFailure as e:
            return ("crash", str(e))

    def close(self):
        self.engine.stop()


def start_spark(master: str, app: str):
    """Returns a SparkSession or raises with the reason Spark cannot start."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master(master).appName(app)
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.shuffle.partitions", "4")
             .config("spark.driver.memory", "3g")
             .getOrCreate())
    spark.sparkContext.setLogLevel("OFF")
    import logging
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logging.getLogger(name).disabled = True
    return spark


def spark_run(spark, sql: str):
    """Runs one statement on Spark with the SQL logic runner's semantics
    (read_files(...) rewritten into DataFrameReader temp views)."""
    from pyspark.sql.functions import col
    try:
        sql = sqllogic.rewrite_read_files(spark, sql)
        df = spark.sql(sql)
        cols = list(df.columns)
        types = [f.dataType.simpleString() for f in df.schema.fields]
        if not cols:
            return ("ok", [], [], [])
        tmp = [f"c{i}" for i in range(len(cols))]
        rows = df.toDF(*tmp).select([col(c).cast("string") for c in tmp]).collect()
        return ("ok", cols, types, [list(r) for r in rows])
    except Exception as e:  # noqa: BLE001 - every Spark error is a SQL error here
        return ("error", str(e))


_ORDER_BY = re.compile(r"\border\s+by\b", re.I)


def is_ordered(sql: str) -> bool:
    """True when the outermost query has an ORDER BY (one outside every
    parenthesis, so not OVER (... ORDER BY ...) nor a subquery's)."""
    depth = 0
    in_str = None
    top = []
    for ch in sql:
        if in_str:
            in_str = None if ch == in_str else in_str
            top.append(" ")
            continue
        if ch in "'\"`":
            in_str = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        top.append(ch if depth == 0 and ch not in "()" else " ")
    return _ORDER_BY.search("".join(top)) is not None


def _num(s):
    if s is None:
        return None
    return sqllogic.to_float(s)


def values_match(a, b, numeric: bool) -> bool:
    if a == b:
        return True
    if a is None or b is None or not numeric:
        return False
    x, y = _num(a), _num(b)
    if x is None or y is None:
        return False
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return x == y
    return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=1e-12)


# Only floating point values compare with a tolerance: integers and decimals
# (whose scale is part of Spark's text) must match exactly.
FLOAT_TYPES = ("float", "double")


def _sort_key(row):
    return [(v is None, "" if v is None else v) for v in row]


def compare(expected, actual, sql: str, check_types: bool = True) -> str | None:
    """Compares an oracle result with lakestream's; None when they agree."""
    if expected[0] != "ok":
        if actual[0] == "error":
            return None  # both reject the query
        if actual[0] == "crash":
            return f"oracle rejected the query ({expected[1][:300]}); lakestream crashed: {actual[1]}"
        return (f"oracle rejected the query but lakestream returned {len(actual[3])} rows\n"
                f"oracle error: {expected[1][:500]}")
    if actual[0] != "ok":
        return f"lakestream {actual[0]}: {actual[1][:2000]}"
    _, ecols, etypes, erows = expected
    _, acols, atypes, arows = actual
    if len(ecols) != len(acols):
        return f"column count differs: oracle {ecols}, lakestream {acols}"
    problems = []
    if check_types and etypes and atypes and len(etypes) == len(atypes):
        for k, (et, at) in enumerate(zip(etypes, atypes)):
            if et.replace(" ", "") != str(at).replace(" ", ""):
                problems.append(f"column {k + 1} ({ecols[k]}): type {at}, oracle {et}")
    numeric = [(t or "").split("(")[0] in FLOAT_TYPES for t in etypes] if etypes \
        else [True] * len(ecols)
    if len(erows) != len(arows):
        problems.append(f"row count differs: oracle {len(erows)}, lakestream {len(arows)}")
    else:
        if not is_ordered(sql):
            erows = sorted(erows, key=_sort_key)
            arows = sorted(arows, key=_sort_key)
        for i, (er, ar) in enumerate(zip(erows, arows)):
            if len(er) != len(ar) or not all(values_match(x, y, n)
                                              for x, y, n in zip(er, ar, numeric)):
                problems.append(f"row {i + 1} differs:\n  oracle:     {er}\n  lakestream: {ar}")
                break
    if not problems:
        return None
    return "\n".join(problems) + (f"\noracle first rows: {erows[:5]}\nlakestream first rows: "
                                  f"{arows[:5]}")
