#!/usr/bin/env bash
# Installs everything lakestream needs to build, test and benchmark, from the
# registries this project uses (Debian, PyPI). Idempotent and quiet when
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
  librdkafka-dev librocksdb-dev libroaring-dev libssl-dev libreadline-dev nlohmann-json3-dev
  zlib1g-dev
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
