"""Stream-stream joins against Spark Structured Streaming itself (issue 10).

Impressions and clicks arrive as JSON files, one file per side per batch,
out of order and with late rows; both engines join them with the same
condition (same ad, click within 10 minutes after the impression), the same
watermarks (1 minute) and availableNow. The final outputs must be equal,
for inner, left/right/full outer and left semi joins, including the NULL-
padded rows the outer joins emit once the watermark passes them.
"""
from __future__ import annotations

import json
import os
import pathlib

import pytest

from spark_fixtures import lakestream, lakestream_json, spark  # noqa: F401  (fixture)

IMP_SCHEMA = "ad BIGINT, imp_time TIMESTAMP, campaign STRING"
CLK_SCHEMA = "cad BIGINT, click_time TIMESTAMP, cost BIGINT"

# One file per batch on each side; times are minutes:seconds after 10:00.
IMPRESSIONS = [
    [(1, "00:00", "x"), (2, "00:30", "x"), (3, "01:00", "y"), (None, "01:10", "y")],
    [(4, "05:00", "y"), (5, "06:00", "x"), (6, "08:00", "z")],
    [(7, "30:00", "x"), (8, "31:00", "z"), (2, "02:00", "late")],  # ad 2 at 02:00: behind the watermark by now?
    [(9, "59:00", "x")],
]
CLICKS = [
    [(1, "02:00", 10), (2, "15:00", 20), (3, "00:30", 30)],  # ad 2: 14.5 min later, too late; ad 3 before
    [(4, "09:00", 40), (1, "09:30", 11), (5, "20:00", 50)],  # ad 5: 14 min later, no match
    [(6, "17:59", 60), (7, "31:00", 70), (8, "50:00", 80)],
    [(9, "59:30", 90), (7, "39:59", 71), (5, "06:30", 51)],  # ad 5 06:30: late at the watermark
]


def write_side(folder: pathlib.Path, batches, cols) -> None:
    folder.mkdir(parents=True)
    for i, rows in enumerate(batches):
        lines = []
        for key, t, v in rows:
            lines.append(json.dumps({cols[0]: key, cols[1]: f"2026-01-01T10:{t}Z", cols[2]: v}))
        path = folder / f"{i:03d}.json"
        path.write_text("\n".join(lines) + "\n")
        # Spark orders files by modification time; both engines read them in order.
        os.utime(path, (1_700_000_000 + i * 10, 1_700_000_000 + i * 10))


@pytest.fixture()
def inputs(tmp_path):
    write_side(tmp_path / "imp", IMPRESSIONS, ("ad", "imp_time", "campaign"))
    write_side(tmp_path / "clk", CLICKS, ("cad", "click_time", "cost"))
    return tmp_path


CONDITION = "i.ad = c.cad AND c.click_time BETWEEN i.imp_time AND i.imp_time + INTERVAL 10 MINUTES"
JOIN_SQL = {"inner": "JOIN", "left": "LEFT JOIN", "right": "RIGHT JOIN", "full": "FULL OUTER JOIN",
            "left_semi": "LEFT SEMI JOIN"}


def run_spark(spark, folder, how):  # noqa: F811
    from pyspark.sql import functions as F
    imp = (spark.readStream.schema(IMP_SCHEMA).option("maxFilesPerTrigger", 1).json(str(folder / "imp"))
           .withWatermark("imp_time", "1 minute").alias("i"))
    clk = (spark.readStream.schema(CLK_SCHEMA).option("maxFilesPerTrigger", 1).json(str(folder / "clk"))
           .withWatermark("click_time", "1 minute").alias("c"))
    cond = F.expr(CONDITION)
    joined = imp.join(clk, cond, how)
    name = f"join_{how}"
    q = (joined.writeStream.format("memory").queryName(name).outputMode("append")
         .trigger(availableNow=True).start())
    q.awaitTermination()
    return spark.table(name).collect()


def run_lakestream(folder, how):
    out = folder / f"ls_{how}"
    select = "i.*" if how == "left_semi" else "*"
    sql = folder / f"{how}.sql"
    sql.write_text(
        f"CREATE STREAMING TABLE delta.`{out}` AS SELECT {select} FROM "
        f"STREAM read_files('{folder / 'imp'}', format => 'json', schema => '{IMP_SCHEMA}', maxFilesPerTrigger => 1) "
        "WATERMARK imp_time DELAY OF INTERVAL 1 MINUTE AS i "
        f"{JOIN_SQL[how]} "
        f"STREAM read_files('{folder / 'clk'}', format => 'json', schema => '{CLK_SCHEMA}', maxFilesPerTrigger => 1) "
        f"WATERMARK click_time DELAY OF INTERVAL 1 MINUTE AS c ON {CONDITION};")
    lakestream("run", str(sql), "--checkpoint", str(folder / f"cp_{how}"), "--trigger", "availableNow", "-q")
    return lakestream_json(f"SELECT * FROM delta.`{out}`")


def normalize(rows, columns):
    def value(v):
        if v is None:
            return "NULL"
        s = str(v).replace("T", " ")
        return s[:19] if len(s) >= 19 and s[4] == "-" else s
    return sorted(tuple(value(r[c]) for c in columns) for r in rows)


@pytest.mark.parametrize("how", ["inner", "left", "right", "full", "left_semi"])
def test_stream_stream_join_equals_spark(spark, inputs, how):  # noqa: F811
    columns = ["ad", "imp_time", "campaign"] + ([] if how == "left_semi" else ["cad", "click_time", "cost"])
    expected = normalize([r.asDict() for r in run_spark(spark, inputs, how)], columns)
    got = normalize(run_lakestream(inputs, how), columns)
    assert expected, "Spark emitted nothing: the scenario is wrong"
    assert got == expected, f"lakestream {got}\nSpark      {expected}"
