#!/usr/bin/env bash
# Runs the benchmarks against the build in $1 (default build), each side by
# side with its peers in the same run; results land in bench/results/ and in
# BENCHMARKS.md. $BENCHES picks a subset (default: all of them, in order):
#   sql      bench/bench_sql.py      batch SQL vs DuckDB (and Spark with --spark)
#   delta    bench/bench_delta.py    Delta write/scan vs delta-rs and DuckDB
#   stream   bench/bench_stream.py   Kafka -> Delta vs Spark and a bare consumer
#   stateful bench/bench_stateful.py windowed count, join, state commit vs Spark
#   nexmark  bench/bench_nexmark.py  Nexmark q0-q8 vs Spark and Flink
# $BENCH_ARGS (e.g. `make bench BENCHES=stream BENCH_ARGS=--quick`) is passed
# to every selected script.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
benches=${BENCHES:-sql delta stream stateful nexmark}
for b in $benches; do
  script=bench/bench_$b.py
  if [[ ! -f $script ]]; then
    echo "bench: no $script, skipped" >&2
    continue
  fi
  echo "== bench $b" >&2
  # shellcheck disable=SC2086  # BENCH_ARGS is a list of words
  .venv/bin/python "$script" --binary "$build/lakestream" ${BENCH_ARGS:-} "$@"
done
