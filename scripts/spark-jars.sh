#!/usr/bin/env bash
# The extra jars PySpark needs for the Delta and Kafka oracle tests: Delta Lake
# (delta-spark, delta-storage) and Spark's Kafka source (spark-sql-kafka-0-10
# with kafka-clients, commons-pool2, spark-token-provider-kafka-0-10).
#
#   scripts/spark-jars.sh     fetches once, prints the jar folder on stdout
#
# The jars come from Maven Central through `mvn dependency:copy-dependencies`
# of a generated pom in <repo>/.cache/spark-jars/. Jars that pyspark already
# ships (Spark itself, Scala, Hadoop, Jackson, compression codecs, ...) are
# excluded, so the classpath has no second copy of a class at another
# version. A marker file says the copy finished, so an interrupted fetch is
# redone rather than half used. Quiet when the jars are present; errors go to
# stderr. Environment: PYTHON (the interpreter with pyspark, default
# <repo>/.venv/bin/python, then python3), DELTA_VERSION (default 4.0.0),
# SPARK_VERSION (default: pyspark's own version), TOKEN_PROVIDER_VERSION
# (default: SPARK_VERSION's x.y.0, the one Maven Central serves).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$REPO/.cache/spark-jars"
DELTA_VERSION="${DELTA_VERSION:-4.0.0}"

die() { echo "spark-jars.sh: $*" >&2; exit 1; }

PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON="$(command -v python3 || true)"
[ -n "$PYTHON" ] || die "no python found (set PYTHON to the interpreter that has pyspark)"
read -r PYSPARK_JARS PYSPARK_VERSION < <("$PYTHON" -c \
  'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"), pyspark.__version__)' \
  2>/dev/null) || die "pyspark is not importable from $PYTHON"
SPARK_VERSION="${SPARK_VERSION:-$PYSPARK_VERSION}"
JARS="$CACHE/delta-$DELTA_VERSION-spark-$SPARK_VERSION"
TOKEN_PROVIDER_VERSION="${TOKEN_PROVIDER_VERSION:-${SPARK_VERSION%.*}.0}"

if [ -f "$JARS/.complete" ]; then
  echo "$JARS"
  exit 0
fi

command -v mvn >/dev/null || die "mvn not found: needed once to fetch the Delta/Kafka jars for Spark"
mkdir -p "$CACHE"
# Everything Spark's own distribution provides is excluded at the source; the
# loop after the copy drops whatever else pyspark already has.
exclusions='<exclusions>
        <exclusion><groupId>org.apache.spark</groupId><artifactId>spark-core_2.13</artifactId></exclusion>
        <exclusion><groupId>org.apache.spark</groupId><artifactId>spark-sql_2.13</artifactId></exclusion>
        <exclusion><groupId>org.apache.spark</groupId><artifactId>spark-catalyst_2.13</artifactId></exclusion>
        <exclusion><groupId>org.apache.spark</groupId><artifactId>spark-tags_2.13</artifactId></exclusion>
        <exclusion><groupId>org.scala-lang</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.hadoop</groupId><artifactId>*</artifactId></exclusion>
      </exclusions>'
cat >"$CACHE/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>lakestream</groupId>
  <artifactId>spark-oracle-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencyManagement>
    <dependencies>
      <!-- Maven Central does not serve spark-token-provider-kafka 4.0.1; the
           4.0.0 jar is the same code (no change between the two releases). -->
      <dependency><groupId>org.apache.spark</groupId><artifactId>spark-token-provider-kafka-0-10_2.13</artifactId><version>$TOKEN_PROVIDER_VERSION</version></dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency><groupId>io.delta</groupId><artifactId>delta-spark_2.13</artifactId><version>$DELTA_VERSION</version>
      $exclusions
    </dependency>
    <dependency><groupId>io.delta</groupId><artifactId>delta-storage</artifactId><version>$DELTA_VERSION</version>
      $exclusions
    </dependency>
    <dependency><groupId>org.apache.spark</groupId><artifactId>spark-sql-kafka-0-10_2.13</artifactId><version>$SPARK_VERSION</version>
      $exclusions
    </dependency>
  </dependencies>
</project>
EOF
tmp="$JARS.tmp"
rm -rf "$tmp" "$JARS"
if ! mvn -q -B -f "$CACHE/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$CACHE/fetch.log" 2>&1; then
  tail -n 30 "$CACHE/fetch.log" >&2
  die "fetching the Delta $DELTA_VERSION / spark-sql-kafka $SPARK_VERSION jars with mvn failed (log: $CACHE/fetch.log)"
fi
# Drop every jar whose artifact (the name without its version) pyspark ships.
strip_version() { sed -E 's/-[0-9][0-9A-Za-z.+_-]*\.jar$//' <<<"$1"; }
declare -A shipped=()
for j in "$PYSPARK_JARS"/*.jar; do
  shipped["$(strip_version "$(basename "$j")")"]=1
done
for j in "$tmp"/*.jar; do
  [ -n "${shipped[$(strip_version "$(basename "$j")")]:-}" ] && rm -f "$j"
done
for want in delta-spark_2.13 delta-storage spark-sql-kafka-0-10_2.13 kafka-clients commons-pool2 \
    spark-token-provider-kafka-0-10_2.13; do
  compgen -G "$tmp/$want-[0-9]*.jar" >/dev/null || die "mvn copied no $want jar (log: $CACHE/fetch.log)"
done
touch "$tmp/.complete"
mv "$tmp" "$JARS"
echo "$JARS"
