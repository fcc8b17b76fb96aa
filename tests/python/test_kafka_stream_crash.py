"""Kafka -> lakestream -> Delta / Kafka, exactly once across SIGKILLs (issue 9).

Against the real Apache Kafka broker (scripts/kafka.sh), a live producer
(confluent-kafka, an independent client) keeps writing records with unique
ids while `lakestream run` streams them into a Delta table and, through a
transactional Kafka sink, into an output topic. The runner is killed with
SIGKILL at random moments (reading, writing Parquet, committing the Delta log,
writing the commit log, inside a Kafka transaction) at least 20 times. After
the producer stops, an availableNow run drains the rest; then delta-rs sees
every produced id exactly once (count and checksum) and a read_committed
consumer of the output topic does too.
"""
import json
import os
import pathlib
import random
import signal
import subprocess
import threading
import time
import uuid

import pytest

from kafka_fixtures import real_kafka  # noqa: F401

deltalake = pytest.importorskip("deltalake")
confluent_kafka = pytest.importorskip("confluent_kafka")

REPO = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get("LAKESTREAM_BIN", REPO / "build" / "lakestream"))
KILLS = int(os.environ.get("LAKESTREAM_STREAM_KILLS", "22"))


@pytest.fixture(scope="module")
def binary():
    if not BINARY.exists():
        pytest.skip(f"{BINARY} not built")
    return str(BINARY)


class Producer(threading.Thread):
    def __init__(self, bootstrap, topic):
        super().__init__(daemon=True)
        self.producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                                                  "linger.ms": 5})
        self.topic = topic
        self.sent = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            for _ in range(200):
                i = self.sent
                self.producer.produce(self.topic, key=str(i % 97), value=json.dumps({"id": i, "kind": "k%d" % (i % 5)}))
                self.sent += 1
            self.producer.poll(0)
            time.sleep(0.01)
        assert self.producer.flush(30) == 0


def create_topic(bootstrap, topic, partitions):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)]).values():
        f.result(30)


def read_committed_ids(bootstrap, topic, timeout=60):
    c = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{uuid.uuid4()}",
                                  "isolation.level": "read_committed", "enable.auto.commit": False,
                                  "auto.offset.reset": "earliest"})
    md = c.list_topics(topic, timeout=30)
    parts = md.topics[topic].partitions
    ends = {}
    for p in parts:
        _, high = c.get_watermark_offsets(confluent_kafka.TopicPartition(topic, p), timeout=30)
        ends[p] = high
    c.assign([confluent_kafka.TopicPartition(topic, p, confluent_kafka.OFFSET_BEGINNING) for p in parts])
    ids = []
    done = set()
    deadline = time.time() + timeout
    while len(done) < len(parts) and time.time() < deadline:
        for m in c.consume(5000, 0.5):
            if m.error():
                continue
            ids.append(json.loads(m.value())["id"])
        for p in parts:
            pos = c.position([confluent_kafka.TopicPartition(topic, p)])[0].offset
            # Past the last stable offset (control records included) = read everything committed.
            if pos >= ends[p] or ends[p] == 0:
                done.add(p)
    c.close()
    return ids


def test_kafka_to_delta_and_transactional_kafka_survive_sigkill(binary, real_kafka, tmp_path):  # noqa: F811
    bootstrap = real_kafka
    topic_in, topic_out = f"in-{uuid.uuid4().hex[:8]}", f"out-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic_in, 3)
    create_topic(bootstrap, topic_out, 2)
    sql = tmp_path / "pipeline.sql"
    sql.write_text(f"""
      CREATE STREAMING TABLE delta.`{tmp_path}/events` AS
        SELECT id, kind, partition, offset FROM STREAM read_kafka(
          bootstrapServers => '{bootstrap}', subscribe => '{topic_in}', startingOffsets => 'earliest',
          maxOffsetsPerTrigger => 3000, valueSchema => 'id BIGINT, kind STRING');
      CREATE STREAMING TABLE kafka.`{topic_out}`
        OPTIONS ('kafka.bootstrap.servers' = '{bootstrap}', 'kafka.transactional.id' = 'lakestream-crash-test')
        AS SELECT CAST(id % 7 AS STRING) AS key, to_json(named_struct('id', id, 'kind', kind)) AS value
        FROM STREAM delta.`{tmp_path}/events`;
    """)
    cp = tmp_path / "cp"
    producer = Producer(bootstrap, topic_in)
    producer.start()
    rng = random.Random(5)
    try:
        for _ in range(KILLS):
            proc = subprocess.Popen([binary, "run", str(sql), "--checkpoint", str(cp), "-q"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(rng.uniform(0.2, 1.2))
            if proc.poll() is not None:
                _, err = proc.communicate()
                pytest.fail(f"runner exited early ({proc.returncode}): {err.decode()[-3000:]}")
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    finally:
        producer.stop.set()
        producer.join()
    done = subprocess.run([binary, "run", str(sql), "--checkpoint", str(cp), "--trigger", "availableNow", "-q"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    n = producer.sent
    assert n > 1000

    ids = deltalake.DeltaTable(str(tmp_path / "events")).to_pyarrow_table(columns=["id"]).column("id").to_pylist()
    assert len(ids) == n, f"Delta has {len(ids)} rows for {n} produced"
    assert len(set(ids)) == n and sum(ids) == n * (n - 1) // 2

    out = read_committed_ids(bootstrap, topic_out)
    assert len(out) == n, f"output topic has {len(out)} committed records for {n} produced"
    assert len(set(out)) == n and sum(out) == n * (n - 1) // 2
