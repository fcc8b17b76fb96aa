#!/usr/bin/env python3
"""Generates the small data files the SQL logic tests read (tests/sql/data/).

The outputs are committed; re-run this script only to change them:
  .venv/bin/python tests/sql/data/make_data.py
CSV and JSON files are written by hand (exact bytes matter for the malformed
ones); Parquet files are written with pyarrow.
"""
import datetime as dt
import decimal
import os

import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name: str, text: str):
    path = os.path.join(HERE, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def main():
    # people.csv: header, an empty field (NULL), unicode, quoted comma.
    write("people.csv",
          "id,name,age,city,salary,joined\n"
          "1,Alice,34,Paris,5200.50,2020-01-15\n"
          "2,Bob,,London,4100.00,2019-07-01\n"
          "3,Chloé,29,\"Zürich, CH\",6100.25,2021-03-30\n"
          "4,Dmitri,41,Paris,,2018-11-11\n"
          "5,Eve,23,,3900.75,\n"
          "6,Fu,52,Tokyo,7300.00,2017-05-20\n")
    write("people_noheader.csv",
          "1,Alice,34\n"
          "2,Bob,\n"
          "3,Chloé,29\n")
    # malformed.csv: row 3 has a non-integer age, row 4 has too many fields.
    write("malformed.csv",
          "id,age\n"
          "1,10\n"
          "2,abc\n"
          "3,30,extra\n"
          "4,40\n")
    write("semicolon.csv",
          "k;v\n"
          "a;1\n"
          "b;2\n")
    write("empty_with_header.csv", "id,name\n")
    # events.json: JSON lines with nesting, arrays, a missing field, a null.
    write("events.json",
          '{"id": 1, "user": {"name": "ann", "age": 30}, "tags": ["a", "b"], "score": 1.5}\n'
          '{"id": 2, "user": {"name": "bo", "age": null}, "tags": [], "score": -2.0}\n'
          '{"id": 3, "user": null, "tags": ["c"], "score": null}\n'
          '{"id": 4, "tags": ["a", "c", "d"], "score": 10}\n')
    # malformed.json: line 2 is not JSON.
    write("malformed.json",
          '{"id": 1, "v": "x"}\n'
          '{"id": 2, "v":\n'
          '{"id": 3, "v": "z"}\n')

    # sales.parquet: typed columns, 3 row groups of 4 rows.
    n = 12
    regions = ["north", "south", "east", None]
    table = pa.table({
        "id": pa.array(range(1, n + 1), pa.int32()),
        "region": pa.array([regions[i % 4] for i in range(n)], pa.string()),
        "qty": pa.array([None if i == 5 else (i * 7) % 11 - 3 for i in range(n)], pa.int64()),
        "price": pa.array([decimal.Decimal(f"{(i * 3.25) + 0.99:.2f}") for i in range(n)],
                          pa.decimal128(10, 2)),
        "ratio": pa.array([None if i == 7 else i / 8.0 - 0.5 for i in range(n)], pa.float64()),
        "day": pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=i * 10) for i in range(n)],
                        pa.date32()),
        "ts": pa.array([dt.datetime(2024, 1, 1, 8, 30) + dt.timedelta(hours=i * 13, seconds=i)
                        for i in range(n)], pa.timestamp("us", tz="UTC")),
        "flag": pa.array([None if i == 3 else i % 2 == 0 for i in range(n)], pa.bool_()),
    })
    pq.write_table(table, os.path.join(HERE, "sales.parquet"), row_group_size=4)

    # parts/: two Parquet files of one table, for folder and glob reads.
    os.makedirs(os.path.join(HERE, "parts"), exist_ok=True)
    for k in range(2):
        part = pa.table({"k": pa.array([k * 10 + i for i in range(5)], pa.int64()),
                         "s": pa.array([f"p{k}-{i}" for i in range(5)], pa.string())})
        pq.write_table(part, os.path.join(HERE, "parts", f"part-{k}.parquet"))

    # nested.parquet: struct, array and map columns.
    nested = pa.table({
        "id": pa.array([1, 2, 3], pa.int32()),
        "s": pa.array([{"a": 1, "b": "x"}, None, {"a": None, "b": "z"}],
                      pa.struct([("a", pa.int32()), ("b", pa.string())])),
        "arr": pa.array([[1, 2, 3], [], None], pa.list_(pa.int32())),
        "m": pa.array([[("k1", 1), ("k2", 2)], [], None], pa.map_(pa.string(), pa.int32())),
    })
    pq.write_table(nested, os.path.join(HERE, "nested.parquet"))


if __name__ == "__main__":
    main()
