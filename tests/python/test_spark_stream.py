"""Streams into Delta, with Apache Spark as the oracle reader: lakestream's
pipeline runner (`lakestream run ... --trigger availableNow`) streams JSON
files into a Delta table over several rounds, files being added between
rounds; Spark then reads that table as a stream (and as a batch) and must
see every input row exactly once. Each lakestream commit must carry the
txn action Spark's own Delta sink writes (appId = the query id of the
checkpoint's metadata file, version = the batch id), which is what makes a
restarted query idempotent.
"""
from __future__ import annotations

import json

import pytest

from spark_fixtures import lakestream, lakestream_json, spark  # noqa: F401  (fixture)

SCHEMA = "id BIGINT, kind STRING"


def write_round(folder, first_file: int, n_files: int, rows_per_file: int = 3) -> list[tuple]:
    """n_files new JSON-lines files; returns their rows as (id, kind)."""
    rows = []
    for f in range(first_file, first_file + n_files):
        lines = []
        for r in range(rows_per_file):
            rid = f * 100 + r
            if r == 1 and f % 2 == 0:
                lines.append(json.dumps({"id": rid}))  # missing field -> NULL
                rows.append((rid, None))
            elif r == 2:
                lines.append(json.dumps({"id": rid, "kind": None, "extra": [1, 2]}))
                rows.append((rid, None))
            else:
                kind = f"k{f}é,\"{r}"
                lines.append(json.dumps({"kind": kind, "id": rid}, ensure_ascii=False))
                rows.append((rid, kind))
        # Written under a temporary name first, so no run sees half a file.
        tmp = folder / f".f{f:03d}.json.tmp"
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.rename(folder / f"f{f:03d}.json")
    return rows


def _sorted(rows):
    return sorted(rows, key=lambda r: (r[0], r[1] is None, r[1] or ""))


@pytest.fixture(scope="module")
def streamed(tmp_path_factory):
    """Runs the pipeline over four rounds (5 files, 3 files, none, 1 file)
    with maxFilesPerTrigger 2: 3 + 2 + 0 + 1 = 6 micro-batches."""
    base = tmp_path_factory.mktemp("stream")
    inp, out, cp = base / "in", base / "out", base / "cp"
    inp.mkdir()
    pipeline = base / "pipeline.sql"
    pipeline.write_text(
        f"CREATE STREAMING TABLE delta.`{out}` AS SELECT id, kind FROM STREAM "
        f"read_files('{inp}', format => 'json', schema => '{SCHEMA}', maxFilesPerTrigger => 2);\n")

    def run():
        lakestream("run", str(pipeline), "--checkpoint", str(cp), "--trigger", "availableNow", "-q")

    rows = []
    versions_after = []
    next_file = 0
    for n_files in (5, 3, 0, 1):
        rows += write_round(inp, next_file, n_files)
        next_file += n_files
        run()
        versions_after.append(max(int(p.stem) for p in (out / "_delta_log").glob("*.json")))
    return {"out": out, "cp": cp, "rows": rows, "versions_after": versions_after, "base": base,
            "inp": inp, "write_round": lambda n: write_round(inp, next_file, n), "run": run}


def commits(table):
    """version -> list of actions, for every JSON commit of the table."""
    return {int(p.stem): [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
            for p in sorted((table / "_delta_log").glob("*.json"))}


def test_each_trigger_commits_one_version_per_batch(streamed):
    # Version 0 creates the table; 3 batches, then 2, then none, then 1.
    assert streamed["versions_after"] == [3, 5, 5, 6]


def test_commits_carry_txn_of_the_query(streamed):
    metadata = list(streamed["cp"].glob("*/metadata"))
    assert len(metadata) == 1, f"expected one streaming table folder in the checkpoint: {metadata}"
    query_id = json.loads(metadata[0].read_text())["id"]
    batch_ids = sorted(int(p.name) for p in (metadata[0].parent / "commits").iterdir() if p.name.isdigit())
    assert batch_ids == list(range(6))
    txns = {}
    for version, actions in commits(streamed["out"]).items():
        if version == 0:
            continue
        txn = [a["txn"] for a in actions if "txn" in a]
        assert len(txn) == 1, f"version {version} has {len(txn)} txn actions: {actions}"
        assert txn[0]["appId"] == query_id
        info = [a["commitInfo"] for a in actions if "commitInfo" in a][0]
        assert info["operation"] == "STREAMING UPDATE"
        assert all(a["add"]["dataChange"] for a in actions if "add" in a)
        txns[version] = txn[0]["version"]
    # Batch b commits version b + 1, in order.
    assert txns == {b + 1: b for b in batch_ids}


def test_spark_streams_the_table_exactly_once(spark, streamed):
    out = str(streamed["out"])
    expected = _sorted(streamed["rows"])
    assert len(expected) == 27
    query = (spark.readStream.format("delta").load(out)
             .writeStream.format("memory").queryName("lakestream_stream_out")
             .trigger(availableNow=True).start())
    query.awaitTermination(120)
    assert not query.isActive
    assert query.exception() is None
    got = _sorted([(r.id, r.kind) for r in spark.sql("SELECT id, kind FROM lakestream_stream_out").collect()])
    assert got == expected
    batch = _sorted([(r.id, r.kind) for r in spark.read.format("delta").load(out).collect()])
    assert batch == expected
    own = _sorted([(r["id"], r["kind"]) for r in lakestream_json(f"SELECT id, kind FROM delta.`{out}`")])
    assert own == expected


def test_spark_stream_resumes_on_new_lakestream_commits(spark, streamed, tmp_path):
    """A Spark stream with its own checkpoint reads lakestream's table
    incrementally: after a restart it gets only the versions lakestream
    committed since, each row once (into a Spark-written Delta mirror)."""
    mirror, spark_cp = str(tmp_path / "mirror"), str(tmp_path / "spark_cp")

    def spark_catch_up():
        q = (spark.readStream.format("delta").load(str(streamed["out"]))
             .writeStream.format("delta").option("checkpointLocation", spark_cp)
             .trigger(availableNow=True).start(mirror))
        q.awaitTermination(120)
        assert q.exception() is None

    spark_catch_up()
    assert spark.read.format("delta").load(mirror).count() == len(streamed["rows"])
    new_rows = streamed["write_round"](3)
    streamed["run"]()
    spark_catch_up()
    got = _sorted([(r.id, r.kind) for r in spark.read.format("delta").load(mirror).collect()])
    assert got == _sorted(streamed["rows"] + new_rows)
