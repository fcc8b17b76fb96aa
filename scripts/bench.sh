#!/usr/bin/env bash
# Runs the benchmarks against the build in $1 (default build): the SQL batch
# benchmark side by side with DuckDB (bench/bench_sql.py). Extra arguments, or
# $BENCH_ARGS (`make bench BENCH_ARGS=--spark`), go to bench_sql.py, e.g.
# --spark (Spark local beside them), --rows 1000000, -k join, --repeat 5.
# Results land in bench/results/ and the SQL section of BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
# shellcheck disable=SC2086  # BENCH_ARGS is a list of words
exec .venv/bin/python bench/bench_sql.py --binary "$build/lakestream" ${BENCH_ARGS:-} "$@"
