"""State stays bounded at scale (issue 10, Tests): millions of distinct keys
under a moving watermark keep the state's rows and memory flat once the
watermark passes them.

The input is Parquet files of distinct ids with an event time that advances
one second per file (a few ids in every file are sent twice). `lakestream run`
reads them with availableNow, one file per batch, through
  - a windowed count: GROUP BY window(ts, '1 second'), id  (append mode), and
  - dropDuplicates on id,
both with WATERMARK ts DELAY OF INTERVAL 1 SECOND, into Delta tables. From
progress.jsonl and the process's resident memory we check that:
  - numRowsTotal never exceeds a few files' worth of keys, and is as large in
    the last batches as in the first ones (the state is used, and evicted);
  - memoryUsedBytes and the process RSS in the last half of the batches stay
    within the first half's (with slack): they do not grow with the keys seen;
  - the output is exact: every key the final watermark passed is emitted once,
    with its count, and every key is removed from the state exactly once.

Knobs: LAKESTREAM_STATE_KEYS (distinct keys, default 1M in CI; the issue's 10M
with `make test-long`), LAKESTREAM_STATE_BATCHES
(files = data batches, default 40).
"""
from __future__ import annotations

import datetime as dt
import glob
import json
import os
import pathlib
import subprocess
import threading
import time

import pytest

np = pytest.importorskip("numpy")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
deltalake = pytest.importorskip("deltalake")

REPO = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get("LAKESTREAM_BIN", REPO / "build" / "lakestream"))
KEYS = int(os.environ.get("LAKESTREAM_STATE_KEYS", "1000000"))
BATCHES = int(os.environ.get("LAKESTREAM_STATE_BATCHES", "40"))
DUP_EVERY = 97  # ids divisible by this are sent twice (same event time)
BASE_US = int(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).timestamp()) * 1_000_000
MIB = 1 << 20


@pytest.fixture(scope="module")
def binary():
    if not BINARY.exists():
        pytest.skip(f"{BINARY} not built")
    return str(BINARY)


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    """Writes the input files; returns (folder, ids, ts_us) of the distinct events.

    File f holds ids [f*R, (f+1)*R) shuffled, with event times spread over
    second f after BASE, plus a second copy of the ids divisible by DUP_EVERY.
    Modification times increase with f, so the files source takes them in order.
    """
    folder = tmp_path_factory.mktemp("state_bounded") / "in"
    folder.mkdir()
    per_file = KEYS // BATCHES
    assert per_file > 0, "LAKESTREAM_STATE_KEYS must be >= LAKESTREAM_STATE_BATCHES"
    rng = np.random.default_rng(7)
    all_ids, all_ts = [], []
    for f in range(BATCHES):
        ids = np.arange(f * per_file, (f + 1) * per_file, dtype=np.int64)
        ts = BASE_US + f * 1_000_000 + (ids - f * per_file) * 1_000_000 // per_file
        all_ids.append(ids)
        all_ts.append(ts)
        dup = ids % DUP_EVERY == 0
        rows_id = np.concatenate([ids, ids[dup]])
        rows_ts = np.concatenate([ts, ts[dup]])
        order = rng.permutation(rows_id.size)  # out of order within the second
        table = pa.table({"id": rows_id[order],
                          "ts": pa.array(rows_ts[order], pa.timestamp("us", tz="UTC"))})
        path = folder / f"part-{f:05d}.parquet"
        pq.write_table(table, path, row_group_size=1 << 20)
        os.utime(path, ns=(1_700_000_000_000_000_000 + f * 10**9,) * 2)
    return folder, np.concatenate(all_ids), np.concatenate(all_ts)


class RssSampler(threading.Thread):
    """Samples a process's VmRSS (bytes) every 50 ms as (wall time, rss)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, int]] = []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                with open(f"/proc/{self.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            self.samples.append((time.time(), int(line.split()[1]) * 1024))
                            break
            except OSError:
                return
            self.done.wait(0.05)


def run_pipeline(binary: str, tmp_path: pathlib.Path, select: str, name: str):
    """Runs one CREATE STREAMING TABLE with availableNow; returns (progress records, RSS sampler)."""
    sql = tmp_path / f"{name}.sql"
    sql.write_text(select + ";\n")
    cp = tmp_path / f"cp_{name}"
    t0 = time.time()
    proc = subprocess.Popen([binary, "run", str(sql), "--checkpoint", str(cp), "--trigger", "availableNow",
                             "-q", "-c", "lakestream.threads=2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rss = RssSampler(proc.pid)
    rss.start()
    try:
        # Generous (a loaded 2-core machine runs 10M keys in ~1 h): this only catches a hang.
        _, err = proc.communicate(timeout=max(900, 450 * KEYS // 1_000_000))
    finally:
        rss.done.set()
        rss.join()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, f"lakestream run exited {proc.returncode}:\n{err[-3000:]}"
    files = glob.glob(str(cp / "*" / "progress.jsonl"))
    assert len(files) == 1, f"expected one query checkpoint under {cp}, found {files}"
    progress = [json.loads(line) for line in pathlib.Path(files[0]).read_text().splitlines() if line]
    print(f"{name}: {KEYS} keys, {len(progress)} batches, {time.time() - t0:.1f} s, "
          f"peak RSS {max(r for _, r in rss.samples) / MIB:.0f} MiB")
    return progress, rss


def progress_time(p: dict) -> float:
    return dt.datetime.fromisoformat(p["timestamp"].replace("Z", "+00:00")).timestamp()


def rss_by_half(progress: list[dict], rss: RssSampler, warmup: int):
    """Peak RSS while the first half of the data batches (after `warmup`) ran,
    and while the second half ran."""
    data = [p for p in progress if p["numInputRows"] > 0]
    steady = data[warmup:]
    mid = progress_time(steady[len(steady) // 2])
    start, end = progress_time(steady[0]), progress_time(data[-1]) + data[-1]["batchDuration"] / 1000
    early = [r for t, r in rss.samples if start <= t < mid]
    late = [r for t, r in rss.samples if mid <= t <= end]
    assert early and late, "too few RSS samples: the run was too short to compare halves"
    return max(early), max(late)


def final_watermark_us(ts: "np.ndarray") -> int:
    return int(ts.max()) - 1_000_000


def test_windowed_count_state_is_bounded(binary, events, tmp_path):
    folder, ids, ts = events
    per_file = KEYS // BATCHES
    out = tmp_path / "per_second"
    progress, rss = run_pipeline(binary, tmp_path, f"""
      CREATE STREAMING TABLE delta.`{out}` TBLPROPERTIES ('outputMode' = 'append') AS
      SELECT window.start AS wstart, id, count(*) AS n
      FROM STREAM read_files('{folder}', format => 'parquet', maxFilesPerTrigger => 1)
           WATERMARK ts DELAY OF INTERVAL 1 SECOND
      GROUP BY window(ts, '1 second'), id""", "agg")

    data = [p for p in progress if p["numInputRows"] > 0]
    assert len(data) == BATCHES
    ops = [p["stateOperators"][0] for p in progress]
    total = [o["numRowsTotal"] for o in ops]
    # Bounded: the open windows (this second, the one the watermark has not
    # passed yet, the one it passes next batch: 3 files of keys), never the
    # keys seen so far; and no larger late in the run than early on.
    assert max(total) <= 4 * per_file, f"state grew past 4 files of keys: {total}"
    rows = [o["numRowsTotal"] for p, o in zip(progress, ops) if p["numInputRows"] > 0]
    early, late = rows[3:BATCHES // 2], rows[BATCHES // 2:]
    assert min(late) >= per_file, f"state is not holding the open windows: {late}"
    assert max(late) <= max(early), f"state grows with the keys seen: {rows}"

    # Memory: what RocksDB reports, and the whole process, flat over the run.
    warmup = 3
    mem = [o["memoryUsedBytes"] for p, o in zip(progress, ops) if p["numInputRows"] > 0][warmup:]
    half = len(mem) // 2
    assert max(mem[half:]) <= 1.5 * max(mem[:half]) + 16 * MIB, f"memoryUsedBytes grows: {mem}"
    early_rss, late_rss = rss_by_half(progress, rss, warmup)
    assert late_rss <= 1.25 * early_rss + 64 * MIB, \
        f"RSS grows: peak {early_rss / MIB:.0f} MiB in the first half, {late_rss / MIB:.0f} MiB in the second"

    # Exact output: every (second, id) the final watermark passed, once, with its count.
    watermark = final_watermark_us(ts)
    closed = (ts // 1_000_000 + 1) * 1_000_000 <= watermark
    table = deltalake.DeltaTable(str(out)).to_pyarrow_table(columns=["wstart", "id", "n"])
    got_ids = table.column("id").to_numpy()
    order = np.argsort(got_ids)
    got_ids = got_ids[order]
    assert got_ids.size == int(closed.sum()), "emitted rows differ from the closed (window, id) groups"
    np.testing.assert_array_equal(got_ids, ids[closed])  # ids are generated ascending
    got_start = table.column("wstart").cast(pa.int64()).to_numpy()[order]
    np.testing.assert_array_equal(got_start, (ts[closed] // 1_000_000) * 1_000_000)
    got_n = table.column("n").to_numpy()[order]
    np.testing.assert_array_equal(got_n, np.where(got_ids % DUP_EVERY == 0, 2, 1))
    # Every emitted key left the state, and nothing was dropped as late.
    assert sum(o["numRowsRemoved"] for o in ops) == got_ids.size
    assert sum(o["numRowsDroppedByWatermark"] for o in ops) == 0
    assert total[-1] == ids.size - got_ids.size  # what the final watermark has not passed


def test_drop_duplicates_state_is_bounded(binary, events, tmp_path):
    folder, ids, ts = events
    per_file = KEYS // BATCHES
    out = tmp_path / "distinct"
    progress, rss = run_pipeline(binary, tmp_path, f"""
      CREATE STREAMING TABLE delta.`{out}` AS
      SELECT id, ts
      FROM STREAM read_files('{folder}', format => 'parquet', maxFilesPerTrigger => 1, dropDuplicates => 'id')
           WATERMARK ts DELAY OF INTERVAL 1 SECOND""", "dedup")

    data = [p for p in progress if p["numInputRows"] > 0]
    assert len(data) == BATCHES
    ops = [next(o for o in p["stateOperators"] if o["operatorName"] == "dedupe") for p in progress]
    total = [o["numRowsTotal"] for o in ops]
    assert max(total) <= 4 * per_file, f"dedup state grew past 4 files of keys: {total}"
    rows = [o["numRowsTotal"] for p, o in zip(progress, ops) if p["numInputRows"] > 0]
    early, late = rows[3:BATCHES // 2], rows[BATCHES // 2:]
    assert min(late) >= per_file, f"dedup state is not holding the recent keys: {late}"
    assert max(late) <= max(early), f"dedup state grows with the keys seen: {rows}"
    # The dedup operator reports no memoryUsedBytes: the process RSS stands for it.
    early_rss, late_rss = rss_by_half(progress, rss, 3)
    assert late_rss <= 1.25 * early_rss + 64 * MIB, \
        f"RSS grows: peak {early_rss / MIB:.0f} MiB in the first half, {late_rss / MIB:.0f} MiB in the second"

    table = deltalake.DeltaTable(str(out)).to_pyarrow_table(columns=["id"])
    got = np.sort(table.column("id").to_numpy())
    np.testing.assert_array_equal(got, ids)  # each id once
    assert sum(o["numDroppedDuplicateRows"] for o in ops) == int((ids % DUP_EVERY == 0).sum())
    # Keys leave the state once the watermark passes their event time.
    assert sum(o["numRowsRemoved"] for o in ops) + total[-1] == ids.size
    assert total[-1] <= 2 * per_file
