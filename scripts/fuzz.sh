#!/usr/bin/env bash
# Builds every libFuzzer target (tests/fuzz/*_fuzzer.cc) with clang, ASan and
# UBSan into build-fuzz and runs each for FUZZ_SECONDS (default 600). Seeds:
# tests/fuzz/corpus/<name>/ (or tests/fuzz/corpus/ files) and, for SQL
# fuzzers, the statements of tests/sql/**/*.test. New interesting inputs go to
# build-fuzz/corpus/<name>/; crashes to build-fuzz/crashes/<name>/ and fail
# the script. A dictionary tests/fuzz/<name without _fuzzer>.dict is used if present.
# Usage: scripts/fuzz.sh [fuzzer-name...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${FUZZ_BUILD:-build-fuzz}
seconds=${FUZZ_SECONDS:-600}
jobs=${FUZZ_JOBS:-2}

command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (apt-get install clang)" >&2; exit 1; }

# Instrument the libraries for coverage too (fuzzer-no-link), not just the target.
san="-fsanitize=address,undefined -fno-omit-frame-pointer"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLAKESTREAM_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link $san" -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link $san" >/dev/null

if [ $# -gt 0 ]; then
  names=("$@")
else
  names=()
  for f in tests/fuzz/*_fuzzer.cc; do
    [ -e "$f" ] || continue
    names+=("$(basename "$f" .cc)")
  done
fi
[ ${#names[@]} -gt 0 ] || { echo "fuzz: no tests/fuzz/*_fuzzer.cc targets"; exit 0; }

# The layers compile with -Werror, tuned for gcc; clang-only warnings (e.g.
# -Wunused-lambda-capture) must not stop the fuzz build, so clang gets a final
# -Wno-error (CCC_OVERRIDE_OPTIONS appends it after CMake's flags).
CCC_OVERRIDE_OPTIONS="+-Wno-error" cmake --build "$build" -j "$jobs" --target "${names[@]}" 2>&1 |
  { grep -v '^### ' || true; }

# Fuzzers are found wherever CMake put them.
find_binary() { find "$build" -type f -perm -u+x -name "$1" | head -n 1; }

failed=0
for name in "${names[@]}"; do
  bin=$(find_binary "$name")
  [ -n "$bin" ] || { echo "fuzz: $name was not built" >&2; failed=1; continue; }
  corpus="$build/corpus/$name"
  crashes="$build/crashes/$name"
  seeds="$build/seeds/$name"
  mkdir -p "$corpus" "$crashes" "$seeds"
  rm -f "$seeds"/*
  short=${name%_fuzzer}
  for d in "tests/fuzz/corpus/$short" "tests/fuzz/corpus/$name"; do
    [ -d "$d" ] && cp -f "$d"/* "$seeds"/ 2>/dev/null || true
  done
  find tests/fuzz/corpus -maxdepth 1 -type f -exec cp -f {} "$seeds"/ \; 2>/dev/null || true
  if [[ $name == sql* ]]; then
    # Each statement of the SQL logic tests (lines between a directive and a
    # blank line or ----) becomes one seed.
    n=0
    while IFS= read -r -d '' t; do
      awk -v dir="$seeds" -v base="$(basename "$t" .test)" '
        /^(statement|query)/ { inq = 1; buf = ""; next }
        /^----/ || /^$/ { if (inq && buf != "") { n++; f = dir "/" base "_" n ".sql"; printf "%s", buf > f; close(f) } inq = 0; buf = ""; next }
        inq { buf = buf $0 "\n" }
        END { if (inq && buf != "") { n++; f = dir "/" base "_" n ".sql"; printf "%s", buf > f; close(f) } }
      ' "$t"
      n=$((n + 1))
    done < <(find tests/sql -name '*.test' -print0 2>/dev/null)
  fi
  dict=()
  for d in "tests/fuzz/$short.dict" "tests/fuzz/$name.dict"; do
    [ -f "$d" ] && dict=("-dict=$root/$d")
  done
  echo "== $name: ${seconds}s, $(ls "$seeds" | wc -l) seeds"
  if ! (cd "$crashes" && ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$root/$bin" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=8192 \
        -print_final_stats=1 "$root/$corpus" "$root/$seeds"); then
    echo "!! $name found a failure: see $crashes" >&2
    failed=1
  fi
done
exit $failed
