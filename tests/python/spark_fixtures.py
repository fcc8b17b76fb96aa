"""A session-scoped PySpark fixture with Delta Lake and Spark's Kafka source,
the oracle for lakestream's Delta tables and streams.

Import the fixture in a test module with `from spark_fixtures import spark`.
The Delta/Kafka jars are fetched lazily (once) by scripts/spark-jars.sh, so a
fresh machine needs only Java 17, Maven and pyspark. The fixture skips, with
the reason, only when Java, Maven or pyspark is missing; any other failure to
start Spark is an error. Also: `lakestream()` runs the CLI binary
(LAKESTREAM_BIN, default <repo>/build/lakestream) and `lakestream_json()`
returns a query's rows as dicts.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SPARK_JARS_SCRIPT = os.path.join(REPO, "scripts", "spark-jars.sh")


def lakestream_binary() -> str:
    return os.path.abspath(os.environ.get("LAKESTREAM_BIN",
                                          os.path.join(REPO, "build", "lakestream")))


_waited_for_binary = False  # wait once per session, then fail fast


def lakestream(*args: str, timeout: float = 180, check: bool = True) -> subprocess.CompletedProcess:
    """Runs `lakestream ARGS...`; with check, a non-zero exit fails the test
    with lakestream's stderr. A binary that is being relinked is briefly
    missing, so a missing binary is waited for (30 s) before failing."""
    global _waited_for_binary
    binary = lakestream_binary()
    for _ in range(0 if _waited_for_binary else 30):
        if os.path.exists(binary):
            break
        time.sleep(1)
    if not os.path.exists(binary):
        _waited_for_binary = True
        pytest.fail(f"lakestream binary not found: {binary} (set LAKESTREAM_BIN or make build)",
                    pytrace=False)
    proc = subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f"lakestream {' '.join(args)[:500]} exited {proc.returncode}:\n"
                    f"{proc.stderr[-3000:]}\n{proc.stdout[-1000:]}", pytrace=False)
    return proc


def lakestream_json(sql: str) -> list[dict]:
    """Rows of the last statement of `sql` (lakestream sql --format json: one
    JSON object per row, or a JSON array)."""
    out = lakestream("sql", "--format", "json", sql).stdout.strip()
    if not out:
        return []
    if out.startswith("["):
        return json.loads(out)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _java_home() -> str | None:
    if os.environ.get("JAVA_HOME") and os.path.exists(os.path.join(os.environ["JAVA_HOME"], "bin", "java")):
        return os.environ["JAVA_HOME"]
    for cand in sorted(glob.glob("/usr/lib/jvm/java-17-openjdk*")) + sorted(glob.glob("/usr/lib/jvm/*17*")):
        if os.path.exists(os.path.join(cand, "bin", "java")):
            return cand
    java = shutil.which("java")
    if java:
        return os.path.dirname(os.path.dirname(os.path.realpath(java)))
    return None


def spark_jars() -> list[str]:
    """The Delta/Kafka jar paths (fetched by scripts/spark-jars.sh on first use)."""
    proc = subprocess.run(["bash", SPARK_JARS_SCRIPT], capture_output=True, text=True,
                          timeout=900, env={**os.environ, "PYTHON": sys.executable})
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/spark-jars.sh failed:\n{proc.stderr[-3000:]}")
    folder = proc.stdout.strip().splitlines()[-1]
    jars = sorted(glob.glob(os.path.join(folder, "*.jar")))
    if not jars:
        raise RuntimeError(f"scripts/spark-jars.sh printed {folder}, which has no jars")
    return jars


def _restart_jvm_without_delta() -> None:
    """The driver's classpath is fixed when PySpark starts its JVM, so a
    session another suite made without the Delta jars (test_spark_oracle.py's
    start_spark) is stopped and its JVM ended; the next getOrCreate() then
    starts a JVM with ours."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession
    gateway = SparkContext._gateway
    if gateway is None:
        return
    sc = SparkContext._active_spark_context
    if sc is not None and "Delta" in sc.getConf().get("spark.sql.extensions", ""):
        return
    if SparkSession._instantiatedSession is not None:
        SparkSession._instantiatedSession.stop()
    elif sc is not None:
        sc.stop()
    proc = getattr(gateway, "proc", None)
    gateway.shutdown()
    if proc is not None:  # the JVM exits when its stdin closes
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    SparkContext._gateway = None
    SparkContext._jvm = None


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One local[2] SparkSession with Delta for the whole test session."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pytest.skip("pyspark is not installed (requirements-spark.txt)")
    java_home = _java_home()
    if java_home is None:
        pytest.skip("no Java runtime (Spark needs Java 17: apt-get install openjdk-17-jre-headless)")
    os.environ.setdefault("JAVA_HOME", java_home)
    if not glob.glob(os.path.join(os.path.dirname(SPARK_JARS_SCRIPT), "..", ".cache", "spark-jars",
                                  "*", ".complete")) and shutil.which("mvn") is None:
        pytest.skip("mvn not found: needed once to fetch the Delta jars for Spark (apt-get install maven)")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    _restart_jvm_without_delta()
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (SparkSession.builder.master("local[2]").appName("lakestream-delta-oracle")
               .config("spark.jars", ",".join(spark_jars()))
               .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
               .config("spark.sql.catalog.spark_catalog",
                       "org.apache.spark.sql.delta.catalog.DeltaCatalog")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "2")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.warehouse.dir", str(warehouse))
               .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse}")
               .config("spark.driver.memory", "2g")
               .config("spark.databricks.delta.snapshotPartitions", "2")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
