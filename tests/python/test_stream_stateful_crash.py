"""Exactly-once for a streaming aggregation across SIGKILLs (issue 10).

A producer drops JSON files of events in event-time order into a folder while
`lakestream run` keeps a windowed count (append mode, watermark 2 s) into a
Delta table; the runner is killed with SIGKILL at random moments at least 20
times. After a final availableNow run, every window the final watermark has
closed must be in the table exactly once, with the count and the id sum a
batch computation over all produced events gives.
"""
import datetime as dt
import json
import os
import pathlib
import random
import signal
import subprocess
import threading
import time
from collections import defaultdict

import pytest

deltalake = pytest.importorskip("deltalake")

REPO = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get("LAKESTREAM_BIN", REPO / "build" / "lakestream"))
KILLS = int(os.environ.get("LAKESTREAM_STREAM_KILLS", "22"))
BLOCK = 40
BASE = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def binary():
    if not BINARY.exists():
        pytest.skip(f"{BINARY} not built")
    return str(BINARY)


class Producer(threading.Thread):
    """Block k holds events with event times in [k s, k+1 s) after BASE."""

    def __init__(self, folder):
        super().__init__(daemon=True)
        self.folder = folder
        self.events = []
        self.stop = threading.Event()

    def run(self):
        k = 0
        while not self.stop.is_set():
            lines = []
            for i in range(BLOCK):
                ts = BASE + dt.timedelta(seconds=k, milliseconds=i * 1000 // BLOCK)
                ev = {"id": k * BLOCK + i, "kind": "click" if i % 3 == 0 else "view",
                      "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}
                self.events.append((ts, ev["kind"], ev["id"]))
                lines.append(json.dumps(ev))
            tmp = self.folder / f".{k:06d}.tmp"
            tmp.write_text("\n".join(lines) + "\n")
            os.rename(tmp, self.folder / f"{k:06d}.json")
            k += 1
            time.sleep(random.uniform(0.005, 0.03))


def test_sigkill_windowed_aggregation_is_exactly_once(binary, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    out = tmp_path / "per_window"
    sessions = tmp_path / "sessions"
    sql = tmp_path / "pipeline.sql"
    sql.write_text(f"""
      CREATE STREAMING TABLE delta.`{out}` TBLPROPERTIES ('outputMode' = 'append') AS
      SELECT window.start AS window_start, window.end AS window_end, kind, count(*) AS n, sum(id) AS s
      FROM STREAM read_files('{folder}', format => 'json', schema => 'id BIGINT, kind STRING, ts TIMESTAMP',
                             maxFilesPerTrigger => 3)
           WATERMARK ts DELAY OF INTERVAL 2 SECONDS
      GROUP BY window(ts, '5 seconds'), kind;
      -- Sessions (gap 500 ms) per block residue: block k's 40 events are one
      -- session of key k % 3, separated from the key's next block by 2 s.
      CREATE STREAMING TABLE delta.`{sessions}` TBLPROPERTIES ('outputMode' = 'append') AS
      SELECT session_window.start AS session_start, session_window.end AS session_end, block % 3 AS k,
             count(*) AS n, sum(id) AS s
      FROM (SELECT id, ts, CAST(id / {BLOCK} AS BIGINT) AS block
            FROM STREAM read_files('{folder}', format => 'json', schema => 'id BIGINT, kind STRING, ts TIMESTAMP',
                                   maxFilesPerTrigger => 3)) WATERMARK ts DELAY OF INTERVAL 2 SECONDS
      GROUP BY session_window(ts, '500 milliseconds'), block % 3;
    """)
    cp = tmp_path / "cp"
    producer = Producer(folder)
    producer.start()
    rng = random.Random(11)

    def progress_lines():
        found = list(cp.glob("per_window-*/progress.jsonl"))
        return len(found[0].read_text().splitlines()) if found else 0

    try:
        for i in range(KILLS):
            before = progress_lines()
            proc = subprocess.Popen([binary, "run", str(sql), "--checkpoint", str(cp), "-q",
                                     "-c", "spark.sql.shuffle.partitions=4"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if i % 2 == 0:
                # Every other run is killed only after it committed a batch, so
                # kills land mid-stream even on a loaded machine (slow start-up);
                # the others die at any point, start-up included.
                deadline = time.monotonic() + 30
                while progress_lines() == before and time.monotonic() < deadline and proc.poll() is None:
                    time.sleep(0.01)
            time.sleep(rng.uniform(0.05, 0.6))
            if proc.poll() is not None:
                _, err = proc.communicate()
                pytest.fail(f"runner exited early ({proc.returncode}): {err.decode()[-2000:]}")
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    finally:
        producer.stop.set()
        producer.join()
    done = subprocess.run([binary, "run", str(sql), "--checkpoint", str(cp), "--trigger", "availableNow", "-q",
                           "-c", "spark.sql.shuffle.partitions=4"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    watermark = max(ts for ts, _, _ in producer.events) - dt.timedelta(seconds=2)
    expected = defaultdict(lambda: [0, 0])
    for ts, kind, ident in producer.events:
        start = BASE + dt.timedelta(seconds=((ts - BASE).total_seconds() // 5) * 5)
        if start + dt.timedelta(seconds=5) <= watermark:
            expected[(start, kind)][0] += 1
            expected[(start, kind)][1] += ident
    rows = deltalake.DeltaTable(str(out)).to_pyarrow_table().to_pylist()
    got = {}
    for r in rows:
        key = (r["window_start"], r["kind"])
        assert key not in got, f"window {key} emitted twice"
        got[key] = [r["n"], r["s"]]
    assert got == dict(expected)
    assert len(got) >= 10

    # Sessions: one per block, emitted once the final watermark passed its end.
    expected_sessions = {}
    for k in range(len(producer.events) // BLOCK):
        start = BASE + dt.timedelta(seconds=k)
        end = start + dt.timedelta(milliseconds=(BLOCK - 1) * 1000 // BLOCK + 500)
        if end <= watermark:
            ids = range(k * BLOCK, (k + 1) * BLOCK)
            expected_sessions[start] = (end, k % 3, BLOCK, sum(ids))
    got_sessions = {}
    for r in deltalake.DeltaTable(str(sessions)).to_pyarrow_table().to_pylist():
        assert r["session_start"] not in got_sessions, f"session {r['session_start']} emitted twice"
        got_sessions[r["session_start"]] = (r["session_end"], r["k"], r["n"], r["s"])
    assert got_sessions == expected_sessions
    assert len(got_sessions) >= 10
    # The kills landed mid-stream: many of the killed runs had committed batches.
    progress = [json.loads(l) for l in (next(cp.glob("per_window-*")) / "progress.jsonl").read_text().splitlines() if l]
    assert len({p["runId"] for p in progress}) >= KILLS // 2
    assert any(p["stateOperators"] and p["stateOperators"][0]["numRowsRemoved"] > 0 for p in progress)
