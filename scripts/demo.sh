#!/usr/bin/env bash
# make demo: the streaming pipeline on the embedded broker.
#  1. `lakestream broker` (librdkafka's mock cluster on loopback),
#  2. `lakestream generate` produces clickstream events (1% malformed),
#  3. `lakestream run examples/clickstream.sql` streams them into Delta tables,
#     printing a progress line per second,
#  4. after DEMO_SECONDS the producer stops, the pipeline drains and stops
#     gracefully (SIGTERM), and the tables are queried.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin="$build/lakestream"
seconds=${DEMO_SECONDS:-8}
rate=${DEMO_RATE:-20000}
work="$build/demo"
rm -rf "$work"
mkdir -p "$work"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

"$bin" broker --topic clickstream --partitions 4 > "$work/broker.out" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/broker.out" ] && break; sleep 0.05; done
bootstrap=$(head -1 "$work/broker.out" | sed 's/^bootstrap.servers=//')
echo "== embedded Kafka broker at $bootstrap; producing $rate events/s for ${seconds}s"

"$bin" generate --bootstrap-servers "$bootstrap" --topic clickstream --rate "$rate" \
  --count $((rate * seconds)) -q &
producer=$!
pids+=($producer)

echo "== streaming examples/clickstream.sql into $work/lake (progress per second)"
"$bin" run examples/clickstream.sql --checkpoint "$work/checkpoint" \
  --var BOOTSTRAP="$bootstrap" --var TOPIC=clickstream --var OUT="$work/lake" &
runner=$!
pids+=($runner)
wait "$producer"
sleep 2  # let the last records land
kill -TERM "$runner"
wait "$runner"
echo "== draining what is left (availableNow)"
"$bin" run examples/clickstream.sql --checkpoint "$work/checkpoint" --trigger availableNow -q \
  --var BOOTSTRAP="$bootstrap" --var TOPIC=clickstream --var OUT="$work/lake"

echo "== the Delta tables, queried at once"
sed "s|\${OUT}|$work/lake|g" examples/clickstream_queries.sql > "$work/queries.sql"
"$bin" sql -f "$work/queries.sql"
