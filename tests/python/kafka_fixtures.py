"""Kafka brokers for the pytest suites.

- ``mock_broker``: a fresh ``lakestream broker`` (librdkafka's mock cluster) per
  test; yields its bootstrap servers and stops it with SIGTERM afterwards.
- ``real_kafka``: one Apache Kafka 4.x broker (KRaft) per session, started by
  scripts/kafka.sh in a temporary folder; skipped only when Java or the Kafka
  jars are unavailable.
- ``lakestream_bin``: the binary under test, from LAKESTREAM_BIN (default
  <repo>/build/lakestream).

Also helpers shared by tests that talk to a broker: ``start_broker`` and
``read_topic``.
"""
import os
import pathlib
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
KAFKA_SH = REPO / "scripts" / "kafka.sh"
BOOTSTRAP_LINE = re.compile(r"^bootstrap\.servers=(127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+)*)$")


def binary_path():
    return pathlib.Path(os.environ.get("LAKESTREAM_BIN", REPO / "build" / "lakestream"))


@pytest.fixture(scope="session")
def lakestream_bin():
    path = binary_path()
    if not path.exists():
        pytest.fail(f"{path} does not exist: build it first (or set LAKESTREAM_BIN)")
    return str(path)


class Broker:
    """A running `lakestream broker` process; ``bootstrap`` is its first stdout line's value."""

    def __init__(self, proc, bootstrap, first_line, stderr_file):
        self.proc = proc
        self.bootstrap = bootstrap
        self.first_line = first_line
        self.stderr_file = stderr_file

    def stop(self, timeout=15):
        """SIGTERM, wait; returns (exit code, rest of stdout, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rest, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rest, _ = self.proc.communicate()
        self.stderr_file.seek(0)
        err = self.stderr_file.read()
        self.stderr_file.close()
        return self.proc.returncode, rest, err


def start_broker(binary, *args, timeout=15):
    """Starts `lakestream broker ARGS` and waits for its bootstrap line."""
    stderr_file = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([binary, "broker", *args], stdout=subprocess.PIPE, stderr=stderr_file, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    m = BOOTSTRAP_LINE.match(line.strip())
    if not m:
        proc.kill()
        proc.wait()
        stderr_file.seek(0)
        raise AssertionError(f"`lakestream broker {' '.join(args)}` printed {line!r} as its first line "
                             f"(exit {proc.returncode}); stderr: {stderr_file.read()}")
    return Broker(proc, m.group(1), line, stderr_file)


@pytest.fixture
def mock_broker(lakestream_bin):
    broker = start_broker(lakestream_bin)
    try:
        yield broker.bootstrap
    finally:
        code, _, err = broker.stop()
        assert code == 0, f"lakestream broker exited {code} on SIGTERM; stderr: {err}"


@pytest.fixture(scope="session")
def real_kafka(tmp_path_factory):
    if shutil.which(os.environ.get("JAVA", "java")) is None:
        pytest.skip("no java on PATH: the real Kafka broker needs Java 17+")
    fetch = subprocess.run(["bash", str(KAFKA_SH), "fetch"], capture_output=True, text=True, timeout=900)
    if fetch.returncode != 0:
        pytest.skip(f"Kafka jars unavailable (scripts/kafka.sh fetch failed): {fetch.stderr.strip()[-500:]}")
    run_dir = tmp_path_factory.mktemp("kafka")
    start = subprocess.run(["bash", str(KAFKA_SH), "start", "--dir", str(run_dir)],
                           capture_output=True, text=True, timeout=300)
    try:
        assert start.returncode == 0, f"scripts/kafka.sh start failed: {start.stderr}"
        m = BOOTSTRAP_LINE.match(start.stdout.strip())
        assert m, f"scripts/kafka.sh start printed {start.stdout!r}, expected bootstrap.servers=127.0.0.1:PORT"
        yield m.group(1)
    finally:
        subprocess.run(["bash", str(KAFKA_SH), "stop", "--dir", str(run_dir)], capture_output=True, timeout=120)


def topic_record_count(bootstrap, topic, timeout=30):
    """Number of records in the topic: the sum over partitions of high - low watermark."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"count-{uuid.uuid4()}"})
    try:
        md = consumer.list_topics(topic, timeout=timeout)
        parts = md.topics[topic].partitions
        total = 0
        for p in parts:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
            total += high - low
        return total
    finally:
        consumer.close()


def read_topic(bootstrap, topic, expected, timeout=60):
    """All records of `topic` from the beginning as (key, value) byte pairs;
    reads until `expected` records arrived, then one more second to catch extras."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"read-{uuid.uuid4()}",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    })
    try:
        md = consumer.list_topics(topic, timeout=timeout)
        assert topic in md.topics and md.topics[topic].error is None, f"topic {topic} missing: {md.topics.get(topic)}"
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in md.topics[topic].partitions])
        records = []
        deadline = time.time() + timeout
        extra_until = None
        while time.time() < deadline:
            if len(records) >= expected and extra_until is None:
                extra_until = time.time() + 1.0
            if extra_until is not None and time.time() > extra_until:
                break
            for msg in consumer.consume(10000, 0.5):
                if msg.error():
                    raise AssertionError(f"consuming {topic}: {msg.error()}")
                records.append((msg.key(), msg.value()))
        return records
    finally:
        consumer.close()
