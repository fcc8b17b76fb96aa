"""Spark SQL as the oracle for semantics: every query of
oracle_queries_spark.py runs on lakestream (`sql --jsonl`) and on Spark 4
(PySpark local[2]) over the same generated CSV, JSON and Parquet files; the
values, row counts and (where both give them) types must agree.

Skips (does not fail) when Java/Spark cannot start. LAKESTREAM_BIN selects
the binary (default build/lakestream).
"""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import math
import os
import random

import pytest

from oracle_common import Lakestream, compare, lakestream_binary, spark_run, start_spark
from oracle_queries_spark import QUERIES

N_ROWS = 3000
SCHEMA = ("id INT, grp STRING, i INT, l BIGINT, f DOUBLE, dec DECIMAL(12,3), s STRING, "
          "d DATE, ts TIMESTAMP, b BOOLEAN, js STRING")
WORDS = ["alpha", "Beta", "gamma delta", "", " padded ", "Ünïcödé", "straße", "日本語",
         "a_b%c", "x,y", "it's", "MiXeD CaSe", "42", "-7", "3.5", "2024-02-29", "zz top",
         "emoji 😀", "semi;colon", "NULL"]
# (No backslashes: Spark's CSV reader treats them as escapes by default. The
# js column's doubled quotes are RFC 4180; the tc view passes escape => '"'.)
EDGE_DOUBLES = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 1e-300, 1e300, 5e-324,
                2.0 ** 53 + 1, -1.5, 0.1, 123456789.125]


def generate_rows(n: int = N_ROWS):
    rnd = random.Random(20240229)
    rows = []
    base_day = dt.date(2019, 1, 1)
    base_ts = dt.datetime(2019, 1, 1, 0, 0, 0)
    for k in range(1, n + 1):
        def maybe(v, p=0.08):
            return None if rnd.random() < p else v
        f = EDGE_DOUBLES[k % len(EDGE_DOUBLES)] if k % 97 < len(EDGE_DOUBLES) and k % 7 == 0 \
            else rnd.uniform(-1e4, 1e4) * (10 ** rnd.randint(-3, 3))
        js_kind = k % 9
        if js_kind == 0:
            js = None
        elif js_kind == 1:
            js = "not json"
        elif js_kind == 2:
            js = json.dumps({"k": f"key{k % 5}", "v": str(k)})  # number as string
        else:
            js = json.dumps({"k": f"key{k % 5}", "v": rnd.randint(-50, 50),
                             "arr": [rnd.randint(0, 9) for _ in range(k % 4)],
                             "o": {"x": round(rnd.uniform(-10, 10), 3), "y": rnd.choice(WORDS)},
                             "f": rnd.choice([1.5, -0.25, 1e20, 3])}, ensure_ascii=(k % 2 == 0))
        rows.append({
            "id": k,
            "grp": maybe(f"g{rnd.randint(0, 6)}", 0.05),
            "i": maybe(rnd.randint(-100000, 100000) if k % 11 else rnd.choice(
                [0, 1, -1, 2147483647, -2147483648, 127, 128, -129])),
            "l": maybe(rnd.randint(-(2 ** 40), 2 ** 40) if k % 13 else rnd.choice(
                [0, 9223372036854775807, -9223372036854775808, 4294967296])),
            "f": maybe(f),
            "dec": maybe(decimal.Decimal(rnd.randint(-99999999, 99999999)).scaleb(-3)
                         .quantize(decimal.Decimal("0.001"))),
            "s": maybe(rnd.choice(WORDS) + (str(rnd.randint(0, 99)) if rnd.random() < 0.3 else "")),
            "d": maybe(base_day + dt.timedelta(days=rnd.randint(0, 2200))),
            "ts": maybe(base_ts + dt.timedelta(seconds=rnd.randint(0, 2200 * 86400),
                                               microseconds=rnd.choice([0, 0, 500000, 123456, 1]))),
            "b": maybe(rnd.random() < 0.5),
            "js": js,
        })
    return rows


def _finite(v):
    return None if isinstance(v, float) and not math.isfinite(v) else v


def _csv_field(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, str):
        return '"' + v.replace('"', '""') + '"'  # quoted, so '' stays an empty string
    return str(v)


def write_files(folder: str, rows):
    import pyarrow as pa
    import pyarrow.parquet as pq
    table = pa.table({
        "id": pa.array([r["id"] for r in rows], pa.int32()),
        "grp": pa.array([r["grp"] for r in rows], pa.string()),
        "i": pa.array([r["i"] for r in rows], pa.int32()),
        "l": pa.array([r["l"] for r in rows], pa.int64()),
        "f": pa.array([r["f"] for r in rows], pa.float64()),
        "dec": pa.array([r["dec"] for r in rows], pa.decimal128(12, 3)),
        "s": pa.array([r["s"] for r in rows], pa.string()),
        "d": pa.array([r["d"] for r in rows], pa.date32()),
        "ts": pa.array([r["ts"] for r in rows], pa.timestamp("us", tz="UTC")),
        "b": pa.array([r["b"] for r in rows], pa.bool_()),
        "js": pa.array([r["js"] for r in rows], pa.string()),
    })
    pq.write_table(table, os.path.join(folder, "data.parquet"), row_group_size=1000)
    names = list(rows[0].keys())
    with open(os.path.join(folder, "data.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(",".join(names) + "\n")
        for r in rows:
            f.write(",".join(_csv_field(_finite(r[c])) for c in names) + "\n")
    with open(os.path.join(folder, "data.json"), "w", encoding="utf-8") as f:
        for r in rows:
            obj = {}
            for c in names:
                v = _finite(r[c])
                if v is None and c in ("grp", "b"):
                    continue  # missing key as well as explicit null
                if isinstance(v, decimal.Decimal):
                    v = float(v)  # <= 8 significant digits: the repr is exact
                elif isinstance(v, dt.datetime):
                    v = v.strftime("%Y-%m-%d %H:%M:%S.%f")
                elif isinstance(v, dt.date):
                    v = v.isoformat()
                obj[c] = v
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")
    dim = pa.table({
        "grp": pa.array([f"g{k}" for k in range(0, 9, 2)] + [None], pa.string()),
        "label": pa.array(["zero", "two", "four", "six", "eight", "none"], pa.string()),
        "weight": pa.array([decimal.Decimal(x) for x in ("0.50", "1.25", "2.00", "3.75", "9.99",
                                                           "1.00")], pa.decimal128(5, 2)),
    })
    pq.write_table(dim, os.path.join(folder, "dim.parquet"))


def view_statements(folder: str):
    return [
        f"CREATE TEMP VIEW tp AS SELECT * FROM read_files('{folder}/data.parquet', "
        f"format => 'parquet')",
        f"CREATE TEMP VIEW tc AS SELECT * FROM read_files('{folder}/data.csv', format => 'csv', "
        f"header => true, escape => '\"', schema => '{SCHEMA}')",
        f"CREATE TEMP VIEW tj AS SELECT * FROM read_files('{folder}/data.json', format => 'json', "
        f"schema => '{SCHEMA}')",
        f"CREATE TEMP VIEW dim AS SELECT * FROM read_files('{folder}/dim.parquet', "
        f"format => 'parquet')",
    ]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("spark_oracle"))
    write_files(folder, generate_rows())
    return folder


@pytest.fixture(scope="module")
def spark(data_dir):
    try:
        session = start_spark("local[2]", "lakestream-oracle")
    except Exception as e:  # noqa: BLE001 - no Java, no Spark: skip, do not fail
        pytest.skip(f"Spark cannot start (Java 17 + pyspark needed): {e}")
    for stmt in view_statements(data_dir):
        res = spark_run(session, stmt)
        assert res[0] == "ok", f"Spark could not create a view: {res[1][:500]}"
    yield session


@pytest.fixture(scope="module")
def lakestream(data_dir):
    binary = lakestream_binary()
    if not os.access(binary, os.X_OK):
        pytest.fail(f"lakestream binary not found: {binary} (set LAKESTREAM_BIN or make build)")
    ls = Lakestream()
    errors = []
    for stmt in view_statements(data_dir):
        res = ls.run(stmt)
        if res[0] != "ok":
            errors.append(f"{stmt}\n  -> {res[1][:500]}")
    ls.view_errors = errors
    yield ls
    ls.close()


def test_query_list_is_large_enough():
    assert len(QUERIES) >= 160
    assert len(set(QUERIES)) == len(QUERIES), "duplicate queries"


@pytest.mark.parametrize("sql", QUERIES, ids=[f"q{k:03d}" for k in range(len(QUERIES))])
def test_matches_spark(sql, spark, lakestream):
    if lakestream.view_errors:
        pytest.fail("lakestream could not create the test views:\n" +
                    "\n".join(lakestream.view_errors))
    expected = spark_run(spark, sql)
    actual = lakestream.run(sql)
    problem = compare(expected, actual, sql)
    if problem:
        pytest.fail(f"{sql}\n{problem}", pytrace=False)
