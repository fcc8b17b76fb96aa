#!/usr/bin/env bash
# Apache Flink 2.x jars for the Nexmark benchmark: a local MiniCluster running
# Flink SQL with the Kafka connector and the JSON format, no Flink
# distribution needed.
#
#   scripts/flink.sh     fetches once, prints the jar folder on stdout
#
# The jars come from Maven Central through `mvn dependency:copy-dependencies`
# of a generated pom in <repo>/.cache/flink/. The set is what a Table API
# program needs to run in-process: flink-table-api-java-bridge, the planner
# (flink-table-planner-loader) and runtime, flink-clients (MiniCluster),
# flink-connector-kafka, flink-json and a log4j2 binding. A marker file says
# the copy finished, so an interrupted fetch is redone rather than half used.
# Quiet when the jars are present; errors go to stderr. Environment:
# FLINK_VERSION (default 2.2.0), FLINK_KAFKA_VERSION (default 5.0.0-2.2, the
# connector release built for Flink 2.2).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FLINK_VERSION="${FLINK_VERSION:-2.2.0}"
FLINK_KAFKA_VERSION="${FLINK_KAFKA_VERSION:-5.0.0-2.2}"
LOG4J_VERSION="${LOG4J_VERSION:-2.24.3}"
CACHE="$REPO/.cache/flink"
JARS="$CACHE/flink-$FLINK_VERSION-kafka-$FLINK_KAFKA_VERSION"

die() { echo "flink.sh: $*" >&2; exit 1; }

if [ -f "$JARS/.complete" ]; then
  echo "$JARS"
  exit 0
fi

command -v mvn >/dev/null || die "mvn not found: needed once to fetch the Flink $FLINK_VERSION jars"
mkdir -p "$CACHE"
dep() { echo "<dependency><groupId>$1</groupId><artifactId>$2</artifactId><version>$3</version></dependency>"; }
cat >"$CACHE/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>lakestream</groupId>
  <artifactId>flink-runtime-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    $(dep org.apache.flink flink-table-api-java-bridge "$FLINK_VERSION")
    $(dep org.apache.flink flink-table-planner-loader "$FLINK_VERSION")
    $(dep org.apache.flink flink-table-runtime "$FLINK_VERSION")
    $(dep org.apache.flink flink-clients "$FLINK_VERSION")
    $(dep org.apache.flink flink-connector-base "$FLINK_VERSION")
    $(dep org.apache.flink flink-json "$FLINK_VERSION")
    $(dep org.apache.flink flink-connector-kafka "$FLINK_KAFKA_VERSION")
    $(dep org.apache.logging.log4j log4j-core "$LOG4J_VERSION")
    $(dep org.apache.logging.log4j log4j-slf4j2-impl "$LOG4J_VERSION")
  </dependencies>
</project>
POM
tmp="$JARS.tmp"
rm -rf "$tmp" "$JARS"
if ! mvn -q -B -f "$CACHE/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$CACHE/fetch.log" 2>&1; then
  tail -n 30 "$CACHE/fetch.log" >&2
  die "fetching the Flink $FLINK_VERSION / flink-connector-kafka $FLINK_KAFKA_VERSION jars with mvn failed (log: $CACHE/fetch.log)"
fi
for want in flink-table-planner-loader flink-table-runtime flink-clients flink-connector-kafka flink-json kafka-clients; do
  compgen -G "$tmp/$want-[0-9]*.jar" >/dev/null || die "mvn copied no $want jar (log: $CACHE/fetch.log)"
done
touch "$tmp/.complete"
mv "$tmp" "$JARS"
echo "$JARS"
