#!/usr/bin/env bash
# A real Apache Kafka 4.x broker for tests: one KRaft node that is both broker
# and controller, on free loopback ports, from Maven Central jars.
#
#   scripts/kafka.sh start  [--dir DIR]   prints bootstrap.servers=127.0.0.1:PORT
#   scripts/kafka.sh stop   [--dir DIR]   SIGTERM, then SIGKILL after a timeout
#   scripts/kafka.sh status [--dir DIR]   prints the bootstrap line, exit 1 if down
#   scripts/kafka.sh fetch                only fetch the jars into the cache
#
# The jars are fetched once (mvn dependency:copy-dependencies of
# org.apache.kafka:kafka_2.13 and a log4j2 binding) into
# <repo>/.cache/kafka/<version>/libs. DIR (default <repo>/.cache/kafka/run)
# holds server.properties, the log dirs, the pid file and server.log.
# Every command is idempotent; the script prints only the bootstrap line and
# errors. Environment: KAFKA_VERSION (default 4.1.1), JAVA (default java),
# KAFKA_HEAP (default -Xmx512m), KAFKA_START_TIMEOUT seconds (default 90).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
LOG4J_VERSION="${LOG4J_VERSION:-2.24.3}"
CACHE="$REPO/.cache/kafka/$KAFKA_VERSION"
LIBS="$CACHE/libs"
JAVA="${JAVA:-java}"
KAFKA_HEAP="${KAFKA_HEAP:--Xmx512m}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"

die() { echo "kafka.sh: $*" >&2; exit 1; }

cmd="${1:-}"
case "$cmd" in
  start | stop | status | fetch) shift ;;
  *) die "usage: kafka.sh start|stop|status|fetch [--dir DIR] (got '$cmd')" ;;
esac
DIR="$REPO/.cache/kafka/run"
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) [ $# -ge 2 ] || die "--dir needs a value"; DIR="$2"; shift 2 ;;
    --dir=*) DIR="${1#--dir=}"; shift ;;
    *) die "unknown argument '$1' (expected --dir DIR)" ;;
  esac
done
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
PIDFILE="$DIR/kafka.pid"
PORTFILE="$DIR/bootstrap.servers"

# Fetches kafka_2.13 and its runtime dependencies once. A marker file says the
# copy finished, so an interrupted fetch is redone rather than half used.
fetch() {
  [ -f "$LIBS/.complete" ] && return 0
  command -v mvn >/dev/null || die "mvn not found: needed once to fetch the Kafka $KAFKA_VERSION jars"
  mkdir -p "$CACHE"
  cat >"$CACHE/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>lakestream</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
  rm -rf "$LIBS"
  if ! mvn -q -B -f "$CACHE/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$LIBS" >"$CACHE/fetch.log" 2>&1; then
    tail -n 30 "$CACHE/fetch.log" >&2
    die "fetching Kafka $KAFKA_VERSION jars with mvn failed (log: $CACHE/fetch.log)"
  fi
  touch "$LIBS/.complete"
}

running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: it must be our Kafka for this DIR.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$DIR/server.properties" || return 1
  echo "$pid"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# ApiVersions v0 round trip: proves the broker answers the Kafka protocol on
# its client listener, which Kafka enables only once startup has finished.
probe() {
  python3 - "$1" <<'EOF'
import socket, struct, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
    body = struct.pack(">hhih", 18, 0, 7, -1)  # ApiVersions v0, correlation 7, null client id
    s.sendall(struct.pack(">i", len(body)) + body)
    head = s.recv(4)
    size = struct.unpack(">i", head)[0]
    data = b""
    while len(data) < size:
        chunk = s.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    corr, err = struct.unpack(">ih", data[:6])
    sys.exit(0 if corr == 7 and err == 0 else 1)
except Exception:
    sys.exit(1)
EOF
}

write_config() {
  local port="$1" cport="$2"
  cat >"$DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DIR/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=24
EOF
  cat >"$DIR/log4j2.properties" <<EOF
status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = $DIR/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
EOF
}

start() {
  local pid
  if pid="$(running_pid)"; then
    echo "bootstrap.servers=$(cat "$PORTFILE")"
    return 0
  fi
  command -v "$JAVA" >/dev/null || die "java not found (Kafka $KAFKA_VERSION needs Java 17+)"
  command -v python3 >/dev/null || die "python3 not found (used to pick free ports)"
  fetch
  local port cport
  port="$(free_port)"
  cport="$(free_port)"
  [ "$port" != "$cport" ] || cport="$(free_port)"
  # A fresh log dir each start: the ports are new, and tests want a clean broker.
  rm -rf "$DIR/data"
  write_config "$port" "$cport"
  local jvm=("$JAVA" $KAFKA_HEAP -XX:+UseG1GC -Djava.awt.headless=true
             -Dlog4j2.configurationFile="$DIR/log4j2.properties" -cp "$LIBS/*")
  local cluster_id
  # Kafka's cluster id: a uuid in URL-safe base64, as kafka-storage random-uuid
  # makes it. One that starts with '-' would be read as an option by the
  # format tool's argument parser (1 start in 64 failed), so draw again.
  cluster_id="$(python3 -c '
import base64, uuid
while True:
    c = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not c.startswith("-"):
        print(c)
        break
')"
  if ! "${jvm[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$DIR/server.properties" \
      >"$DIR/format.log" 2>&1; then
    cat "$DIR/format.log" >&2
    die "formatting the KRaft log dir $DIR/data failed"
  fi
  nohup "${jvm[@]}" kafka.Kafka "$DIR/server.properties" >"$DIR/stdout.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PIDFILE"
  echo "127.0.0.1:$port" >"$PORTFILE"
  local deadline=$((SECONDS + START_TIMEOUT))
  until probe "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$DIR/stdout.log" "$DIR/server.log" >&2 2>/dev/null || true
      rm -f "$PIDFILE"
      die "Kafka exited during startup (logs in $DIR)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      stop_pid "$pid"
      die "Kafka did not answer on 127.0.0.1:$port within ${START_TIMEOUT}s (logs in $DIR)"
    fi
    sleep 0.3
  done
  echo "bootstrap.servers=127.0.0.1:$port"
}

stop_pid() {
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$PIDFILE"
}

stop() {
  local pid
  if pid="$(running_pid)"; then
    stop_pid "$pid"
  fi
  rm -f "$PIDFILE"
}

status() {
  if running_pid >/dev/null && probe "$(cut -d: -f2 "$PORTFILE")"; then
    echo "bootstrap.servers=$(cat "$PORTFILE")"
    return 0
  fi
  echo "kafka.sh: not running (dir $DIR)" >&2
  return 1
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  fetch) fetch ;;
esac
