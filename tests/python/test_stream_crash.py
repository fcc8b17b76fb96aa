"""Exactly-once across SIGKILLs for the streaming runtime (issue 9).

A producer keeps dropping JSON files (each with a block of unique ids, some
records malformed) into a watched folder while `lakestream run` streams them
through a two-table pipeline (files -> bronze Delta table -> silver Delta
table, the second reading the first as a stream). The runner is killed with
SIGKILL at random moments (reading, writing Parquet, committing the Delta log,
writing the commit log) at least 20 times and restarted each time. At the end
an availableNow run drains what is left, and delta-rs checks that both tables
hold every produced record exactly once (count and a checksum of ids).

The binary comes from LAKESTREAM_BIN (default <repo>/build/lakestream).
"""
import json
import os
import pathlib
import random
import signal
import subprocess
import threading
import time

import pytest

deltalake = pytest.importorskip("deltalake")

REPO = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get("LAKESTREAM_BIN", REPO / "build" / "lakestream"))
KILLS = int(os.environ.get("LAKESTREAM_STREAM_KILLS", "24"))
BLOCK = 50


@pytest.fixture(scope="module")
def binary():
    if not BINARY.exists():
        pytest.skip(f"{BINARY} not built")
    return str(BINARY)


class Producer(threading.Thread):
    """Writes one file per few milliseconds, atomically (temp + rename)."""

    def __init__(self, folder):
        super().__init__(daemon=True)
        self.folder = folder
        self.blocks = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            k = self.blocks
            lines = [json.dumps({"id": k * BLOCK + i, "kind": "click" if i % 3 == 0 else "view"})
                     for i in range(BLOCK)]
            lines.insert(7, '{"id": "not a number", "kind": ')  # malformed, never an id
            tmp = self.folder / f".{k:06d}.json.tmp"
            tmp.write_text("\n".join(lines) + "\n")
            os.rename(tmp, self.folder / f"{k:06d}.json")
            self.blocks += 1
            time.sleep(random.uniform(0.002, 0.02))


def pipeline(tmp, folder):
    sql = tmp / "pipeline.sql"
    sql.write_text(f"""
      CREATE STREAMING TABLE delta.`{tmp}/bronze` AS
        SELECT id, kind FROM STREAM read_files('{folder}', format => 'json', schema => 'id BIGINT, kind STRING',
                                               maxFilesPerTrigger => 3, mode => 'DROPMALFORMED');
      CREATE STREAMING TABLE delta.`{tmp}/silver` TBLPROPERTIES ('delta.checkpointInterval' = '5') AS
        SELECT id, upper(kind) AS kind FROM STREAM delta.`{tmp}/bronze`;
    """)
    return sql


def check_table(path, blocks):
    dt = deltalake.DeltaTable(str(path))
    ids = dt.to_pyarrow_table(columns=["id"]).column("id").to_pylist()
    expected = blocks * BLOCK
    assert len(ids) == expected, f"{path}: {len(ids)} rows, expected {expected}"
    assert len(set(ids)) == expected, f"{path}: duplicates"
    assert sum(ids) == expected * (expected - 1) // 2, f"{path}: checksum of ids differs"


def test_sigkill_mid_stream_is_exactly_once(binary, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    sql = pipeline(tmp_path, folder)
    cp = tmp_path / "cp"
    producer = Producer(folder)
    producer.start()
    rng = random.Random(7)
    killed = 0
    try:
        while killed < KILLS:
            proc = subprocess.Popen([binary, "run", str(sql), "--checkpoint", str(cp), "-q"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(rng.uniform(0.05, 0.6))
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(f"runner exited early ({proc.returncode}): {err.decode()[-2000:]}")
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed += 1
    finally:
        producer.stop.set()
        producer.join()
    # Drain: everything produced, then stop.
    done = subprocess.run([binary, "run", str(sql), "--checkpoint", str(cp), "--trigger", "availableNow", "-q"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert killed >= 20
    check_table(tmp_path / "bronze", producer.blocks)
    check_table(tmp_path / "silver", producer.blocks)
    # Progress records survived the kills and name Spark's fields.
    progress = [json.loads(l) for l in (next(cp.glob("bronze-*")) / "progress.jsonl").read_text().splitlines() if l]
    assert progress and {"batchId", "numInputRows", "durationMs", "sources", "sink"} <= set(progress[-1])


def test_sigterm_stops_gracefully(binary, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.json").write_text("\n".join(json.dumps({"id": i, "kind": "view"}) for i in range(100)) + "\n")
    sql = pipeline(tmp_path, folder)
    proc = subprocess.Popen([binary, "run", str(sql), "--checkpoint", str(tmp_path / "cp")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if len(deltalake.DeltaTable(str(tmp_path / "silver")).to_pyarrow_table()) == 100:
                break
        except Exception:
            pass
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    check_table(tmp_path / "silver", 2)


def test_bad_pipeline_is_a_clear_error(binary, tmp_path):
    sql = tmp_path / "bad.sql"
    sql.write_text("CREATE STREAMING TABLE delta.`/tmp/x` AS SELECT kind, count(*) FROM STREAM "
                   f"read_files('{tmp_path}', format => 'json', schema => 'kind STRING') GROUP BY kind;")
    r = subprocess.run([binary, "run", str(sql), "--checkpoint", str(tmp_path / "cp")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "aggregation" in r.stderr

def _latest(folder):
    names = [int(p.name) for p in folder.iterdir() if p.name.isdigit()] if folder.exists() else []
    return max(names, default=-1)


def _txn_versions(table):
    versions = set()
    for f in (table / "_delta_log").glob("*.json"):
        for line in f.read_text().splitlines():
            if '"txn"' in line:
                versions.add(json.loads(line)["txn"]["version"])
    return versions


def test_sigkill_while_a_pipelined_tail_is_in_flight_is_exactly_once(binary, tmp_path):
    # A stateless query runs batch N's tail (offsets/N, the Delta commit,
    # commits/N) on its own thread while batch N+1 is read. Kill until kills
    # have landed inside that tail (offsets/N written, commits/N not) a few
    # times, then check that nothing was lost or duplicated.
    folder = tmp_path / "in"
    folder.mkdir()
    sql = tmp_path / "pipeline.sql"
    sql.write_text(f"""
      CREATE STREAMING TABLE delta.`{tmp_path}/bronze` AS
        SELECT id, kind FROM STREAM read_files('{folder}', format => 'json', schema => 'id BIGINT, kind STRING',
                                               maxFilesPerTrigger => 2, mode => 'DROPMALFORMED');
    """)
    cp = tmp_path / "cp"
    producer = Producer(folder)
    producer.start()
    rng = random.Random(11)
    killed = in_tail = committed_not_logged = 0
    try:
        while killed < 80 and (killed < 12 or in_tail < 3):
            # Every batch pipelined, however small (by default only large ones are).
            proc = subprocess.Popen([binary, "run", str(sql), "--checkpoint", str(cp), "-q",
                                     "-c", "lakestream.streaming.pipelineMinRows=1"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(rng.uniform(0.2, 0.8))
            if proc.poll() is not None:
                _, err = proc.communicate()
                pytest.fail(f"runner exited early ({proc.returncode}): {err.decode()[-2000:]}")
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed += 1
            qdir = next(cp.glob("bronze-*"), None)
            if qdir is None:
                continue
            offsets, commits = _latest(qdir / "offsets"), _latest(qdir / "commits")
            assert offsets - commits <= 1, "more than one batch planned and not committed"
            if offsets > commits:
                in_tail += 1
                committed_not_logged += offsets in _txn_versions(tmp_path / "bronze")
    finally:
        producer.stop.set()
        producer.join()
    assert in_tail >= 3, f"only {in_tail} of {killed} kills landed inside a batch"
    done = subprocess.run([binary, "run", str(sql), "--checkpoint", str(cp), "--trigger", "availableNow", "-q"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    check_table(tmp_path / "bronze", producer.blocks)
    progress = [json.loads(l) for l in (next(cp.glob("bronze-*")) / "progress.jsonl").read_text().splitlines() if l]
    assert any(p.get("pipelined") for p in progress), "the query did not run pipelined"
    print(f"{killed} kills, {in_tail} inside a batch's tail, {committed_not_logged} after its Delta commit")
