"""Broker faults under lakestream's Kafka -> Delta streaming (issue 9, "Broker faults").

1. A real Kafka broker (scripts/kafka.sh) stopped and started again with the
   same data and port while `lakestream run` streams from it: the query rides
   through (or stops with a clear error and resumes from its checkpoint), and
   the Delta table ends with every record exactly once.
2. An unreachable bootstrap server at query start: the run fails within the
   configured timeouts (kafkaConsumer.pollTimeoutMs, fetchOffset.*) with an
   error naming the servers, rather than hanging.
3. Offsets removed under the query (AdminClient.delete_records past the
   checkpointed offset): failOnDataLoss=true (the default) stops with an error
   naming topic, partition and offsets; failOnDataLoss=false skips the lost
   offsets, reads the rest and reports dataLossOffsets in its progress.
4. The mock broker (`lakestream broker`) SIGKILLed mid-stream: the query fails
   rather than hangs, and its checkpoint stays usable: pointed at a new broker
   with an empty topic it reports the offsets reset (failOnDataLoss) rather
   than crashing, and with failOnDataLoss=false it continues from the new
   topic's start.

Request errors and latency injected into the mock cluster are covered by the
C++ tests (tests/kafka/kafka_source_test.cc), since `lakestream broker` has no
fault-injection flags.

scripts/kafka.sh start always wipes the data dir and picks new ports, so the
restart in test 1 relaunches the JVM itself from the same server.properties
(same log dirs, same ports) and writes the pid file kafka.sh stop/status use.
"""
import glob
import json
import os
import pathlib
import signal
import socket
import subprocess
import time
import uuid

import pytest

from kafka_fixtures import KAFKA_SH, lakestream_bin, start_broker  # noqa: F401

deltalake = pytest.importorskip("deltalake")
confluent_kafka = pytest.importorskip("confluent_kafka")

REPO = pathlib.Path(__file__).resolve().parents[2]
KAFKA_VERSION = os.environ.get("KAFKA_VERSION", "4.1.1")
KAFKA_LIBS = REPO / ".cache" / "kafka" / KAFKA_VERSION / "libs"
JAVA = os.environ.get("JAVA", "java")

# Short timeouts so a dead broker surfaces in seconds, not minutes.
FAST_FAIL = ("`kafkaConsumer.pollTimeoutMs` => 3000, `fetchOffset.numRetries` => 1, "
             "`fetchOffset.retryIntervalMs` => 200")


# ---------------------------------------------------------------- a restartable real broker

class RestartableKafka:
    """One scripts/kafka.sh broker in its own dir that can be stopped and
    started again with its data and ports."""

    def __init__(self, run_dir):
        self.dir = pathlib.Path(run_dir)
        self.bootstrap = None

    def _sh(self, cmd, timeout=300):
        return subprocess.run(["bash", str(KAFKA_SH), cmd, "--dir", str(self.dir)], capture_output=True, text=True,
                              timeout=timeout)

    def start_fresh(self):
        r = self._sh("start")
        assert r.returncode == 0, f"scripts/kafka.sh start failed: {r.stderr}"
        self.bootstrap = r.stdout.strip().split("=", 1)[1]
        return self.bootstrap

    def kill(self):
        """SIGKILL the broker (the process kafka.sh or restart_same started, by its pid)."""
        pid = int((self.dir / "kafka.pid").read_text().strip())
        os.kill(pid, signal.SIGKILL)
        deadline = time.time() + 30
        while time.time() < deadline and pathlib.Path(f"/proc/{pid}").exists():
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our child after restart_same
                    break
            except ChildProcessError:
                pass
            time.sleep(0.1)
        assert self._sh("status").returncode != 0, "the broker still answers after SIGKILL"

    def stop(self):
        r = self._sh("stop", timeout=120)
        assert r.returncode == 0, f"scripts/kafka.sh stop failed: {r.stderr}"
        assert self._sh("status").returncode != 0, "the broker still answers after kafka.sh stop"

    def restart_same(self, timeout=90):
        """Starts the JVM again on the same server.properties: same data, same ports."""
        props = self.dir / "server.properties"
        cmd = [JAVA, "-Xmx512m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
               f"-Dlog4j2.configurationFile={self.dir / 'log4j2.properties'}", "-cp", f"{KAFKA_LIBS}/*",
               "kafka.Kafka", str(props)]
        with open(self.dir / "stdout-restart.log", "w") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        (self.dir / "kafka.pid").write_text(f"{proc.pid}\n")
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self._sh("status", timeout=30)
            if r.returncode == 0:
                assert r.stdout.strip() == f"bootstrap.servers={self.bootstrap}", r.stdout
                return
            assert proc.poll() is None, f"restarted Kafka exited {proc.returncode}; see {self.dir}/stdout-restart.log"
            time.sleep(0.5)
        raise AssertionError(f"restarted Kafka did not answer within {timeout}s (logs in {self.dir})")


@pytest.fixture(scope="module")
def restartable_kafka(tmp_path_factory):
    import shutil
    if shutil.which(JAVA) is None:
        pytest.skip("no java on PATH: the real Kafka broker needs Java 17+")
    fetch = subprocess.run(["bash", str(KAFKA_SH), "fetch"], capture_output=True, text=True, timeout=900)
    if fetch.returncode != 0 or not (KAFKA_LIBS / ".complete").exists():
        pytest.skip(f"Kafka jars unavailable: {fetch.stderr.strip()[-300:]}")
    kafka = RestartableKafka(tmp_path_factory.mktemp("kafka-faults"))
    kafka.start_fresh()
    try:
        yield kafka
    finally:
        subprocess.run(["bash", str(KAFKA_SH), "stop", "--dir", str(kafka.dir)], capture_output=True, timeout=120)


# ---------------------------------------------------------------- helpers

def create_topic(bootstrap, topic, partitions):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)]).values():
        f.result(30)


def produce(bootstrap, topic, ids, partition=None):
    p = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
    for i in ids:
        kwargs = {} if partition is None else {"partition": partition}
        p.produce(topic, key=str(i % 13), value=json.dumps({"id": i, "kind": f"k{i % 3}"}), **kwargs)
        p.poll(0)
    assert p.flush(60) == 0, "producer could not deliver every record"


def write_pipeline(path, out, bootstrap, topic, extra=""):
    extra = f", {extra}" if extra else ""
    path.write_text(f"""
      CREATE STREAMING TABLE delta.`{out}` AS
        SELECT id, kind FROM STREAM read_kafka(
          bootstrapServers => '{bootstrap}', subscribe => '{topic}', startingOffsets => 'earliest',
          maxOffsetsPerTrigger => 2000, valueSchema => 'id BIGINT, kind STRING'{extra});
    """)
    return path


def run(binary, sql, cp, trigger="availableNow", timeout=120):
    """Runs the pipeline to completion; a TimeoutExpired is a hang."""
    args = [binary, "run", str(sql), "--checkpoint", str(cp), "-q"]
    if trigger:
        args += ["--trigger", trigger]
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"`lakestream run --trigger {trigger}` hung for {timeout}s; stderr: {e.stderr!r}")


def table_ids(path):
    if not (pathlib.Path(path) / "_delta_log").exists():
        return []
    t = deltalake.DeltaTable(str(path)).to_pyarrow_table(columns=["id"])
    return t.column("id").to_pylist()


def wait_for_rows(path, n, proc, timeout):
    """Waits until the table holds >= n rows; returns the ids (stops early when proc exits)."""
    deadline = time.time() + timeout
    ids = []
    while time.time() < deadline:
        try:
            ids = table_ids(path)
        except Exception:  # a commit in flight; read again
            ids = []
        if len(ids) >= n or (proc is not None and proc.poll() is not None):
            return ids
        time.sleep(0.3)
    return ids


def stop_runner(proc, timeout=60):
    """SIGTERM (graceful, after the current batch); returns (code, stderr)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"`lakestream run` ignored SIGTERM for {timeout}s; stderr: {err[-2000:]}")
    return proc.returncode, err


def assert_exactly(ids, expected):
    dups = len(ids) - len(set(ids))
    missing = sorted(set(expected) - set(ids))
    extra = sorted(set(ids) - set(expected))
    assert dups == 0 and not missing and not extra, (
        f"{len(ids)} rows: {dups} duplicates, {len(missing)} missing (first {missing[:10]}), "
        f"{len(extra)} unexpected (first {extra[:10]})")


def progress_records(cp):
    out = []
    for f in glob.glob(f"{cp}/**/progress.jsonl", recursive=True):
        with open(f) as fh:
            out += [json.loads(line) for line in fh if line.strip()]
    return out


def checkpoint_state(cp):
    """The newest offsets and commits entries of every checkpoint under `cp`, for failure messages."""
    out = {}
    for log_dir in ("offsets", "commits"):
        for d in glob.glob(f"{cp}/**/{log_dir}", recursive=True):
            names = sorted((n for n in os.listdir(d) if n.isdigit()), key=int)
            if names:
                out[f"{os.path.relpath(d, cp)}/{names[-1]}"] = pathlib.Path(d, names[-1]).read_text()[-400:]
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def assert_clean_failure(proc_result, *needles):
    """A non-zero exit by error (not a signal/abort), with stderr naming each needle."""
    code, err = proc_result.returncode, proc_result.stderr
    assert code not in (0,), f"expected a failure, got exit 0; stderr: {err[-2000:]}"
    assert code > 0 and code not in (134, 136, 139), f"crashed (exit {code}); stderr: {err[-3000:]}"
    for n in needles:
        assert n.lower() in err.lower(), f"stderr does not name {n!r}: {err[-3000:]}"


# ---------------------------------------------------------------- 1. real broker restarted mid-stream

# Default options, under which the outage may stop the query (it must then
# say so and resume from its checkpoint); and a retry budget of 60 s for the
# offset look-ups (fetchOffset.*, 300 x 1 s), far longer than the outage, under which the
# query must ride through.
RETRY_BUDGET = "`fetchOffset.numRetries` => 300, `fetchOffset.retryIntervalMs` => 1000"


# The graceful (SIGTERM) restart runs first: against a broker restarted before,
# the stall it exposes shows less often.
@pytest.mark.parametrize("options,how", [(RETRY_BUDGET, "sigterm"), ("", "sigkill")],
                         ids=["sigterm_retry_budget_exceeds_outage", "sigkill_default_options"])
def test_real_broker_restart_mid_stream_loses_and_duplicates_nothing(lakestream_bin, restartable_kafka, tmp_path,
                                                                     options, how):
    kafka = restartable_kafka
    bootstrap = kafka.bootstrap
    topic = f"restart-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, 3)
    n1, n2 = 5000, 5000
    produce(bootstrap, topic, range(n1))
    out, cp = tmp_path / "out", tmp_path / "cp"
    sql = write_pipeline(tmp_path / "p.sql", out, bootstrap, topic, options)
    log = open(tmp_path / "runner.stderr", "w+")
    proc = subprocess.Popen([lakestream_bin, "run", str(sql), "--checkpoint", str(cp), "-q"],
                            stdout=subprocess.DEVNULL, stderr=log, text=True)
    try:
        ids = wait_for_rows(out, n1, proc, 60)
        assert proc.poll() is None, f"runner exited {proc.returncode} before the fault: {open(log.name).read()[-2000:]}"
        assert len(ids) >= n1, f"only {len(ids)} of {n1} rows after 60 s"

        down = time.time()
        kafka.kill() if how == "sigkill" else kafka.stop()
        time.sleep(5)  # the query polls a dead broker
        kafka.restart_same()
        print(f"broker down for {time.time() - down:.1f}s")
        produce(bootstrap, topic, range(n1, n1 + n2))

        ids = wait_for_rows(out, n1 + n2, proc, 45)  # the broker answers again: seconds are enough
        rode_through = proc.poll() is None
        if options and not rode_through:
            log.seek(0)
            pytest.fail(f"with a {RETRY_BUDGET!r} retry budget the query stopped (exit {proc.returncode}) during a "
                        f"broker restart shorter than that budget: {log.read().strip()[-1500:]}")
        if rode_through:
            if len(ids) < n1 + n2:
                if os.environ.get("KAFKA_FAULTS_GDB"):  # diagnosis: where the runner waits
                    bt = subprocess.run(["gdb", "-batch", "-p", str(proc.pid), "-ex", "thread apply all bt 25"],
                                        capture_output=True, text=True, timeout=120)
                    (tmp_path / "stuck-backtrace.txt").write_text(bt.stdout)
                log.seek(0)
                pytest.fail(f"the query is still running but its table has only {len(ids)} of {n1 + n2} rows 45 s "
                            f"after the broker came back; checkpoint: {checkpoint_state(cp)}; stderr: {log.read().strip()[-1500:]}")
            code, _ = stop_runner(proc)
            log.seek(0)
            err = log.read()
            assert code == 0, f"runner exited {code} on SIGTERM after the restart; stderr: {err[-3000:]}"
        else:
            log.seek(0)
            err = log.read()
            assert proc.returncode > 0, f"runner died by signal {proc.returncode}; stderr: {err[-3000:]}"
            assert any(w in err.lower() for w in ("kafka", "broker", "timed out", "timeout")), (
                f"runner exited {proc.returncode} without a clear Kafka error: {err[-3000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    # Drain what is left (resumes from the checkpoint when the query stopped).
    r = run(lakestream_bin, sql, cp)
    assert r.returncode == 0, f"availableNow run after the restart failed ({r.returncode}): {r.stderr[-3000:]}"
    assert_exactly(table_ids(out), range(n1 + n2))
    print("rode through the restart" if rode_through else f"stopped, then resumed from the checkpoint: {err.strip()[-500:]}")


# ---------------------------------------------------------------- 2. unreachable broker at start

def test_unreachable_bootstrap_fails_within_timeout_naming_servers(lakestream_bin, tmp_path):
    bootstrap = f"127.0.0.1:{free_port()}"  # nothing listens there
    sql = write_pipeline(tmp_path / "p.sql", tmp_path / "out", bootstrap, "t", FAST_FAIL)
    start = time.time()
    r = run(lakestream_bin, sql, tmp_path / "cp", trigger=None, timeout=60)
    elapsed = time.time() - start
    assert_clean_failure(r, "kafka")
    # librdkafka's log lines name the address; the error itself must too, so a
    # user reading only the final message knows which servers were unreachable.
    final = [line for line in r.stderr.splitlines() if line.startswith("Error:")]
    assert final and bootstrap in final[-1], f"the final error does not name {bootstrap}: {final or r.stderr[-2000:]}"
    assert not (tmp_path / "out" / "_delta_log").exists() or table_ids(tmp_path / "out") == []
    print(f"failed after {elapsed:.1f}s: {r.stderr.strip()[-300:]}")


# ---------------------------------------------------------------- 3. offsets deleted under the query

def test_deleted_records_fail_on_data_loss_or_are_skipped_and_reported(lakestream_bin, restartable_kafka, tmp_path):
    from confluent_kafka.admin import AdminClient
    if not hasattr(AdminClient, "delete_records"):
        pytest.skip("confluent_kafka has no AdminClient.delete_records")
    bootstrap = restartable_kafka.bootstrap
    topic = f"loss-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, 1)
    produce(bootstrap, topic, range(100), partition=0)
    out, cp = tmp_path / "out", tmp_path / "cp"
    sql = write_pipeline(tmp_path / "p.sql", out, bootstrap, topic)
    r = run(lakestream_bin, sql, cp)
    assert r.returncode == 0, r.stderr[-3000:]
    assert_exactly(table_ids(out), range(100))

    # Offsets 100..199 arrive, then 100..149 are deleted before the query reads them.
    produce(bootstrap, topic, range(100, 200), partition=0)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    tp = confluent_kafka.TopicPartition(topic, 0, 150)
    for f in admin.delete_records([tp]).values():
        f.result(30)
    low, high = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "wm"}).get_watermark_offsets(
        confluent_kafka.TopicPartition(topic, 0), timeout=30)
    assert (low, high) == (150, 200)

    r = run(lakestream_bin, sql, cp)
    assert_clean_failure(r, topic, "partition 0", "100", "150", "failOnDataLoss")
    print("deleted records:", [line for line in r.stderr.splitlines() if line.startswith("Error:")])
    assert_exactly(table_ids(out), range(100))  # nothing written past the loss

    sql_skip = write_pipeline(tmp_path / "skip.sql", out, bootstrap, topic, "failOnDataLoss => 'false'")
    r = run(lakestream_bin, sql_skip, cp)
    assert r.returncode == 0, f"failOnDataLoss=false run failed ({r.returncode}): {r.stderr[-3000:]}"
    assert_exactly(table_ids(out), list(range(100)) + list(range(150, 200)))
    lost = [int(s.get("metrics", {}).get("dataLossOffsets", 0)) for p in progress_records(cp)
            for s in p.get("sources", [])]
    assert sum(lost) == 50, f"progress reports {sum(lost)} lost offsets, expected 50: {progress_records(cp)[-3:]}"


# ---------------------------------------------------------------- 4. mock broker SIGKILLed mid-stream

def test_mock_broker_sigkill_fails_cleanly_and_checkpoint_survives(lakestream_bin, tmp_path):
    topic = "events"
    broker = start_broker(lakestream_bin, "--topic", topic, "--partitions", "2")
    n = 3000
    out, cp = tmp_path / "out", tmp_path / "cp"
    proc = None
    try:
        produce(broker.bootstrap, topic, range(n))
        sql = write_pipeline(tmp_path / "p.sql", out, broker.bootstrap, topic, FAST_FAIL)
        proc = subprocess.Popen([lakestream_bin, "run", str(sql), "--checkpoint", str(cp), "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        ids = wait_for_rows(out, n, proc, 60)
        assert proc.poll() is None, f"runner exited {proc.returncode} early: {proc.stderr.read()[-2000:]}"
        assert len(ids) == n, f"{len(ids)} of {n} rows before the kill"
        broker.proc.kill()  # SIGKILL: the mock's records are gone with it
        broker.proc.wait()
        try:
            _, err = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            try:
                _, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            pytest.fail(f"the query did not stop within 90 s of its broker's SIGKILL (pollTimeoutMs=3000, "
                        f"fetchOffset.numRetries=1); after SIGTERM it exited {proc.returncode}; stderr: {err[-2000:]}")
        assert proc.returncode > 0, f"runner exited {proc.returncode} after the broker died; stderr: {err[-3000:]}"
        assert "kafka" in err.lower(), f"the error does not say Kafka failed: {err[-3000:]}"
        print("after the SIGKILL:", [line for line in err.splitlines() if line.startswith("Error:")])
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        broker.stop()
    assert_exactly(table_ids(out), range(n))

    # The same checkpoint against a new, empty broker: its offsets are ahead of the topic.
    fresh = start_broker(lakestream_bin, "--topic", topic, "--partitions", "2")
    try:
        sql = write_pipeline(tmp_path / "p2.sql", out, fresh.bootstrap, topic, FAST_FAIL)
        r = run(lakestream_bin, sql, cp, timeout=90)
        assert_clean_failure(r, topic, "partition", "failOnDataLoss")
        print("offsets ahead of the new topic:", [line for line in r.stderr.splitlines() if line.startswith("Error:")])
        assert_exactly(table_ids(out), range(n))

        # failOnDataLoss=false: the query accepts the reset and reads the new topic from its start.
        sql = write_pipeline(tmp_path / "p3.sql", out, fresh.bootstrap, topic,
                             FAST_FAIL + ", failOnDataLoss => 'false'")
        r = run(lakestream_bin, sql, cp, timeout=90)
        assert r.returncode == 0, f"failOnDataLoss=false over the reset topic failed: {r.stderr[-3000:]}"
        produce(fresh.bootstrap, topic, range(n, n + 500))
        r = run(lakestream_bin, sql, cp, timeout=90)
        assert r.returncode == 0, f"reading the new topic failed: {r.stderr[-3000:]}"
        assert_exactly(table_ids(out), range(n + 500))
    finally:
        fresh.stop()
