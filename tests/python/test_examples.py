"""The example pipelines of examples/ run against the embedded broker (issue 10).

A producer fills a topic with clickstream events over 30 minutes of event
time (a few malformed) and each example runs to completion with availableNow. The outputs must be what the SQL promises: sessions per user
that do not overlap and are separated by more than the gap; attributed views
whose click is on the same page in the same session within 10 minutes, every
view at most once without a click and never both with and without one.
"""
import collections
import datetime as dt
import json
import pathlib
import random
import subprocess

import pytest

from kafka_fixtures import lakestream_bin, mock_broker  # noqa: F401  (fixtures)

pytest.importorskip("confluent_kafka")

deltalake = pytest.importorskip("deltalake")

REPO = pathlib.Path(__file__).resolve().parents[2]
EVENTS = 20000


@pytest.fixture
def clickstream(mock_broker):  # noqa: F811
    """Clickstream-shaped events spread over 30 minutes of event time (the
    generator stamps wall-clock time, which would close no session here),
    slightly out of order, with a few malformed records."""
    from confluent_kafka import Producer
    rng = random.Random(3)
    producer = Producer({"bootstrap.servers": mock_broker, "linger.ms": 5})
    base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    pages = [f"/p/{i}" for i in range(8)]
    for n in range(EVENTS):
        t = base + dt.timedelta(seconds=n * 1800 / EVENTS + rng.uniform(-2, 2))
        user = rng.randrange(100)
        if n % 500 == 0:
            producer.produce("clickstream", value=b'{"event_id": oops')
            continue
        event = {"event_id": n, "event_time": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "user_id": user,
                 "session_id": f"s-{user}", "event_type": rng.choice(["page_view"] * 3 + ["click", "purchase"]),
                 "page": rng.choice(pages), "price": round(rng.uniform(1, 100), 2)}
        producer.produce("clickstream", key=str(user).encode(), value=json.dumps(event).encode())
        if n % 1000 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0
    return mock_broker


def run_example(binary, name, bootstrap, tmp_path):
    out = tmp_path / "lake"
    proc = subprocess.run([binary, "run", str(REPO / "examples" / name), "--checkpoint", str(tmp_path / "cp"),
                           "--trigger", "availableNow", "-q", "--var", f"BOOTSTRAP={bootstrap}",
                           "--var", "TOPIC=clickstream", "--var", f"OUT={out}"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_sessions_example(lakestream_bin, clickstream, tmp_path):  # noqa: F811
    out = run_example(lakestream_bin, "sessions.sql", clickstream, tmp_path)
    rows = deltalake.DeltaTable(str(out / "user_sessions")).to_pyarrow_table().to_pylist()
    assert len(rows) > 10
    gap = dt.timedelta(seconds=30)
    by_user = collections.defaultdict(list)
    for r in rows:
        assert r["events"] >= 1 and r["pages"] >= 1
        assert r["session_end"] - r["session_start"] >= gap
        by_user[r["user_id"]].append((r["session_start"], r["session_end"]))
    for user, sessions in by_user.items():
        sessions.sort()
        for (s0, e0), (s1, _) in zip(sessions, sessions[1:]):
            # Merged sessions never overlap or touch: an event within the gap joins them.
            assert s1 > e0, f"user {user}: sessions {s0}-{e0} and from {s1} should have merged"
    assert sum(r["events"] for r in rows) <= EVENTS


def test_ad_attribution_example(lakestream_bin, clickstream, tmp_path):  # noqa: F811
    out = run_example(lakestream_bin, "ad_attribution.sql", clickstream, tmp_path)
    rows = deltalake.DeltaTable(str(out / "attributed_views")).to_pyarrow_table().to_pylist()
    assert len(rows) > 10
    with_click = [r for r in rows if r["click_id"] is not None]
    without = [r for r in rows if r["click_id"] is None]
    assert with_click and without
    for r in with_click:
        assert r["view_time"] <= r["click_time"] <= r["view_time"] + dt.timedelta(minutes=10)
    pairs = collections.Counter((r["view_id"], r["click_id"]) for r in rows)
    assert max(pairs.values()) == 1, "a pair was emitted twice"
    clicked = {r["view_id"] for r in with_click}
    assert not clicked & {r["view_id"] for r in without}, "a view came out both with and without a click"
