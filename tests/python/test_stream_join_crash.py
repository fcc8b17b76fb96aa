"""Exactly-once for a stream-stream join across SIGKILLs (issue 10).

A producer drops impression and click files (block k holds events of second
k; clicks name ads shown 0-15 s earlier) while `lakestream run` keeps a left
outer join (a click counts within 10 s of its impression; watermarks 2 s) into
a Delta table; the runner is killed with SIGKILL at random moments at least 20
times. After a final availableNow run, every matching pair must be in the
table exactly once, and every impression without a click that the final
watermark has expired exactly once with NULLs: what an uninterrupted run
gives (times only grow per side, so no row is ever late and the result does
not depend on where batches were cut).
"""
import collections
import datetime as dt
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
KILLS = int(os.environ.get("LAKESTREAM_STREAM_KILLS", "22"))
ADS_PER_BLOCK = 20
BASE = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def binary():
    if not BINARY.exists():
        pytest.skip(f"{BINARY} not built")
    return str(BINARY)


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Producer(threading.Thread):
    def __init__(self, imp_dir, clk_dir):
        super().__init__(daemon=True)
        self.imp_dir, self.clk_dir = imp_dir, clk_dir
        self.impressions = []  # (ad, time)
        self.clicks = []  # (ad, time, click id)
        self.stop = threading.Event()
        self.rng = random.Random(5)

    def write(self, folder, k, records):
        tmp = folder / f".{k:06d}.tmp"
        tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
        os.rename(tmp, folder / f"{k:06d}.json")

    def run(self):
        k = 0
        while not self.stop.is_set():
            t = BASE + dt.timedelta(seconds=k)
            imps = []
            for i in range(ADS_PER_BLOCK):
                ad = k * ADS_PER_BLOCK + i
                self.impressions.append((ad, t))
                imps.append({"ad": ad, "imp_time": iso(t)})
            clicks = []
            for j in range(ADS_PER_BLOCK // 2):
                back = self.rng.randint(0, min(k, 15))
                ad = (k - back) * ADS_PER_BLOCK + self.rng.randrange(ADS_PER_BLOCK)
                cid = len(self.clicks)
                self.clicks.append((ad, t, cid))
                clicks.append({"cad": ad, "click_time": iso(t), "cid": cid})
            self.write(self.imp_dir, k, imps)
            self.write(self.clk_dir, k, clicks)
            k += 1
            time.sleep(self.rng.uniform(0.005, 0.03))


def test_sigkill_stream_stream_join_is_exactly_once(binary, tmp_path):
    imp_dir, clk_dir = tmp_path / "imp", tmp_path / "clk"
    imp_dir.mkdir()
    clk_dir.mkdir()
    out = tmp_path / "joined"
    sql = tmp_path / "pipeline.sql"
    sql.write_text(f"""
      CREATE STREAMING TABLE delta.`{out}` AS
      SELECT i.ad, i.imp_time, c.cid, c.click_time
      FROM STREAM read_files('{imp_dir}', format => 'json', schema => 'ad BIGINT, imp_time TIMESTAMP',
                             maxFilesPerTrigger => 3) WATERMARK imp_time DELAY OF INTERVAL 2 SECONDS AS i
      LEFT JOIN STREAM read_files('{clk_dir}', format => 'json',
                                  schema => 'cad BIGINT, click_time TIMESTAMP, cid BIGINT',
                                  maxFilesPerTrigger => 3) WATERMARK click_time DELAY OF INTERVAL 2 SECONDS AS c
      ON i.ad = c.cad AND c.click_time BETWEEN i.imp_time AND i.imp_time + INTERVAL 10 SECONDS;
    """)
    cp = tmp_path / "cp"

    def progress_lines():
        found = list(cp.glob("joined-*/progress.jsonl"))
        return len(found[0].read_text().splitlines()) if found else 0

    producer = Producer(imp_dir, clk_dir)
    producer.start()
    rng = random.Random(23)
    try:
        for i in range(KILLS):
            before = progress_lines()
            proc = subprocess.Popen([binary, "run", str(sql), "--checkpoint", str(cp), "-q"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if i % 2 == 0:  # every other run dies only after it committed a batch
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
    done = subprocess.run([binary, "run", str(sql), "--checkpoint", str(cp), "--trigger", "availableNow", "-q"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    delay = dt.timedelta(seconds=2)
    watermark = min(max(t for _, t in producer.impressions), max(t for _, t, _ in producer.clicks)) - delay
    clicks_by_ad = collections.defaultdict(list)
    for ad, t, cid in producer.clicks:
        clicks_by_ad[ad].append((t, cid))
    expected = collections.Counter()
    for ad, t in producer.impressions:
        matched = [cid for ct, cid in clicks_by_ad[ad] if t <= ct <= t + dt.timedelta(seconds=10)]
        for cid in matched:
            expected[(ad, cid)] += 1
        if not matched and t + dt.timedelta(seconds=10) <= watermark:
            expected[(ad, None)] += 1
    rows = deltalake.DeltaTable(str(out)).to_pyarrow_table().to_pylist()
    got = collections.Counter((r["ad"], r["cid"]) for r in rows)
    duplicates = {k: n for k, n in got.items() if n > 1}
    assert not duplicates, f"emitted more than once: {list(duplicates.items())[:10]}"
    missing = expected - got
    extra = got - expected
    assert not missing and not extra, f"missing {list(missing)[:10]}, unexpected {list(extra)[:10]}"
    assert sum(1 for k in got if k[1] is None) > 0, "no unmatched impression was emitted: scenario too short"
    progress = [json.loads(line) for line in
                (next(cp.glob("joined-*")) / "progress.jsonl").read_text().splitlines() if line]
    assert len({p["runId"] for p in progress}) >= KILLS // 2
    assert any(p["stateOperators"] and p["stateOperators"][0]["numRowsRemoved"] > 0 for p in progress)
