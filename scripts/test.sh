#!/usr/bin/env bash
# Runs every test of libhttpx: Rust unit and integration tests (real nginx, httpbin,
# tinyproxy, microsocks and fault servers on 127.0.0.1), the C ABI tests under
# valgrind, the CMake examples, the header drift check, and the language bindings.
# Needs the packages that .ci/run installs.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=1
# Tests run threads in parallel on a 2-core machine; keep it sane.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-4}"

failed=0
passed=0
run() { # run NAME CMD...
  local name=$1; shift
  echo "=== [test] $name"
  if "$@"; then
    passed=$((passed + 1)); echo "=== [test] $name: ok"
  else
    failed=$((failed + 1)); echo "=== [test] $name: FAILED"
  fi
}

run "cargo build (lib, cdylib)" cargo build --locked
run "cargo test" cargo test --locked --no-fail-fast
if [ -f scripts/test_bindings.sh ]; then
  run "bindings (Go, Ruby, C++)" bash scripts/test_bindings.sh
fi
if [ -f scripts/bench.sh ]; then
  run "benchmark smoke (--quick)" bash scripts/bench.sh --quick
fi

echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
