#!/usr/bin/env bash
# Runs every test against the build in $1: GoogleTest per layer through ctest,
# the SQL logic tests, and (unless --no-python) the pytest suites that compare
# with Spark, DuckDB and delta-rs. Prints one closing line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
python_tests=1
[ "${2:-}" = "--no-python" ] && python_tests=0

passed=0 failed=0
run() {  # name, command...
  local name=$1; shift
  echo "== $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "!! $name FAILED"; fi
}

run "unit tests (ctest)" ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
if [ -x "$build/lakestream" ] && [ -d tests/sql ] && [ -f tests/sqllogic/run.py ]; then
  run "sql logic tests" .venv/bin/python tests/sqllogic/run.py -q --binary "$build/lakestream" --known-failures tests/sql/known_failures.txt tests/sql
fi
if ((python_tests)) && [ -d tests/python ] && ls tests/python/test_*.py >/dev/null 2>&1; then
  run "python tests (pytest)" env LAKESTREAM_BIN="$build/lakestream" .venv/bin/python -m pytest -q tests/python
fi
echo "$passed passed, $failed failed"
((failed == 0))
