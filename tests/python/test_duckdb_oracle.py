"""DuckDB as a second oracle at scale: a generated 1M-row fact table and a
1000-row dimension (Parquet + CSV), queries written in the subset of SQL where
DuckDB and Spark SQL agree (explicit NULLS FIRST/LAST, no concat with NULLs,
no avg of decimals, ...), results compared with lakestream's (floats within
1e-9 relative, order-insensitive unless the query ends with ORDER BY).

The data set is generated deterministically once into .cache/oracle/<version>/
and reused across runs.
"""
from __future__ import annotations

import datetime as dt
import decimal
import os

import pytest

from oracle_common import REPO, Lakestream, compare, lakestream_binary

DATA_VERSION = "duckdb-oracle-v1"
N_FACT = 1_000_000
N_DIM = 1000

FACT_SCHEMA = ("id BIGINT, k INT, k2 INT, cat STRING, v DOUBLE, q INT, amt DECIMAL(12,2), "
               "day DATE, flag BOOLEAN")
DIM_SCHEMA = "k INT, name STRING, region STRING, weight DOUBLE"

QUERIES = [
    # scans and filters
    "SELECT count(*) FROM fact",
    "SELECT count(*) FROM fact_csv",
    "SELECT count(*), count(q), count(cat), count(amt) FROM fact",
    "SELECT count(*), count(q), count(cat), count(amt) FROM fact_csv",
    "SELECT count(*) FROM fact WHERE v > 500",
    "SELECT count(*) FROM fact WHERE v BETWEEN 100 AND 200 AND q IS NOT NULL",
    "SELECT count(*) FROM fact WHERE cat IN ('c1', 'c7', 'c13') AND flag",
    "SELECT count(*) FROM fact WHERE cat LIKE 'c1%'",
    "SELECT count(*) FROM fact WHERE day >= DATE '2023-01-01' AND day < DATE '2023-07-01'",
    "SELECT count(*) FROM fact_csv WHERE day >= DATE '2023-01-01' AND day < DATE '2023-07-01'",
    "SELECT count(*) FROM fact WHERE amt > 5000.00",
    "SELECT id, k, v FROM fact WHERE id % 100000 = 7",
    "SELECT id, cat, amt, day FROM fact_csv WHERE id % 100000 = 7",
    "SELECT count(*) FROM fact WHERE q IS NULL",
    "SELECT count(*) FROM fact WHERE NOT flag OR q < 0",
    # global aggregates
    "SELECT sum(v), avg(v), min(v), max(v) FROM fact",
    "SELECT sum(q), avg(q), min(q), max(q) FROM fact",
    "SELECT sum(amt), min(amt), max(amt) FROM fact",
    "SELECT sum(amt), min(amt), max(amt) FROM fact_csv",
    "SELECT stddev_samp(v), var_samp(v), stddev_pop(q), var_pop(q) FROM fact",
    "SELECT count(DISTINCT k), count(DISTINCT k2), count(DISTINCT cat) FROM fact",
    "SELECT min(day), max(day), min(cat), max(cat) FROM fact",
    "SELECT sum(CASE WHEN flag THEN 1 ELSE 0 END), sum(CASE WHEN q > 0 THEN v ELSE 0 END) FROM fact",
    # group-bys
    "SELECT cat, count(*), sum(v), avg(q) FROM fact GROUP BY cat",
    "SELECT cat, count(*), sum(v), avg(q) FROM fact_csv GROUP BY cat",
    "SELECT k, count(*), sum(q), min(v), max(v) FROM fact GROUP BY k",
    "SELECT k2, count(*), sum(v) FROM fact GROUP BY k2",
    "SELECT flag, cat, count(*), sum(amt) FROM fact GROUP BY flag, cat",
    "SELECT year(day), month(day), count(*), sum(v) FROM fact GROUP BY year(day), month(day)",
    "SELECT cat, count(DISTINCT k) FROM fact GROUP BY cat",
    "SELECT k, sum(v) FROM fact GROUP BY k HAVING sum(v) > 505000",
    "SELECT cat, stddev_samp(v), var_samp(q) FROM fact GROUP BY cat",
    "SELECT q % 10 AS r, count(*) FROM fact GROUP BY q % 10",
    "SELECT cat, min(amt), max(amt), sum(amt) FROM fact GROUP BY cat",
    # joins
    "SELECT d.region, count(*), sum(f.v) FROM fact f JOIN dim d ON f.k = d.k GROUP BY d.region",
    "SELECT d.region, count(*), sum(f.v) FROM fact_csv f JOIN dim_csv d ON f.k = d.k GROUP BY d.region",
    "SELECT d.name, count(*) FROM fact f JOIN dim d ON f.k = d.k WHERE f.cat = 'c3' AND d.weight > 0.5 GROUP BY d.name",
    "SELECT count(*), sum(d.weight) FROM fact f LEFT JOIN dim d ON f.k2 = d.k",
    "SELECT count(*) FROM fact f LEFT JOIN dim d ON f.k2 = d.k WHERE d.k IS NULL",
    "SELECT count(*) FROM dim d RIGHT JOIN fact f ON f.k2 = d.k",
    "SELECT count(*), count(d.k), count(f.id) FROM (SELECT * FROM fact WHERE id < 2000) f FULL OUTER JOIN dim d ON f.k2 = d.k",
    "SELECT count(*) FROM fact f WHERE f.k2 IN (SELECT k FROM dim WHERE region = 'r2')",
    "SELECT count(*) FROM fact f WHERE EXISTS (SELECT 1 FROM dim d WHERE d.k = f.k2)",
    "SELECT count(*) FROM fact f WHERE NOT EXISTS (SELECT 1 FROM dim d WHERE d.k = f.k2)",
    "SELECT d.region, f.cat, count(*) FROM fact f JOIN dim d ON f.k = d.k AND f.q > d.k GROUP BY d.region, f.cat",
    # top-N and sorts
    "SELECT id, v FROM fact ORDER BY v DESC, id LIMIT 10",
    "SELECT id, v FROM fact_csv ORDER BY v DESC, id LIMIT 10",
    "SELECT id, q FROM fact ORDER BY q NULLS FIRST, id LIMIT 15",
    "SELECT id, q FROM fact ORDER BY q DESC NULLS LAST, id DESC LIMIT 15",
    "SELECT id, cat, amt FROM fact ORDER BY amt NULLS LAST, id LIMIT 20 OFFSET 100",
    "SELECT cat, sum(v) AS s FROM fact GROUP BY cat ORDER BY s DESC LIMIT 5",
    "SELECT k, count(*) AS c FROM fact GROUP BY k ORDER BY c DESC, k LIMIT 10",
    # window functions
    "SELECT k, id, row_number() OVER (PARTITION BY k ORDER BY v DESC, id) AS rn FROM fact WHERE k < 3 AND id < 20000",
    "SELECT * FROM (SELECT cat, id, v, row_number() OVER (PARTITION BY cat ORDER BY v DESC, id) AS rn FROM fact) t WHERE rn <= 3",
    "SELECT cat, id, rank() OVER (PARTITION BY cat ORDER BY q NULLS LAST), dense_rank() OVER (PARTITION BY cat ORDER BY q NULLS LAST) FROM fact WHERE id < 5000",
    "SELECT id, sum(v) OVER (ORDER BY id ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) FROM fact WHERE id < 3000",
    "SELECT id, lag(q) OVER (PARTITION BY cat ORDER BY id), lead(v, 2) OVER (PARTITION BY cat ORDER BY id) FROM fact WHERE id < 3000",
    "SELECT cat, id, avg(v) OVER (PARTITION BY cat) FROM fact WHERE id < 2000",
    "SELECT sum(c) FROM (SELECT count(*) OVER (PARTITION BY k) AS c FROM fact WHERE id < 100000) t",
    # set operations and distinct
    "SELECT count(*) FROM (SELECT DISTINCT k, cat FROM fact) t",
    "SELECT count(*) FROM (SELECT k FROM fact WHERE v < 10 UNION SELECT k FROM dim WHERE weight > 0.9) t",
    "SELECT count(*) FROM (SELECT k2 FROM fact INTERSECT SELECT k FROM dim) t",
    "SELECT count(*) FROM (SELECT k FROM dim EXCEPT SELECT k FROM fact WHERE cat = 'c5') t",
    # expressions
    "SELECT cat, sum(floor(v)), sum(CAST(q AS DOUBLE) * 2.5) FROM fact GROUP BY cat",
    "SELECT upper(cat), length(cat), count(*) FROM fact GROUP BY upper(cat), length(cat)",
    "SELECT coalesce(q, -1) AS qq, count(*) FROM fact WHERE id < 50000 GROUP BY coalesce(q, -1) ORDER BY qq LIMIT 10",
    "SELECT CASE WHEN v < 250 THEN 'low' WHEN v < 750 THEN 'mid' ELSE 'high' END AS b, count(*) FROM fact GROUP BY 1",
    "SELECT abs(q) % 7, round(avg(v), 6) FROM fact GROUP BY abs(q) % 7",
]


def cache_dir() -> str:
    return os.path.join(REPO, ".cache", "oracle", DATA_VERSION)


def generate(folder: str):
    """Writes fact.parquet/fact.csv (1M rows) and dim.parquet/dim.csv."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    rng = np.random.default_rng(7)
    n = N_FACT
    ids = np.arange(n, dtype=np.int64)
    q = rng.integers(-1000, 1000, n).astype(np.int32)
    q_mask = rng.random(n) < 0.05
    cats = np.array([f"c{k}" for k in range(20)], dtype=object)
    cat = cats[rng.integers(0, 20, n)]
    cat_mask = rng.random(n) < 0.01
    amt_cents = rng.integers(0, 1_000_000, n)
    amt_mask = rng.random(n) < 0.02
    days = (np.datetime64("2022-01-01") + rng.integers(0, 1000, n)).astype("datetime64[D]")
    fact = pa.table({
        "id": pa.array(ids),
        "k": pa.array(rng.integers(0, 1000, n).astype(np.int32)),
        "k2": pa.array(rng.integers(0, 100_000, n).astype(np.int32)),
        "cat": pa.array(cat, pa.string(), mask=cat_mask),
        # whole multiples of 1/1024: exact in binary and in decimal text
        "v": pa.array(rng.integers(0, 1000 * 1024, n) / 1024.0),
        "q": pa.array(q, mask=q_mask),
        "amt": pa.array([decimal.Decimal(int(c)).scaleb(-2) for c in amt_cents],
                        pa.decimal128(12, 2), mask=amt_mask),
        "day": pa.array(days, pa.date32()),
        "flag": pa.array(rng.random(n) < 0.3),
    })
    dim = pa.table({
        "k": pa.array(np.arange(N_DIM, dtype=np.int32) * 2),
        "name": pa.array([f"name{k % 37}" for k in range(N_DIM)]),
        "region": pa.array([f"r{k % 5}" for k in range(N_DIM)]),
        "weight": pa.array((np.arange(N_DIM) % 100) / 100.0),
    })
    os.makedirs(folder, exist_ok=True)
    pq.write_table(fact, os.path.join(folder, "fact.parquet"), row_group_size=128 * 1024)
    pq.write_table(dim, os.path.join(folder, "dim.parquet"))
    opts = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    pacsv.write_csv(fact, os.path.join(folder, "fact.csv"), opts)
    pacsv.write_csv(dim, os.path.join(folder, "dim.csv"), opts)
    with open(os.path.join(folder, "COMPLETE"), "w") as f:
        f.write(DATA_VERSION + "\n")


@pytest.fixture(scope="module")
def data_dir():
    folder = cache_dir()
    if not os.path.exists(os.path.join(folder, "COMPLETE")):
        generate(folder)
    return folder


def duckdb_views(folder: str):
    def cols(schema):
        ddl_to_duck = {"STRING": "VARCHAR", "INT": "INTEGER", "BOOLEAN": "BOOLEAN"}
        out = []
        for part in schema.split(", "):
            name, typ = part.split(" ", 1)
            out.append(f"'{name}': '{ddl_to_duck.get(typ, typ)}'")
        return "{" + ", ".join(out) + "}"
    return [
        f"CREATE VIEW fact AS SELECT * FROM read_parquet('{folder}/fact.parquet')",
        f"CREATE VIEW dim AS SELECT * FROM read_parquet('{folder}/dim.parquet')",
        f"CREATE VIEW fact_csv AS SELECT * FROM read_csv('{folder}/fact.csv', header = true, "
        f"columns = {cols(FACT_SCHEMA)})",
        f"CREATE VIEW dim_csv AS SELECT * FROM read_csv('{folder}/dim.csv', header = true, "
        f"columns = {cols(DIM_SCHEMA)})",
    ]


def lakestream_views(folder: str):
    return [
        f"CREATE TEMP VIEW fact AS SELECT * FROM read_files('{folder}/fact.parquet', "
        f"format => 'parquet')",
        f"CREATE TEMP VIEW dim AS SELECT * FROM read_files('{folder}/dim.parquet', "
        f"format => 'parquet')",
        f"CREATE TEMP VIEW fact_csv AS SELECT * FROM read_files('{folder}/fact.csv', "
        f"format => 'csv', header => true, schema => '{FACT_SCHEMA}')",
        f"CREATE TEMP VIEW dim_csv AS SELECT * FROM read_files('{folder}/dim.csv', "
        f"format => 'csv', header => true, schema => '{DIM_SCHEMA}')",
    ]


def spark_text(v) -> str | None:
    """A DuckDB value as Spark's CAST(value AS STRING) would print it."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        text = v.strftime("%Y-%m-%d %H:%M:%S")
        if v.microsecond:
            text += (".%06d" % v.microsecond).rstrip("0")
        return text
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return repr(v)
    return str(v)


NUMERIC_DUCK = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE",
                "DECIMAL", "UBIGINT", "UINTEGER")


@pytest.fixture(scope="module")
def duck(data_dir):
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    con.execute("SET threads = 2")
    for stmt in duckdb_views(data_dir):
        con.execute(stmt)
    yield con
    con.close()


def duck_run(con, sql):
    try:
        cur = con.execute(sql)
        rows = cur.fetchall()
        types = ["double" if str(d[1]).split("(")[0].upper() in NUMERIC_DUCK else "string"
                 for d in cur.description]
        return ("ok", [d[0] for d in cur.description], types,
                [[spark_text(v) for v in r] for r in rows])
    except Exception as e:  # noqa: BLE001
        return ("error", str(e))


@pytest.fixture(scope="module")
def lakestream(data_dir):
    binary = lakestream_binary()
    if not os.access(binary, os.X_OK):
        pytest.fail(f"lakestream binary not found: {binary} (set LAKESTREAM_BIN or make build)")
    ls = Lakestream(timeout=120)
    ls.view_errors = []
    for stmt in lakestream_views(data_dir):
        res = ls.run(stmt)
        if res[0] != "ok":
            ls.view_errors.append(f"{stmt}\n  -> {res[1][:500]}")
    yield ls
    ls.close()


def test_query_list_is_large_enough():
    assert len(QUERIES) >= 55
    assert len(set(QUERIES)) == len(QUERIES)


@pytest.mark.parametrize("sql", QUERIES, ids=[f"q{k:02d}" for k in range(len(QUERIES))])
def test_matches_duckdb(sql, duck, lakestream):
    if lakestream.view_errors:
        pytest.fail("lakestream could not create the views:\n" + "\n".join(lakestream.view_errors))
    expected = duck_run(duck, sql)
    assert expected[0] == "ok", f"DuckDB rejected the query (fix the query list): {expected[1]}"
    actual = lakestream.run(sql)
    problem = compare(expected, actual, sql, check_types=False)
    if problem:
        pytest.fail(f"{sql}\n{problem}", pytrace=False)
