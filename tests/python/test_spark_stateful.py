"""Stateful streaming against Spark Structured Streaming itself (issue 10).

The same input (JSON files with out-of-order and late rows), the same query,
the same watermark and availableNow with one file per batch: lakestream's
final output must equal Spark's. Spark reads the files with
readStream.json + withWatermark; lakestream runs a pipeline file.
"""
from __future__ import annotations

import json
import os
import pathlib

import pytest

from spark_fixtures import lakestream, lakestream_json, spark  # noqa: F401  (fixture)

EVENTS = [
    # file 0
    [("10:00:01", "a", 1), ("10:00:05", "a", 2), ("10:00:12", "b", 3), ("10:00:07", "b", 4)],
    # file 1: 10:00:03 is late once the watermark is 10:00:07
    [("10:00:03", "a", 5), ("10:00:15", "b", 6), ("10:00:25", "a", 7), ("10:00:22", "c", 8)],
    # file 2: moves the watermark to 10:00:40
    [("10:00:45", "a", 9), ("10:00:18", "c", 10), ("10:00:44", "b", 11)],
    # file 3: duplicates of earlier ids (for the dedup query), one far ahead
    [("10:00:46", "a", 9), ("10:00:47", "b", 3), ("10:01:30", "c", 12)],
]
SCHEMA = "ts TIMESTAMP, kind STRING, id BIGINT"


def write_input(folder: pathlib.Path, events=None) -> None:
    folder.mkdir(parents=True)
    for i, rows in enumerate(EVENTS if events is None else events):
        lines = [json.dumps({"ts": f"2026-01-01T{t}Z", "kind": k, "id": n}) for t, k, n in rows]
        path = folder / f"{i:03d}.json"
        path.write_text("\n".join(lines) + "\n")
        # Spark's file source orders files by modification time (names only
        # break ties): distinct mtimes make both engines read them in order.
        os.utime(path, (1_700_000_000 + i * 10, 1_700_000_000 + i * 10))


def run_spark(spark, folder, build, mode, name):  # noqa: F811
    from pyspark.sql import functions as F  # noqa: F401
    df = (spark.readStream.schema(SCHEMA).option("maxFilesPerTrigger", 1).json(str(folder))
          .withWatermark("ts", "5 seconds"))
    q = (build(df).writeStream.format("memory").queryName(name).outputMode(mode)
         .trigger(availableNow=True).start())
    q.awaitTermination()
    return spark.table(name)


def run_lakestream(tmp_path, folder, select, mode, name):
    out = tmp_path / f"ls_{name}"
    sql = tmp_path / f"{name}.sql"
    src = (f"STREAM read_files('{folder}', format => 'json', schema => '{SCHEMA}', maxFilesPerTrigger => 1) "
           "WATERMARK ts DELAY OF INTERVAL 5 SECONDS")
    sql.write_text(f"CREATE STREAMING TABLE delta.`{out}` TBLPROPERTIES ('outputMode' = '{mode}') AS "
                   + select.format(src=src) + ";")
    lakestream("run", str(sql), "--checkpoint", str(tmp_path / f"cp_{name}"), "--trigger", "availableNow", "-q")
    return out


def rows_of(records, columns):
    return sorted(tuple(str(r[c]) for c in columns) for r in records)


@pytest.mark.parametrize("case", ["tumbling", "sliding"])
def test_windowed_count_append_equals_spark(spark, tmp_path, case):  # noqa: F811
    from pyspark.sql import functions as F
    folder = tmp_path / "in"
    write_input(folder)
    win = "window(ts, '10 seconds')" if case == "tumbling" else "window(ts, '10 seconds', '5 seconds')"
    spark_win = F.window("ts", "10 seconds") if case == "tumbling" else F.window("ts", "10 seconds", "5 seconds")
    sdf = run_spark(spark, folder, lambda df: df.groupBy(spark_win.alias("w"), "kind").agg(
        F.count("*").alias("n"), F.sum("id").alias("s")).select(
        F.date_format("w.start", "HH:mm:ss").alias("start"), "kind", "n", "s"), "append", f"agg_{case}")
    expected = rows_of(sdf.collect(), ["start", "kind", "n", "s"])
    out = run_lakestream(tmp_path, folder,
                         f"SELECT date_format(window.start, 'HH:mm:ss') AS start, kind, count(*) AS n, sum(id) AS s "
                         f"FROM {{src}} GROUP BY {win}, kind", "append", case)
    got = rows_of(lakestream_json(f"SELECT * FROM delta.`{out}`"), ["start", "kind", "n", "s"])
    assert expected, "Spark emitted no closed window: the scenario is wrong"
    assert got == expected, f"lakestream {got}\nSpark      {expected}"


def test_update_mode_final_values_equal_spark(spark, tmp_path):  # noqa: F811
    from pyspark.sql import functions as F
    folder = tmp_path / "in"
    write_input(folder)
    sdf = run_spark(spark, folder, lambda df: df.groupBy("kind").agg(F.count("*").alias("n"), F.max("id").alias("m")),
                    "complete", "agg_complete")
    expected = rows_of(sdf.collect(), ["kind", "n", "m"])
    out = tmp_path / "mem"
    sql = tmp_path / "q.sql"
    src = (f"STREAM read_files('{folder}', format => 'json', schema => '{SCHEMA}', maxFilesPerTrigger => 1) "
           "WATERMARK ts DELAY OF INTERVAL 5 SECONDS")
    sql.write_text(f"CREATE STREAMING TABLE delta.`{out}` TBLPROPERTIES ('outputMode' = 'complete') AS "
                   f"SELECT kind, count(*) AS n, max(id) AS m FROM {src} GROUP BY kind;")
    lakestream("run", str(sql), "--checkpoint", str(tmp_path / "cp"), "--trigger", "availableNow", "-q")
    got = rows_of(lakestream_json(f"SELECT * FROM delta.`{out}`"), ["kind", "n", "m"])
    assert got == expected
    # The same aggregate as a batch query: our batch path and DuckDB agree.
    batch = rows_of(lakestream_json(
        f"SELECT kind, count(*) AS n, max(id) AS m FROM read_files('{folder}', format => 'json', "
        f"schema => '{SCHEMA}') GROUP BY kind"), ["kind", "n", "m"])
    assert batch == expected
    duckdb = pytest.importorskip("duckdb")
    rows = duckdb.sql(f"SELECT kind, count(*), max(id) FROM read_json_auto('{folder}/*.json') GROUP BY kind").fetchall()
    assert sorted((str(k), str(n), str(m)) for k, n, m in rows) == expected, f"lakestream {got}\nSpark      {expected}"


def test_drop_duplicates_within_watermark_equals_spark(spark, tmp_path):  # noqa: F811
    folder = tmp_path / "in"
    write_input(folder)
    sdf = run_spark(spark, folder, lambda df: df.dropDuplicatesWithinWatermark(["id"]), "append", "dedup")
    expected = rows_of(sdf.collect(), ["id", "kind"])
    out = tmp_path / "ls_dedup"
    sql = tmp_path / "dedup.sql"
    sql.write_text(f"CREATE STREAMING TABLE delta.`{out}` AS SELECT id, kind FROM STREAM read_files('{folder}', "
                   f"format => 'json', schema => '{SCHEMA}', maxFilesPerTrigger => 1, "
                   "dropDuplicatesWithinWatermark => 'id') WATERMARK ts DELAY OF INTERVAL 5 SECONDS;")
    lakestream("run", str(sql), "--checkpoint", str(tmp_path / "cp"), "--trigger", "availableNow", "-q")
    got = rows_of(lakestream_json(f"SELECT * FROM delta.`{out}`"), ["id", "kind"])
    assert got == expected, f"lakestream {got}\nSpark      {expected}"


@pytest.mark.parametrize("mode", ["append"])
def test_session_window_equals_spark(spark, tmp_path, mode):  # noqa: F811
    """Sessions of 10 s gaps per kind merge across batches (file 1's 10:00:03
    `a` lands inside the open session of 10:00:01-10:00:05)."""
    from pyspark.sql import functions as F
    folder = tmp_path / "in"
    write_input(folder)
    sdf = run_spark(spark, folder, lambda df: df.groupBy(F.session_window("ts", "10 seconds").alias("s"), "kind")
                    .agg(F.count("*").alias("n"), F.sum("id").alias("t"))
                    .select(F.date_format("s.start", "HH:mm:ss").alias("start"),
                            F.date_format("s.end", "HH:mm:ss").alias("end"), "kind", "n", "t"), mode, f"sess_{mode}")
    expected = rows_of(sdf.collect(), ["start", "end", "kind", "n", "t"])
    out = tmp_path / f"mem_{mode}"
    sql = tmp_path / "q.sql"
    src = (f"STREAM read_files('{folder}', format => 'json', schema => '{SCHEMA}', maxFilesPerTrigger => 1) "
           "WATERMARK ts DELAY OF INTERVAL 5 SECONDS")
    sql.write_text(f"CREATE STREAMING TABLE delta.`{out}` TBLPROPERTIES ('outputMode' = '{mode}') AS "
                   "SELECT date_format(session_window.start, 'HH:mm:ss') AS start, "
                   "date_format(session_window.end, 'HH:mm:ss') AS end, kind, count(*) AS n, sum(id) AS t "
                   f"FROM {src} GROUP BY session_window(ts, '10 seconds'), kind;")
    lakestream("run", str(sql), "--checkpoint", str(tmp_path / "cp"), "--trigger", "availableNow", "-q")
    got = rows_of(lakestream_json(f"SELECT * FROM delta.`{out}`"), ["start", "end", "kind", "n", "t"])
    assert expected, "Spark emitted no session"
    assert got == expected, f"lakestream {got}\nSpark      {expected}"


def test_aggregation_over_aggregation_equals_spark(spark, tmp_path):  # noqa: F811
    """Chained stateful operators in append mode: a 10 s count per kind, then
    a 20 s window over those windows (window_time), as Spark 3.5+ runs it."""
    from pyspark.sql import functions as F
    folder = tmp_path / "in"
    write_input(folder)

    def build(df):
        inner = df.groupBy(F.window("ts", "10 seconds").alias("w"), "kind").agg(F.count("*").alias("n"))
        outer = inner.groupBy(F.window(F.window_time("w"), "20 seconds").alias("w2")).agg(
            F.sum("n").alias("total"), F.count("*").alias("groups"))
        return outer.select(F.date_format("w2.start", "HH:mm:ss").alias("start"), "total", "groups")
    expected = rows_of(run_spark(spark, folder, build, "append", "chained").collect(), ["start", "total", "groups"])
    out = tmp_path / "chained"
    sql = tmp_path / "q.sql"
    src = (f"STREAM read_files('{folder}', format => 'json', schema => '{SCHEMA}', maxFilesPerTrigger => 1) "
           "WATERMARK ts DELAY OF INTERVAL 5 SECONDS")
    sql.write_text(f"CREATE STREAMING TABLE delta.`{out}` AS "
                   "SELECT date_format(window.start, 'HH:mm:ss') AS start, sum(n) AS total, count(*) AS groups FROM ("
                   f"  SELECT window AS w, kind, count(*) AS n FROM {src} GROUP BY window(ts, '10 seconds'), kind) "
                   "GROUP BY window(window_time(w), '20 seconds');")
    lakestream("run", str(sql), "--checkpoint", str(tmp_path / "cp"), "--trigger", "availableNow", "-q")
    got = rows_of(lakestream_json(f"SELECT * FROM delta.`{out}`"), ["start", "total", "groups"])
    assert expected, "Spark emitted nothing"
    assert got == expected, f"lakestream {got}\nSpark      {expected}"


def run_streaming_table(tmp_path: pathlib.Path, select: str):
    """Runs `select` into a Delta table with trigger availableNow: the table's
    path and the query's progress records."""
    out = tmp_path / "hot"
    sql = tmp_path / "q.sql"
    sql.write_text(f"CREATE STREAMING TABLE delta.`{out}` AS {select};")
    cp = tmp_path / "cp"
    lakestream("run", str(sql), "--checkpoint", str(cp), "--trigger", "availableNow", "-q")
    return out, [json.loads(line) for p in cp.rglob("progress.jsonl") for line in p.read_text().splitlines()]


@pytest.mark.parametrize("form", ["window_struct", "renamed_bounds"])
def test_hot_items_join_of_aggregations_equals_spark(spark, tmp_path, form):  # noqa: F811
    """Nexmark q5's shape: per sliding window the kinds with the most rows, a
    stream-stream join of a windowed count with the max over it. Spark plans
    it only when the join is on the `window` struct (its event-time column);
    lakestream also traces event time through renamed window bounds
    (`window.start AS starttime`, Flink's form of q5). Both give Spark's rows,
    and the join's state is empty once the final watermark passes."""
    from pyspark.sql import functions as F
    folder = tmp_path / "in"
    write_input(folder)

    def build(df):
        counts = df.groupBy(F.window("ts", "10 seconds", "5 seconds").alias("window"), "kind").agg(
            F.count("*").alias("num"))
        maxes = (df.groupBy(F.window("ts", "10 seconds", "5 seconds").alias("window"), "kind")
                 .agg(F.count("*").alias("num")).groupBy("window").agg(F.max("num").alias("maxn")))
        joined = counts.join(maxes, "window").where("num >= maxn")
        return joined.select(F.date_format("window.start", "HH:mm:ss").alias("start"), "kind", "num")
    expected = rows_of(run_spark(spark, folder, build, "append", f"hot_{form}").collect(), ["start", "kind", "num"])
    src = (f"STREAM read_files('{folder}', format => 'json', schema => '{SCHEMA}', maxFilesPerTrigger => 1) "
           "WATERMARK ts DELAY OF INTERVAL 5 SECONDS")
    if form == "window_struct":
        select = (
            "SELECT date_format(c.window.start, 'HH:mm:ss') AS start, c.kind, c.num FROM "
            f"(SELECT window, kind, count(*) AS num FROM {src} GROUP BY window(ts, '10 seconds', '5 seconds'), kind) c "
            "JOIN (SELECT window, max(num) AS maxn FROM "
            f"  (SELECT window, kind, count(*) AS num FROM {src} GROUP BY window(ts, '10 seconds', '5 seconds'), kind) "
            "  GROUP BY window) m "
            "ON c.window = m.window AND c.num >= m.maxn")
    else:
        select = (
            "SELECT date_format(c.starttime, 'HH:mm:ss') AS start, c.kind, c.num FROM "
            "(SELECT kind, count(*) AS num, window.start AS starttime, window.end AS endtime "
            f" FROM {src} GROUP BY window(ts, '10 seconds', '5 seconds'), kind) c "
            "JOIN (SELECT max(num) AS maxn, starttime, endtime FROM "
            "  (SELECT count(*) AS num, window.start AS starttime, window.end AS endtime "
            f"   FROM {src} GROUP BY window(ts, '10 seconds', '5 seconds'), kind) "
            "  GROUP BY starttime, endtime) m "
            "ON c.starttime = m.starttime AND c.endtime = m.endtime AND c.num >= m.maxn")
    out, progress = run_streaming_table(tmp_path, select)
    got = rows_of(lakestream_json(f"SELECT * FROM delta.`{out}`"), ["start", "kind", "num"])
    assert expected, "Spark emitted nothing"
    assert got == expected, f"lakestream {got}\nSpark      {expected}"
    join_state = [op["numRowsTotal"] for op in progress[-1]["stateOperators"]
                  if op.get("operatorName") == "symmetricHashJoin"]
    assert join_state == [0], progress[-1]["stateOperators"]
    # The two scans of the folder are one source, and the two identical
    # windowed counts one operator (Flink's source and sub-plan reuse).
    assert len(progress[-1]["sources"]) == 1, progress[-1]["sources"]
    assert [op["operatorName"] for op in progress[-1]["stateOperators"]] == [
        "stateStoreSave", "stateStoreSave", "symmetricHashJoin"], progress[-1]["stateOperators"]


def test_nondeterministic_operators_are_not_shared(tmp_path):
    """q5's shape with rand() in both branches: two draws are two computations,
    so the two windowed counts keep an operator each (one source still)."""
    folder = tmp_path / "in"
    write_input(folder)
    src = (f"STREAM read_files('{folder}', format => 'json', schema => '{SCHEMA}', maxFilesPerTrigger => 1) "
           "WATERMARK ts DELAY OF INTERVAL 5 SECONDS")
    counts = ("SELECT kind, count(*) AS num, window.start AS starttime, window.end AS endtime "
              f"FROM (SELECT * FROM {src} WHERE rand() < 2) GROUP BY window(ts, '10 seconds', '5 seconds'), kind")
    select = (
        f"SELECT c.kind, c.num FROM ({counts}) c "
        f"JOIN (SELECT max(num) AS maxn, starttime, endtime FROM ({counts}) GROUP BY starttime, endtime) m "
        "ON c.starttime = m.starttime AND c.endtime = m.endtime AND c.num >= m.maxn")
    _, progress = run_streaming_table(tmp_path, select)
    assert len(progress[-1]["sources"]) == 1, progress[-1]["sources"]
    assert [op["operatorName"] for op in progress[-1]["stateOperators"]] == [
        "stateStoreSave", "stateStoreSave", "stateStoreSave", "symmetricHashJoin"], progress[-1]["stateOperators"]


def test_aggregation_over_time_bounded_join_equals_spark(spark, tmp_path):  # noqa: F811
    """An aggregation over a stream-stream join: a joined row can appear until
    the watermark passes its time bound (10 s here), so the window count
    downstream must wait that much longer than the watermark alone says, as
    Spark delays a join's output watermark by the bound."""
    from pyspark.sql import functions as F
    folder = tmp_path / "in"
    # a@01 (window [00, 10)) meets b@10.8, which comes after b@15.5 moved the
    # watermark to 10.5 (and a batch with a row that matches nothing made
    # 10.5 the late-row threshold): the window's end is behind it, but the
    # join could still emit rows of a@01 until 11 (01 + the 10 s bound), so
    # the window must still be open. c@40 then closes everything.
    write_input(folder, [[("10:00:01", "a", 1)], [("10:00:15.500", "b", 2)], [("10:00:05", "z", None)],
                         [("10:00:10.800", "b", 3)], [("10:00:40", "c", 4)]])

    def build(df):
        left = df.where("kind = 'a'").select(F.col("ts").alias("lt"), (F.col("id") % 2).alias("k"))
        right = df.where("kind <> 'a'").select(F.col("ts").alias("rt"), (F.col("id") % 2).alias("k2"))
        joined = left.join(right, F.expr(
            "k = k2 AND rt BETWEEN lt - INTERVAL 10 SECONDS AND lt + INTERVAL 10 SECONDS"))
        return joined.groupBy(F.window("lt", "10 seconds").alias("w")).agg(F.count("*").alias("n")).select(
            F.date_format("w.start", "HH:mm:ss").alias("start"), "n")
    expected = rows_of(run_spark(spark, folder, build, "append", "agg_join").collect(), ["start", "n"])
    src = (f"STREAM read_files('{folder}', format => 'json', schema => '{SCHEMA}', maxFilesPerTrigger => 1) "
           "WATERMARK ts DELAY OF INTERVAL 5 SECONDS")
    out = tmp_path / "agg_join"
    sql = tmp_path / "q.sql"
    sql.write_text(
        f"CREATE STREAMING TABLE delta.`{out}` AS "
        "SELECT date_format(window.start, 'HH:mm:ss') AS start, count(*) AS n FROM "
        f"(SELECT ts AS lt, id % 2 AS k FROM {src} WHERE kind = 'a') l JOIN "
        f"(SELECT ts AS rt, id % 2 AS k2 FROM {src} WHERE kind <> 'a') r "
        "ON k = k2 AND rt BETWEEN lt - INTERVAL 10 SECONDS AND lt + INTERVAL 10 SECONDS "
        "GROUP BY window(lt, '10 seconds');")
    lakestream("run", str(sql), "--checkpoint", str(tmp_path / "cp"), "--trigger", "availableNow", "-q")
    got = rows_of(lakestream_json(f"SELECT * FROM delta.`{out}`"), ["start", "n"])
    assert expected, "Spark emitted nothing"
    assert got == expected, f"lakestream {got}\nSpark      {expected}"
