# lakestream: every entry point a user or CI needs. Each target installs what
# is missing first (scripts/install-deps.sh is idempotent and quiet).
SHELL := /bin/bash
BUILD ?= build
JOBS ?= $(shell nproc)
PY := .venv/bin/python
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
# ccache keyed on paths relative to the checkout, so every clone shares the cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all deps build test test-long test-unit test-sql test-python sanitize fuzz bench demo clean format

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt | deps
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: deps $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS) | grep -vE '^\[[0-9]+/[0-9]+\] (Building|Linking)' || true
	@test -x $(BUILD)/lakestream

# Every test: GoogleTest per layer (ctest), SQL logic tests, Python oracle tests.
test: build
	@./scripts/run-tests.sh $(BUILD)

# The long runs CI leaves out: 10M distinct keys through bounded state, and
# 50 kills instead of 22 in the streaming crash tests.
test-long: build
	@LAKESTREAM_BIN=$(BUILD)/lakestream LAKESTREAM_STATE_KEYS=10000000 LAKESTREAM_STREAM_KILLS=50 \
	  .venv/bin/python -m pytest -q tests/python/test_state_bounded.py tests/python/test_stream_crash.py \
	  tests/python/test_stream_stateful_crash.py tests/python/test_stream_join_crash.py

sanitize: deps
	@$(MAKE) --no-print-directory build BUILD=build-asan CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=Debug -DLAKESTREAM_SANITIZE=ON"
	@ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 ./scripts/run-tests.sh build-asan --no-python

fuzz: deps
	@./scripts/fuzz.sh

bench: build
	@./scripts/bench.sh $(BUILD)

demo: build
	@./scripts/demo.sh $(BUILD)

format:
	@clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) build-asan build-fuzz
