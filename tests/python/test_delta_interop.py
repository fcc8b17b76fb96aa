"""Delta interoperability with delta-rs (the `deltalake` package).

Both directions go through the C++ test binary `test_delta` (DeltaInterop.*):
tables delta-rs writes must read identically in lakestream, and tables
lakestream writes must read in delta-rs. The binary is found through
LAKESTREAM_BUILD_DIR (default: <repo>/build).
"""
import datetime
import decimal
import os
import pathlib
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

deltalake = pytest.importorskip("deltalake")

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("LAKESTREAM_BUILD_DIR", REPO / "build"))
BINARY = BUILD / "tests" / "test_delta"


def run_gtest(test, env):
    if not BINARY.exists():
        pytest.skip(f"{BINARY} not built")
    proc = subprocess.run(
        [str(BINARY), f"--gtest_filter={test}", "--gtest_also_run_disabled_tests"],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[  PASSED  ] 1 test" in proc.stdout, proc.stdout
    assert "SKIPPED" not in proc.stdout, proc.stdout


def sample(start, n):
    return pa.table({
        "id": pa.array(range(start, start + n), pa.int64()),
        "name": pa.array([None if i % 7 == 3 else f"name {i} é/%" for i in range(start, start + n)]),
        "part": pa.array(["a b" if i % 3 == 0 else ("x=y" if i % 3 == 1 else "c")
                          for i in range(start, start + n)]),
        "score": pa.array([i / 4 for i in range(start, start + n)], pa.float64()),
        "day": pa.array([datetime.date(2020, 1, 1) + datetime.timedelta(days=i)
                         for i in range(start, start + n)], pa.date32()),
        "ts": pa.array([datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
                        + datetime.timedelta(seconds=i, microseconds=i)
                        for i in range(start, start + n)], pa.timestamp("us", tz="UTC")),
        "flag": pa.array([i % 2 == 0 for i in range(start, start + n)]),
        "dec": pa.array([decimal.Decimal(i * 101) / 100 for i in range(start, start + n)],
                        pa.decimal128(10, 2)),
    })


def test_lakestream_reads_delta_rs_tables(tmp_path):
    table = tmp_path / "table"
    for i in range(12):
        deltalake.write_deltalake(str(table), sample(i * 10, 10), mode="append",
                                  partition_by=["part"])
    dt = deltalake.DeltaTable(str(table))
    dt.delete("id < 15")
    dt = deltalake.DeltaTable(str(table))
    dt.create_checkpoint()
    deltalake.write_deltalake(str(table), sample(500, 5), mode="append", partition_by=["part"])
    expected = tmp_path / "expected"
    expected.mkdir()
    pq.write_table(deltalake.DeltaTable(str(table)).to_pyarrow_table(), expected / "data.parquet")
    run_gtest("DeltaInterop.ReadExternalTable",
              {"LAKESTREAM_DELTA_INTEROP_TABLE": str(table),
               "LAKESTREAM_DELTA_INTEROP_EXPECTED": str(expected)})


def test_delta_rs_reads_lakestream_tables(tmp_path):
    table = tmp_path / "written"
    run_gtest("DeltaInterop.WriteTableForExternalReader",
              {"LAKESTREAM_DELTA_INTEROP_WRITE": str(table)})
    dt = deltalake.DeltaTable(str(table))
    assert dt.version() == 11
    got = dt.to_pyarrow_table().sort_by("id")
    assert got.num_rows == 120
    assert got.column("id").to_pylist() == list(range(120))
    assert sorted(set(got.column("part").to_pylist())) == ["a b", "c", "x=y/%"]
    history = dt.history()
    assert history[0]["operation"] == "WRITE"
    assert (table / "_delta_log" / "00000000000000000010.checkpoint.parquet").exists()
    # The checkpoint alone must be readable by delta-rs too.
    for v in range(10):
        (table / "_delta_log" / f"{v:020d}.json").unlink()
    assert deltalake.DeltaTable(str(table)).to_pyarrow_table().num_rows == 120
