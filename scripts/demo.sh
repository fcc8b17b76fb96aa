#!/usr/bin/env bash
# make demo: generates the demo data set once, then runs examples/demo.sql.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
.venv/bin/python scripts/make_demo_data.py "$build/demo-data"
sed "s|build/demo-data|$build/demo-data|g" examples/demo.sql > "$build/demo.sql"
time "$build/lakestream" sql -f "$build/demo.sql"
