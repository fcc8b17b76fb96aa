#!/usr/bin/env bash
# Installs everything lakestream needs to build, test and benchmark, from the
# registries this project uses (Debian, PyPI, crates.io). Idempotent and quiet when
# nothing is missing: every step first checks whether its work is done.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

log() { echo "[install-deps] $*" >&2; }

# --- Debian packages -------------------------------------------------------
apt_packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  libre2-dev libfmt-dev libsimdjson-dev libcli11-dev libxxhash-dev libicu-dev
  librocksdb-dev libroaring-dev libssl-dev libreadline-dev nlohmann-json3-dev
  zlib1g-dev liblz4-dev libzstd-dev libsasl2-dev libcurl4-openssl-dev
  clang libclang-rt-14-dev
  openjdk-17-jre-headless maven
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python virtualenv -----------------------------------------------------
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
  log "creating $venv"
  python3 -m venv "$venv"
fi
# The stamp holds a hash of the requirement files so a changed pin reinstalls.
want=$(cat requirements.txt requirements-spark.txt | sha256sum | cut -c1-16)
stamp="$venv/.lakestream-reqs"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "pip: installing requirements"
  "$venv/bin/pip" install -q --disable-pip-version-check -r requirements.txt -r requirements-spark.txt
  echo "$want" >"$stamp"
fi

# --- librdkafka ---------------------------------------------------------------
# Built from the source that the rdkafka-sys crate ships (crates.io), because
# Debian 12's librdkafka 2.0.2 backs off a whole second whenever a partition's
# prefetch queue is full (fetch.queue.backoff.ms arrived in 2.1), so a bounded
# queue stalls the reader and an unbounded one holds the whole topic in memory
# (1.5 GB for a 5M-event drain). Pinned; installed under .deps/, which CMake
# searches first.
rdk_crate_version=4.10.0+2.12.1
rdk_prefix="$root/.deps/librdkafka"
if [ "$(cat "$rdk_prefix/.version" 2>/dev/null)" != "$rdk_crate_version" ]; then
  log "librdkafka: building ${rdk_crate_version#*+} from crates.io rdkafka-sys $rdk_crate_version"
  work="$root/.deps/librdkafka-build"
  rm -rf "$work" "$rdk_prefix"
  mkdir -p "$work/fetch/src"
  printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nrdkafka-sys = { version = "=%s", default-features = false }\n' \
    "$rdk_crate_version" >"$work/fetch/Cargo.toml"
  echo 'fn main() {}' >"$work/fetch/src/main.rs"
  (cd "$work/fetch" && cargo fetch -q)
  src=$(cd "$work/fetch" && cargo metadata -q --format-version 1 |
    python3 -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"] == "rdkafka-sys"))')
  src="$(dirname "$src")/librdkafka"
  cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$rdk_prefix" \
    -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DRDKAFKA_BUILD_EXAMPLES=OFF -DRDKAFKA_BUILD_TESTS=OFF -DWITH_SSL=ON -DWITH_SASL=ON -DWITH_ZSTD=ON \
    -DWITH_ZLIB=ON -DWITH_CURL=ON -DENABLE_LZ4_EXT=ON >"$work/cmake.log" 2>&1 ||
    { cat "$work/cmake.log" >&2; exit 1; }
  ninja -C "$work/build" install >"$work/build.log" 2>&1 || { tail -50 "$work/build.log" >&2; exit 1; }
  echo "$rdk_crate_version" >"$rdk_prefix/.version"
  rm -rf "$work"
fi
