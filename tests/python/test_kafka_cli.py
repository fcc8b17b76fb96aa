"""`lakestream broker` and `lakestream generate` against librdkafka's mock
cluster and a real Apache Kafka 4.x broker: the broker's stdout contract and
clean exit, the generator's record count, event shape, malformed share,
determinism and rate."""
import datetime
import json
import re
import signal
import socket
import subprocess
import time
import uuid

import pytest

from kafka_fixtures import (lakestream_bin, mock_broker, read_topic, real_kafka,  # noqa: F401
                            start_broker, topic_record_count)

FIELDS = {"event_id", "event_time", "user_id", "session_id", "event_type", "page", "product_id", "price",
          "country", "device", "referrer"}
EVENT_TYPES = {"page_view", "click", "add_to_cart", "purchase", "search"}
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_event(value):
    """The event as a dict, or None if the record is malformed: not JSON, not an
    object, other fields, or event_id/event_time of the wrong type."""
    try:
        event = json.loads(value)
    except ValueError:  # also UnicodeDecodeError
        return None
    if not isinstance(event, dict) or set(event) != FIELDS:
        return None
    if type(event["event_id"]) is not int or not isinstance(event["event_time"], str):
        return None
    return event


def event_time(event):
    assert ISO_MS.match(event["event_time"]), event
    return datetime.datetime.strptime(event["event_time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)


def generate(binary, bootstrap, topic, *args, timeout=120):
    proc = subprocess.run([binary, "generate", "--bootstrap-servers", bootstrap, "--topic", topic, *args],
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"generate exited {proc.returncode}: {proc.stderr}"
    return proc


# ---------------------------------------------------------------- broker

def test_broker_prints_bootstrap_first_and_exits_cleanly(lakestream_bin):
    from confluent_kafka.admin import AdminClient

    port = free_port()
    broker = start_broker(lakestream_bin, "--port", str(port), "--topic", "pre", "--partitions", "3")
    try:
        assert broker.bootstrap == f"127.0.0.1:{port}"
        md = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10)
        assert len(md.topics["pre"].partitions) == 3
        assert [(b.host, b.port) for b in md.brokers.values()] == [("127.0.0.1", port)]
    finally:
        code, rest, err = broker.stop()
    assert code == 0, f"exit {code} on SIGTERM; stderr: {err}"
    assert rest == "", f"broker printed more than its bootstrap line on stdout: {rest!r}"


def test_broker_several_brokers_and_sigint(lakestream_bin):
    from confluent_kafka.admin import AdminClient

    broker = start_broker(lakestream_bin, "--brokers", "3")
    try:
        assert len(broker.bootstrap.split(",")) == 3
        md = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10)
        assert sorted(md.brokers) == [1, 2, 3]
    finally:
        broker.proc.send_signal(signal.SIGINT)
        code, _, err = broker.stop()
    assert code == 0, f"exit {code} on SIGINT; stderr: {err}"


def test_broker_port_in_use_is_an_error(lakestream_bin):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = subprocess.run([lakestream_bin, "broker", "--port", str(port)], capture_output=True, text=True,
                              timeout=30)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert f"127.0.0.1:{port}" in proc.stderr and "in use" in proc.stderr


# -------------------------------------------------------------- generate

@pytest.fixture(params=["mock", "real"])
def any_broker(request):
    return request.getfixturevalue("mock_broker" if request.param == "mock" else "real_kafka")


def test_generate_count_into_broker(lakestream_bin, any_broker):
    topic = f"clicks-{uuid.uuid4().hex[:8]}"
    before = datetime.datetime.now(datetime.timezone.utc)
    generate(lakestream_bin, any_broker, topic, "--count", "10000", "--rate", "20000", "--seed", "7")
    after = datetime.datetime.now(datetime.timezone.utc)

    assert topic_record_count(any_broker, topic) == 10000
    records = read_topic(any_broker, topic, 10000)
    assert len(records) == 10000

    events = [(key, parse_event(value)) for key, value in records]
    good = [(key, e) for key, e in events if e is not None]
    malformed = len(records) - len(good)
    assert 50 <= malformed <= 160, f"{malformed} malformed of 10000, expected about 1%"

    ids = [e["event_id"] for _, e in good]
    assert len(set(ids)) == len(ids), "duplicate event_id"
    assert all(1 <= i <= 10000 for i in ids)
    late = 0
    for key, e in good:
        t = event_time(e)
        assert before - datetime.timedelta(seconds=6) <= t <= after + datetime.timedelta(seconds=1), e
        late += t < before
        assert e["event_type"] in EVENT_TYPES, e
        assert key == str(e["user_id"]).encode(), (key, e)
        assert e["session_id"].startswith(f"s-{e['user_id']}-"), e
        assert isinstance(e["country"], str) and isinstance(e["device"], str) and isinstance(e["referrer"], str)
        if e["event_type"] in ("add_to_cart", "purchase"):
            assert isinstance(e["price"], float) and 1.0 <= e["price"] < 500.0, e
            assert isinstance(e["product_id"], int), e
        else:
            assert e["price"] is None, e
        if e["product_id"] is not None and e["event_type"] != "purchase":
            assert e["page"] == f"/products/{e['product_id']}", e
    assert 50 <= late <= 1000, f"{late} events older than the run, expected ~3% up to 5 s late"
    types = {t: sum(e["event_type"] == t for _, e in good) for t in EVENT_TYPES}
    assert types["page_view"] > types["click"] > types["purchase"] > 0, types


def test_generate_is_deterministic_given_seed(lakestream_bin, mock_broker):
    def run(topic, seed):
        generate(lakestream_bin, mock_broker, topic, "--count", "3000", "--rate", "0", "--seed", str(seed), "-q")
        records = read_topic(mock_broker, topic, 3000)
        good = {}
        for key, value in records:
            e = parse_event(value)
            if e is not None:
                del e["event_time"]  # the only field that depends on the clock
                good[e["event_id"]] = (key, e)
        return good, len(records) - len(good)

    first, first_bad = run("det-a", 11)
    second, second_bad = run("det-b", 11)
    other, _ = run("det-c", 12)
    assert first == second and first_bad == second_bad
    assert first != other


def test_generate_rate_is_roughly_respected(lakestream_bin, mock_broker):
    topic = "rate"
    proc = subprocess.Popen([lakestream_bin, "generate", "--bootstrap-servers", mock_broker, "--topic", topic,
                             "--rate", "5000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "sent=" in err and "rate=" in err, f"no progress line on stderr: {err!r}"
    n = topic_record_count(mock_broker, topic)
    assert 8000 <= n <= 12000, f"{n} records in ~2 s at --rate 5000"


def test_generate_without_topic_is_a_usage_error(lakestream_bin):
    proc = subprocess.run([lakestream_bin, "generate", "--bootstrap-servers", "127.0.0.1:1"], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode != 0
    assert "--topic" in proc.stderr


def test_generate_fails_when_records_cannot_be_delivered(lakestream_bin):
    port = free_port()  # nobody listens there
    proc = subprocess.run([lakestream_bin, "generate", "--bootstrap-servers", f"127.0.0.1:{port}", "--topic", "t",
                           "--count", "100", "-X", "message.timeout.ms=1500", "-q"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "delivered 0 of 100 records to topic 't'" in proc.stderr, proc.stderr
